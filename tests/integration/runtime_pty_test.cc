// osb-agent's PTY sessions (COMPAT.md §2.9) through osb-runtime's proxy, as a terminal client
// uses them: POST /pty, the WebSocket at /pty/{id}/ws (terminal and pipe modes, stdin as binary
// and JSON frames, resize, signals, exit), one client at a time with takeover and replay, GET and
// DELETE /pty/{id}, and the errors before and after the upgrade.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/common/websocket.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/runtime_fixture.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;
using websocket::Message;
using websocket::Opcode;

constexpr char kStdin = 0x00;
constexpr char kStdout = 0x01;
constexpr char kStderr = 0x02;
constexpr char kReplay = 0x03;

// A WebSocket client of one PTY session, through the runtime's proxy.
class PtySocket {
 public:
  // GET /pty/{id}/ws?{query} with a WebSocket handshake (or, with `upgrade` false, without one).
  // The answer's head goes to `head` and an error answer's body to `body`; the socket is there to
  // use when the head says 101.
  PtySocket(const SandboxHandle& sandbox, const std::string& id, const std::string& query,
            bool upgrade = true) {
    auto [host, port] = SplitHostPort(sandbox.proxy_host);
    connection_ = std::make_unique<RawConnection>(host, port);
    std::string request = absl::StrCat("GET ", sandbox.proxy_path, "/pty/", id, "/ws",
                                       query.empty() ? "" : "?", query, " HTTP/1.1\r\nHost: ",
                                       sandbox.proxy_host,
                                       "\r\nX-EXECD-ACCESS-TOKEN: ", sandbox.token, "\r\n");
    if (upgrade) {
      absl::StrAppend(&request, "Upgrade: websocket\r\nConnection: Upgrade\r\n",
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                      "Sec-WebSocket-Version: 13\r\n");
    }
    connection_->Send(request + "\r\n");
    head = connection_->ReadResponseHead(&body);
  }

  bool upgraded() const { return absl::StartsWith(head, "HTTP/1.1 101"); }

  void SendFrame(Opcode opcode, std::string_view payload) {
    connection_->Send(websocket::Frame(opcode, payload, 0x5A17C0DE));
  }
  void SendStdin(std::string_view bytes) {
    SendFrame(Opcode::kBinary, std::string(1, kStdin) + std::string(bytes));
  }
  void SendJson(const json& frame) { SendFrame(Opcode::kText, frame.dump()); }
  void SendRaw(const std::string& bytes) { connection_->Send(bytes); }

  // The next message; nullopt when the connection ends (or nothing comes for 10 s).
  std::optional<Message> Next() {
    for (;;) {
      auto message = reader_.Next();
      if (!message.ok()) {
        ADD_FAILURE() << "the server broke the protocol: " << message.status();
        return std::nullopt;
      }
      if (message->has_value()) return **message;
      std::string bytes = connection_->ReadSome();
      if (bytes.empty()) return std::nullopt;
      reader_.Append(bytes);
    }
  }

  // The next message that is not output (a shell's prompt may come any time).
  std::optional<Message> NextNotOutput() {
    for (;;) {
      auto message = Next();
      if (!message.has_value() || message->opcode != Opcode::kBinary) return message;
    }
  }

  // The next message but output as a JSON object; an empty one when it is not that.
  json NextJson() {
    auto message = NextNotOutput();
    if (!message.has_value() || message->opcode != Opcode::kText) return json::object();
    json frame = ParseJson(message->payload);
    return frame.is_object() ? frame : json::object();
  }

  // Reads binary output until the bytes of `channel` contain `needle`; returns them all. Other
  // messages are kept in `others`.
  std::string OutputUntil(const std::string& needle, char channel = kStdout) {
    std::string seen;
    while (!absl::StrContains(seen, needle)) {
      auto message = Next();
      if (!message.has_value()) break;
      if (message->opcode == Opcode::kBinary && !message->payload.empty() &&
          message->payload[0] == channel) {
        seen += message->payload.substr(1);
      } else {
        others.push_back(*message);
      }
    }
    return seen;
  }

  // Reads until the exit frame; its exit_code, or -1000 when the connection ended without one.
  // The messages before it are kept in `others`.
  int ExitCode() {
    while (auto message = Next()) {
      if (message->opcode == Opcode::kText) {
        json frame = ParseJson(message->payload);
        if (frame.value("type", "") == "exit") return frame.value("exit_code", -999);
      }
      others.push_back(*message);
    }
    return -1000;
  }

  std::string head;
  std::string body;
  std::vector<Message> others;

 private:
  std::unique_ptr<RawConnection> connection_;
  websocket::MessageReader reader_{/*from_client=*/false, 8 << 20};
};

class Pty : public RuntimeSandboxTest {
 protected:
  // POST /pty with `body`; the session id ("" with a failure recorded when refused).
  std::string CreateSession(const json& body = json::object()) {
    auto res = agent_->Post("/pty", body.dump());
    if (!res || res->status != 201) {
      ADD_FAILURE() << "POST /pty: " << (res ? res->body : "no answer");
      return "";
    }
    return ParseJson(res->body).value("session_id", "");
  }

  // GET /pty/{id}'s JSON object; an empty one without an answer.
  json Status(const std::string& id) {
    auto res = agent_->Get("/pty/" + id);
    json status = res ? ParseJson(res->body) : json();
    return status.is_object() ? status : json::object();
  }
};

TEST_F(Pty, AShellInATerminalRunsWhatItIsTypedAndReportsItsExit) {
  const std::string id = CreateSession();
  ASSERT_FALSE(id.empty());
  json status = Status(id);
  EXPECT_EQ(status, json({{"session_id", id}, {"running", false}, {"output_offset", 0}}));

  PtySocket ws(sandbox_, id, "");
  ASSERT_TRUE(ws.upgraded()) << ws.head << ws.body;
  EXPECT_THAT(ws.head, HasSubstr("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  EXPECT_EQ(ws.NextJson(), json({{"type", "connected"}, {"session_id", id}, {"mode", "pty"}}));
  EXPECT_TRUE(Status(id).value("running", false));

  ws.SendStdin("tty; echo answer=$((6 * 7))\n");  // binary stdin
  std::string output = ws.OutputUntil("answer=42");
  EXPECT_THAT(output, HasSubstr("/dev/pts/")) << "the shell's stdin is a terminal";
  ws.SendJson({{"type", "stdin"}, {"data", "exit 3\n"}});  // JSON stdin
  EXPECT_EQ(ws.ExitCode(), 3);
  auto close = ws.Next();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->payload, std::string("\x03\xE8", 2) + "process exited");
  EXPECT_FALSE(ws.Next().has_value()) << "the close ends the connection";

  status = Status(id);
  EXPECT_FALSE(status.value("running", true));
  EXPECT_GT(status.value("output_offset", 0), 10);
}

TEST_F(Pty, PipeModeKeepsStderrApartAndStartsInTheCwdItMakes) {
  const std::string id = CreateSession(
      {{"cwd", "/tmp/pty/new/dir"},
       {"command", "pwd; echo to-stderr >&2; read line; echo got \"$line\"; exit 5"}});
  ASSERT_FALSE(id.empty());
  PtySocket ws(sandbox_, id, "pty=0");
  ASSERT_TRUE(ws.upgraded()) << ws.head << ws.body;
  EXPECT_EQ(ws.NextJson().value("mode", ""), "pipe");
  EXPECT_THAT(ws.OutputUntil("/tmp/pty/new/dir\n"), HasSubstr("/tmp/pty/new/dir"));
  ws.SendStdin("hello there\n");
  std::string output = ws.OutputUntil("got hello there\n");
  EXPECT_THAT(output, HasSubstr("got hello there"));
  // The agent reads the shell's two pipes in turn: stderr may come after the last stdout.
  EXPECT_EQ(ws.ExitCode(), 5);
  bool saw_stderr = false;
  for (const Message& m : ws.others) {
    saw_stderr |=
        m.opcode == Opcode::kBinary && m.payload == std::string(1, kStderr) + "to-stderr\n";
  }
  EXPECT_TRUE(saw_stderr) << "stderr arrives on channel 2";
}

TEST_F(Pty, OneClientAtATimeATakeoverClosesTheFirstAndReplaysWhatWasMissed) {
  const std::string id = CreateSession();
  ASSERT_FALSE(id.empty());
  PtySocket first(sandbox_, id, "");
  ASSERT_TRUE(first.upgraded()) << first.head << first.body;
  ASSERT_EQ(first.NextJson().value("type", ""), "connected");
  first.SendStdin("echo marker-$((1 + 1))\n");
  first.OutputUntil("marker-2");

  PtySocket refused(sandbox_, id, "");
  EXPECT_THAT(refused.head, StartsWith("HTTP/1.1 409")) << refused.head;
  EXPECT_EQ(ErrorCode(refused.body), "ALREADY_CONNECTED") << refused.body;

  PtySocket second(sandbox_, id, "takeover=1");
  ASSERT_TRUE(second.upgraded()) << second.head << second.body;
  // The first client is told it was taken over (4001), and its connection ends.
  std::optional<Message> last;
  while (auto m = first.Next()) last = m;
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->opcode, Opcode::kClose);
  EXPECT_EQ(last->payload.substr(0, 2), std::string("\x0F\xA1", 2)) << "close code 4001";

  // The second sees everything so far, from offset 0, then connects.
  auto replay = second.Next();
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->opcode, Opcode::kBinary);
  ASSERT_GE(replay->payload.size(), 9u);
  EXPECT_EQ(replay->payload[0], kReplay);
  EXPECT_EQ(replay->payload.substr(1, 8), std::string(8, '\0')) << "offset 0";
  EXPECT_THAT(replay->payload.substr(9), HasSubstr("marker-2"));
  EXPECT_EQ(second.NextJson().value("type", ""), "connected");
  // The shell ran on: the same one answers.
  second.SendStdin("echo $((40 + 2))-again\n");
  second.OutputUntil("42-again");
  second.SendStdin("exit\n");
  EXPECT_EQ(second.ExitCode(), 0);

  // A later client asking from the end gets no replay, and a new shell.
  const int64_t offset = Status(id).value("output_offset", int64_t{0});
  PtySocket third(sandbox_, id, absl::StrCat("since=", offset));
  ASSERT_TRUE(third.upgraded()) << third.head << third.body;
  EXPECT_EQ(third.NextJson().value("type", ""), "connected");
  EXPECT_TRUE(Status(id).value("running", false));
}

TEST_F(Pty, ResizeSetsTheTerminalsSizeAndASignalReachesTheShell) {
  const std::string id = CreateSession();
  ASSERT_FALSE(id.empty());
  PtySocket ws(sandbox_, id, "");
  ASSERT_TRUE(ws.upgraded()) << ws.head << ws.body;
  ASSERT_EQ(ws.NextJson().value("type", ""), "connected");
  ws.SendStdin("stty size\n");
  EXPECT_THAT(ws.OutputUntil("24 80"), HasSubstr("24 80")) << "80x24 at the start";
  ws.SendJson({{"type", "resize"}, {"cols", 132}, {"rows", 43}});
  ws.SendStdin("stty size\n");
  EXPECT_THAT(ws.OutputUntil("43 132"), HasSubstr("43 132"));
  ws.SendJson({{"type", "ping"}});
  EXPECT_EQ(ws.NextJson(), json({{"type", "pong"}}));
  ws.SendJson({{"type", "signal"}, {"signal", "SIGKILL"}});
  EXPECT_EQ(ws.ExitCode(), -1) << "killed by a signal";
}

// In a terminal a signal goes where Ctrl-C goes: the job in the foreground (the interactive shell
// ignores SIGINT). DELETE ends every process of the session, its background jobs included.
TEST_F(Pty, ASignalReachesTheForegroundJobAndDeleteEndsTheBackgroundOnes) {
  const std::string id = CreateSession();
  ASSERT_FALSE(id.empty());
  PtySocket ws(sandbox_, id, "");
  ASSERT_TRUE(ws.upgraded()) << ws.head << ws.body;
  ASSERT_EQ(ws.NextJson().value("type", ""), "connected");
  // Quoted so that the terminal's echo of the line holds neither "bg=" nor " end".
  ws.SendStdin("sleep 1000 & echo \"b\"\"g=$!\" \"e\"\"nd\"\n");
  const std::string output = ws.OutputUntil(" end");
  const std::size_t at = output.find("bg=");
  const std::size_t end = output.find(" end", at);
  ASSERT_TRUE(at != std::string::npos && end != std::string::npos) << output;
  const std::string background = output.substr(at + 3, end - at - 3);
  ASSERT_FALSE(background.empty()) << output;

  const absl::Time start = absl::Now();
  ws.SendStdin("sleep 1000\n");
  absl::SleepFor(absl::Milliseconds(300));  // for the shell to start it
  ws.SendJson({{"type", "signal"}, {"signal", "SIGINT"}});
  ws.SendStdin("echo after-$((40 + 2))\n");
  EXPECT_THAT(ws.OutputUntil("after-42"), HasSubstr("after-42"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "the foreground sleep ran on";
  ASSERT_EQ(ExitCode(Run(sandbox_, "kill -0 " + background)), 0) << "the job runs meanwhile";

  auto deleted = agent_->Delete("/pty/" + id);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  int alive = 0;
  for (int i = 0; i < 100; ++i) {  // SIGKILL is delivered at once; its exit may take a moment
    alive = ExitCode(Run(sandbox_, "kill -0 " + background + " 2>/dev/null"));
    if (alive != 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_NE(alive, 0) << "background job " << background << " outlived its session";
}

TEST_F(Pty, BadRequestsAreRefusedWithTheirCodes) {
  auto missing = agent_->Get("/pty/0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(missing->body), "CONTEXT_NOT_FOUND") << missing->body;
  auto deleted = agent_->Delete("/pty/nope");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 404);
  PtySocket unknown(sandbox_, "nope", "");
  EXPECT_THAT(unknown.head, StartsWith("HTTP/1.1 404")) << unknown.head;

  for (const std::string body : {"[1]", "{\"cwd\": 7}", "{\"command\": "}) {
    auto res = agent_->Post("/pty", body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_EQ(ErrorCode(res->body), "INVALID_REQUEST_BODY") << res->body;
  }
  ASSERT_EQ(ExitCode(Run(sandbox_, "touch /tmp/a-file")), 0);
  auto file_cwd = agent_->Post("/pty", json({{"cwd", "/tmp/a-file"}}).dump());
  ASSERT_TRUE(file_cwd);
  EXPECT_EQ(file_cwd->status, 400) << file_cwd->body;

  // No body is an empty request.
  auto bare = agent_->Post("/pty", "");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 201) << bare->body;
  const std::string id = ParseJson(bare->body).value("session_id", "");
  PtySocket not_websocket(sandbox_, id, "", /*upgrade=*/false);
  EXPECT_THAT(not_websocket.head, StartsWith("HTTP/1.1 400")) << not_websocket.head;
  EXPECT_FALSE(Status(id).value("running", true)) << "a refused handshake starts nothing";
}

// Sessions live until deleted: past 64 a new one is refused with its own code until one goes.
TEST_F(Pty, ASandboxHoldsAtMost64Sessions) {
  std::vector<std::string> ids;
  for (int i = 0; i < 64; ++i) ids.push_back(CreateSession());
  ASSERT_THAT(ids, Not(Contains(""))) << "the first 64 are created";
  auto refused = agent_->Post("/pty", "{}");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_EQ(ErrorCode(refused->body), "TOO_MANY_SESSIONS") << refused->body;
  auto deleted = agent_->Delete("/pty/" + ids.back());
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  EXPECT_NE(CreateSession(), "") << "one deleted makes room for one";
}

TEST_F(Pty, AClientBreakingTheProtocolIsClosedAndTheSessionLivesOn) {
  const std::string id = CreateSession();
  ASSERT_FALSE(id.empty());
  {
    PtySocket ws(sandbox_, id, "");
    ASSERT_TRUE(ws.upgraded()) << ws.head << ws.body;
    ASSERT_EQ(ws.NextJson().value("type", ""), "connected");
    ws.SendJson({{"type", "dance"}});
    json error = ws.NextJson();
    EXPECT_EQ(error.value("type", ""), "error");
    EXPECT_EQ(error.value("code", ""), "INVALID_FRAME");
    ws.SendFrame(Opcode::kPing, "are you there");
    auto pong = ws.NextNotOutput();
    ASSERT_TRUE(pong.has_value());
    EXPECT_EQ(pong->opcode, Opcode::kPong);
    EXPECT_EQ(pong->payload, "are you there");
    // An unmasked frame breaks the protocol: close 1002, and the connection ends.
    ws.others.clear();
    std::string unmasked = websocket::Frame(Opcode::kText, "{}");
    ws.SendFrame(Opcode::kText, "{}");  // masked: fine, ignored
    ws.SendRaw(unmasked);
    std::optional<Message> last;
    while (auto m = ws.Next()) last = m;
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->opcode, Opcode::kClose);
    EXPECT_EQ(last->payload.substr(0, 2), std::string("\x03\xEA", 2)) << "close code 1002";
  }
  // The shell runs on for the next client; DELETE ends it and its client.
  PtySocket next(sandbox_, id, "");
  ASSERT_TRUE(next.upgraded()) << next.head << next.body;
  ASSERT_EQ(next.NextJson().value("type", ""), "connected");
  EXPECT_TRUE(Status(id).value("running", false));
  auto deleted = agent_->Delete("/pty/" + id);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  while (next.Next().has_value()) {
  }
  auto gone = agent_->Get("/pty/" + id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
}

}  // namespace
}  // namespace osb::test
