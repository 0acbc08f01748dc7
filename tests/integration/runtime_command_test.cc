// Commands run through osb-runtime's proxy, seen from outside as an OpenSandbox SDK sees them:
// the event stream, exit codes, bad requests, timeouts, streaming and large output, and bad input
// that must leave a running sandbox usable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/ids.h"
#include "tests/integration/harness.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/runtime_fixture.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Gt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// --- Commands through the proxy ------------------------------------------------------------------

using Command = RuntimeSandboxTest;

TEST_F(Command, EventsAreInitStdoutComplete) {
  auto r = Run(sandbox_, "echo one; echo two");
  ASSERT_EQ(r.http_status, 200) << Describe(r);
  EXPECT_THAT(r.content_type, StartsWith("text/event-stream"));
  EXPECT_THAT(Types(r), ElementsAre("init", "stdout", "stdout", "execution_complete"))
      << Describe(r);
}

TEST_F(Command, ArgvRunsTheWordsWithNothingExpanded) {
  // The newer SDKs' `commands.run([...])`.
  auto r = PostCommand(sandbox_, R"({"argv":["printf","%s|","a b","$HOME","*"]})",
                       sandbox_.token);
  EXPECT_EQ(Stdout(r), "a b|$HOME|*|") << Describe(r);
  EXPECT_EQ(ExitCode(r), 0);
}

TEST_F(Command, TheSandboxEnvFileReachesLaterCommandsAndRequestEnvsWin) {
  // What the official SDKs' commands.set_env runs (EXECD_ENVS names the file).
  auto set = Run(sandbox_,
                 "mkdir -p \"$(dirname \"$EXECD_ENVS\")\" && "
                 "printf '%s\\n' \"GREETING='hello there'\" >> \"$EXECD_ENVS\"");
  ASSERT_EQ(ExitCode(set), 0) << Describe(set);
  EXPECT_EQ(Stdout(Run(sandbox_, "echo \"$GREETING\"")), "hello there");
  EXPECT_EQ(Stdout(Run(sandbox_, "echo \"$GREETING\"", {{"envs", {{"GREETING", "mine"}}}})),
            "mine");
  auto path = Run(sandbox_, "echo $EXECD_ENVS");
  EXPECT_EQ(Stdout(path), "/opt/opensandbox/.env");
}

TEST_F(Command, InitTextIs32Hex) {
  auto first = Run(sandbox_, "true");
  auto second = Run(sandbox_, "true");
  ASSERT_FALSE(first.events.empty() || second.events.empty()) << Describe(first);
  ASSERT_EQ(first.events[0].type, "init");
  EXPECT_TRUE(std::regex_match(first.events[0].text, std::regex("[0-9a-f]{32}")))
      << first.events[0].text;
  EXPECT_NE(first.events[0].text, second.events[0].text);
}

TEST_F(Command, OneStdoutEventPerLineWithoutNewline) {
  auto r = Run(sandbox_, "printf 'alpha\\nbeta gamma\\n\\nlast-no-newline'");
  EXPECT_THAT(Texts(r, "stdout"), ElementsAre("alpha", "beta gamma", "\n", "last-no-newline"))
      << Describe(r);
}

TEST_F(Command, StderrKeptApartFromStdout) {
  auto r = Run(sandbox_, "echo out1; echo err1 >&2; echo out2; echo err2 >&2");
  EXPECT_THAT(Texts(r, "stdout"), ElementsAre("out1", "out2")) << Describe(r);
  EXPECT_THAT(Texts(r, "stderr"), ElementsAre("err1", "err2")) << Describe(r);
  EXPECT_EQ(ExitCode(r), 0);
}

TEST_F(Command, TrueCompletes) {
  auto r = Run(sandbox_, "true");
  EXPECT_THAT(Types(r), ElementsAre("init", "execution_complete")) << Describe(r);
}

TEST_F(Command, ExitOneIsCommandExecError) {
  auto r = Run(sandbox_, "echo before; exit 1");
  ASSERT_THAT(Types(r), ElementsAre("init", "stdout", "error")) << Describe(r);
  const auto& error = r.events.back().error;
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->ename, "CommandExecError");
  EXPECT_EQ(error->evalue, "1");
  EXPECT_THAT(error->traceback, ElementsAre("exit status 1"));
}

TEST_F(Command, UnknownCommandExits127) {
  auto r = Run(sandbox_, "nonexistent-cmd-xyz");
  ASSERT_FALSE(r.events.empty()) << Describe(r);
  EXPECT_THAT(Types(r), Not(Contains("execution_complete")));
  const auto& last = r.events.back();
  ASSERT_EQ(last.type, "error") << Describe(r);
  EXPECT_EQ(last.error->ename, "CommandExecError");
  EXPECT_EQ(last.error->evalue, "127");
  EXPECT_THAT(Texts(r, "stderr"), Contains(HasSubstr("nonexistent-cmd-xyz")));
}

TEST_F(Command, EveryEventHasTimestamp) {
  const int64_t before = absl::ToUnixMillis(absl::Now());
  auto r = Run(sandbox_, "echo a; echo b >&2; exit 3");
  const int64_t after = absl::ToUnixMillis(absl::Now());
  ASSERT_THAT(r.events, SizeIs(4)) << Describe(r);
  int64_t previous = 0;
  for (const auto& e : r.events) {
    // The sandbox shares the host's clock; a second of slack either side for rounding.
    EXPECT_GE(e.timestamp_ms, before - 1000) << e.type;
    EXPECT_LE(e.timestamp_ms, after + 1000) << e.type;
    EXPECT_GE(e.timestamp_ms, previous) << e.type;
    previous = e.timestamp_ms;
  }
}

TEST_F(Command, EmptyCommandIs400AndAgentKeepsServing) {
  for (const std::string& body : {json({{"command", ""}}).dump(), std::string("{}"),
                                  std::string("{\"command\": 5}"), std::string("{bad json")}) {
    auto r = PostCommand(sandbox_, body, sandbox_.token);
    EXPECT_EQ(r.http_status, 400) << body << ": " << Describe(r);
    EXPECT_TRUE(IsErrorBody(r.body)) << body << ": " << r.body;
    EXPECT_EQ(ErrorCode(r.body), "INVALID_REQUEST_BODY") << body << ": " << r.body;
  }
  auto r = Run(sandbox_, "echo still-here");
  EXPECT_THAT(Texts(r, "stdout"), ElementsAre("still-here")) << Describe(r);
}

TEST_F(Command, MissingCwdIs400BeforeStreaming) {
  auto r = Run(sandbox_, "touch /tmp/ran", {{"cwd", "/does/not/exist"}});
  EXPECT_EQ(r.http_status, 400) << Describe(r);
  EXPECT_THAT(r.events, IsEmpty());
  EXPECT_TRUE(IsErrorBody(r.body)) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "INVALID_REQUEST_BODY") << r.body;
  auto check = Run(sandbox_, "test -e /tmp/ran");
  EXPECT_EQ(ExitCode(check), 1) << Describe(check);
  auto in_tmp = Run(sandbox_, "pwd", {{"cwd", "/tmp"}});
  EXPECT_THAT(Texts(in_tmp, "stdout"), ElementsAre("/tmp")) << Describe(in_tmp);
}

TEST_F(Command, TimeoutKillsTheCommand) {
  const std::string marker = "osb-timeout-" + rest::RandomHex(6);
  const auto start = Clock::now();
  auto r = Run(sandbox_, absl::StrCat("sleep 30 && echo ", marker), {{"timeout", 500}});
  const auto elapsed = Clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(15));
  ASSERT_THAT(Types(r), ElementsAre("init", "error")) << Describe(r);
  EXPECT_EQ(r.events.back().error->ename, "CommandExecError");
  EXPECT_EQ(r.events.back().error->evalue, "-1");
  // The whole process group is gone: the shell waiting on sleep had the marker in its arguments.
  EXPECT_THAT(ProcessesMatching(marker), IsEmpty());
}

TEST_F(Command, OutputStreamsAsItHappens) {
  auto r = Run(sandbox_, "echo a; sleep 2; echo b");
  ASSERT_THAT(Texts(r, "stdout"), ElementsAre("a", "b")) << Describe(r);
  Clock::time_point a, b;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (r.events[i].text == "a") a = r.arrivals[i];
    if (r.events[i].text == "b") b = r.arrivals[i];
  }
  // The command sleeps 2 s between the lines; a buffered stream delivers both together.
  EXPECT_GE(b - a, std::chrono::milliseconds(1000));
}

TEST_F(Command, TenMegabytesArriveIntact) {
  constexpr int kLines = 1'300'000;  // `seq` writes about 9 MB
  std::string expected;
  for (int i = 1; i <= kLines; ++i) absl::StrAppend(&expected, i, "\n");
  auto r = Run(sandbox_, absl::StrCat("seq 1 ", kLines));
  ASSERT_EQ(r.http_status, 200) << r.decode_error;
  EXPECT_THAT(r.decode_error, IsEmpty());
  EXPECT_EQ(ExitCode(r), 0) << Describe(r);
  std::vector<std::string> lines = Texts(r, "stdout");
  EXPECT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  std::string got = absl::StrJoin(lines, "\n") + "\n";
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "stdout differs from `seq 1 " << kLines << "`";
}

TEST_F(Command, LongLineArrivesSplitButIntact) {
  // One line of 150000 bytes, one of exactly 2 * 64 KiB, then a short one.
  auto r = Run(sandbox_,
               "head -c 150000 /dev/zero | tr '\\0' x; echo; "
               "head -c 131072 /dev/zero | tr '\\0' y; echo; echo end");
  ASSERT_EQ(ExitCode(r), 0) << Describe(r);
  std::vector<std::string> pieces = Texts(r, "stdout");
  EXPECT_THAT(pieces.size(), Gt(3u)) << "long lines were not split";
  for (const auto& piece : pieces) EXPECT_LE(piece.size(), 64u * 1024);
  std::string joined = absl::StrJoin(pieces, "");
  EXPECT_TRUE(joined == std::string(150000, 'x') + std::string(131072, 'y') + "end")
      << "reassembled output of " << joined.size() << " bytes differs; pieces: " << pieces.size();
}

// --- Bad input -----------------------------------------------------------------------------------

// The agent refuses an oversized head or body as the runtime does (its API socket, reached
// directly here: through the runtime's proxy, the runtime's own limits refuse such a head first),
// closes that connection, and keeps serving.
TEST_F(Command, OversizedHeadsAndBodiesAreRefusedAndTheAgentKeepsServing) {
  const std::string socket = absl::StrCat(runtime_->state_dir(), "/sandboxes/", sandbox_.id, "/sock");
  const std::string big_body = json({{"command", std::string(17 << 20, 'x')}}).dump();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {absl::StrCat("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(9000, 'a'),
                    "\r\n\r\n"),
       "HTTP/1.1 431"},
      {absl::StrCat("POST /command HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: ", big_body.size(), "\r\n\r\n", big_body),
       "HTTP/1.1 413"},
  };
  for (const auto& [request, status] : cases) {
    RawConnection c(socket);
    ASSERT_TRUE(c.ok()) << socket;
    c.Send(request);
    std::string body;
    EXPECT_THAT(c.ReadResponseHead(&body), StartsWith(status));
    EXPECT_EQ(ErrorCode(body), "INVALID_REQUEST_BODY") << body;
    EXPECT_THAT(c.ReadSome(), IsEmpty()) << status << ": the connection stays open";
  }
  // The same body through the runtime's proxy: the agent's answer reaches the client.
  auto r = PostCommand(sandbox_, big_body, sandbox_.token);
  EXPECT_EQ(r.http_status, 413) << Describe(r);
  auto alive = Run(sandbox_, "echo alive");
  EXPECT_THAT(Texts(alive, "stdout"), ElementsAre("alive")) << Describe(alive);
}

class BadInput : public RuntimeTest {};

TEST_F(BadInput, LeavesRunningSandboxUsable) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto malformed = api_->Post("/v1/sandboxes", "{\"image\":", "application/json");
  auto unknown = api_->Get("/v1/sandboxes/" + rest::NewUuid4());
  auto unknown_proxy = PostCommand(
      SandboxHandle{"", sandbox->proxy_host,
                    absl::StrCat("/sandboxes/", rest::NewUuid4(), "/proxy/", kAgentPort), "x"},
      json({{"command", "true"}}).dump(), "x");
  auto empty = Run(*sandbox, "");
  ASSERT_TRUE(malformed && unknown);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(unknown_proxy.http_status, 404) << Describe(unknown_proxy);
  EXPECT_EQ(empty.http_status, 400) << Describe(empty);

  auto r = Run(*sandbox, "echo alive");
  EXPECT_THAT(Types(r), ElementsAre("init", "stdout", "execution_complete")) << Describe(r);
  EXPECT_THAT(Texts(r, "stdout"), ElementsAre("alive"));
  auto get = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(get);
  EXPECT_EQ(ParseJson(get->body)["status"].value("state", ""), "Running") << get->body;
}

// --- Background commands, status, logs and interrupt ----------------------------------------

class Background : public RuntimeSandboxTest {
 protected:
  // Starts a background command; its id, or "" (with a failure recorded).
  std::string Start(const std::string& command, json extra = json::object()) {
    extra["background"] = true;
    auto r = Run(sandbox_, command, extra);
    EXPECT_THAT(Types(r), ElementsAre("init", "execution_complete")) << Describe(r);
    return r.events.empty() ? "" : r.events[0].text;
  }

  json Status(const std::string& id) {
    auto r = agent_->Get("/command/status/" + id);
    if (!r || r->status != 200) return json();
    return ParseJson(r->body);
  }

  // Polls the status until the command has finished (at most `limit`).
  json WaitFinished(const std::string& id, absl::Duration limit = absl::Seconds(10)) {
    absl::Time deadline = absl::Now() + limit;
    json s;
    while (absl::Now() < deadline) {
      s = Status(id);
      if (s.is_object() && !s.value("running", true)) return s;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return s;
  }
};

TEST_F(Background, RunsOnAfterTheAnswerAndReportsItsEnd) {
  std::string id = Start("sleep 0.3; echo out; echo err >&2; exit 4");
  ASSERT_FALSE(id.empty());
  json running = Status(id);
  EXPECT_EQ(running["running"], true) << running;
  EXPECT_FALSE(running.contains("exit_code")) << running;
  json done = WaitFinished(id);
  EXPECT_EQ(done["running"], false) << done;
  EXPECT_EQ(done["exit_code"], 4);
  EXPECT_EQ(done["error"], "exit status 4");
  EXPECT_EQ(done["content"], "sleep 0.3; echo out; echo err >&2; exit 4");
  EXPECT_TRUE(done.contains("finished_at"));
}

TEST_F(Background, LogsResumeAtTheByteCursor) {
  std::string id = Start("echo first; sleep 0.5; echo second >&2");
  ASSERT_FALSE(id.empty());
  absl::SleepFor(absl::Milliseconds(200));
  auto part = agent_->Get("/command/" + id + "/logs?cursor=0");
  ASSERT_TRUE(part);
  ASSERT_EQ(part->status, 200) << part->body;
  EXPECT_EQ(part->body, "first\n");
  std::string cursor = part->get_header_value("EXECD-COMMANDS-TAIL-CURSOR");
  EXPECT_EQ(cursor, "6");
  WaitFinished(id);
  auto rest = agent_->Get("/command/" + id + "/logs?cursor=" + cursor);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->body, "second\n");
  EXPECT_EQ(rest->get_header_value("EXECD-COMMANDS-TAIL-CURSOR"), "13");
  auto end = agent_->Get("/command/" + id + "/logs?cursor=13");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->body, "");
  EXPECT_EQ(end->get_header_value("EXECD-COMMANDS-TAIL-CURSOR"), "13");
}

TEST_F(Background, TimeoutKillsTheProcessGroup) {
  std::string id = Start("sleep 30 & sleep 30; echo never", {{"timeout", 300}});
  ASSERT_FALSE(id.empty());
  json done = WaitFinished(id, absl::Seconds(5));
  EXPECT_EQ(done["running"], false) << done;
  EXPECT_EQ(done["exit_code"], -1);
  EXPECT_EQ(done["error"], "signal: killed");
  // The backgrounded child went with the group.
  auto left = Run(sandbox_, "pgrep -c -x sleep || true");
  EXPECT_EQ(Stdout(left), "1") << "only the entrypoint's sleep should remain; " << Describe(left);
}

TEST_F(Background, InterruptTerminatesAndEscalatesToKill) {
  std::string polite = Start("sleep 30");
  std::string stubborn = Start("trap '' TERM; sleep 30 & wait; sleep 30");
  ASSERT_FALSE(polite.empty());
  ASSERT_FALSE(stubborn.empty());
  absl::SleepFor(absl::Milliseconds(100));  // let bash install its trap
  for (const auto& id : {polite, stubborn}) {
    auto r = agent_->Delete("/command?id=" + id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  json first = WaitFinished(polite, absl::Seconds(2));
  EXPECT_EQ(first["error"], "signal: terminated") << first;
  json second = WaitFinished(stubborn, absl::Seconds(6));
  EXPECT_EQ(second["error"], "signal: killed") << second;
  auto again = agent_->Delete("/command?id=" + polite);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 500) << "interrupting a finished command";
}

TEST_F(Background, StatusAndLogsOfUnknownAndForegroundCommands) {
  auto fg = Run(sandbox_, "exit 3");
  ASSERT_FALSE(fg.events.empty());
  const std::string fg_id = fg.events[0].text;
  json s = Status(fg_id);
  EXPECT_EQ(s["exit_code"], 3) << s;
  EXPECT_EQ(s["running"], false);
  auto fg_logs = agent_->Get("/command/" + fg_id + "/logs");
  ASSERT_TRUE(fg_logs);
  EXPECT_EQ(fg_logs->status, 400) << fg_logs->body;
  auto unknown_status = agent_->Get("/command/status/0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(unknown_status);
  EXPECT_EQ(unknown_status->status, 404);
  EXPECT_TRUE(IsErrorBody(unknown_status->body));
  auto unknown_logs = agent_->Get("/command/0123456789abcdef0123456789abcdef/logs");
  ASSERT_TRUE(unknown_logs);
  EXPECT_EQ(unknown_logs->status, 400);
  auto unknown_interrupt = agent_->Delete("/command?id=0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(unknown_interrupt);
  EXPECT_EQ(unknown_interrupt->status, 500);
  auto no_id = agent_->Delete("/command");
  ASSERT_TRUE(no_id);
  EXPECT_EQ(ErrorCode(no_id->body), "MISSING_QUERY");
  auto bad_cursor = agent_->Get("/command/" + fg_id + "/logs?cursor=abc");
  ASSERT_TRUE(bad_cursor);
  EXPECT_EQ(bad_cursor->status, 400);
}

TEST_F(Background, BadCwdIsRefusedBeforeAnything) {
  auto r = Run(sandbox_, "true", {{"background", true}, {"cwd", "/no/such/dir"}});
  EXPECT_EQ(r.http_status, 400) << Describe(r);
  EXPECT_EQ(ErrorCode(r.body), "INVALID_REQUEST_BODY");
}

// --- Bash sessions ---------------------------------------------------------------------------

class Session : public Background {
 protected:
  // A new session's id, or "" (with a failure recorded). `body` is POST /session's body.
  std::string Create(const std::string& body = "") {
    auto r = agent_->Post("/session", body);
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    json j = ParseJson(r->body);
    return j.is_object() ? j.value("session_id", "") : "";
  }

  CommandResult RunIn(const std::string& id, const std::string& command,
                      json extra = json::object()) {
    extra["command"] = command;
    return PostCommand(sandbox_, extra.dump(), sandbox_.token, "/session/" + id + "/run");
  }
};

TEST_F(Session, ExportsAndDirectoryPersistBetweenRuns) {
  std::string id = Create();
  ASSERT_TRUE(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")))
      << id;
  auto first =
      RunIn(id, "export GREETING='hello there'; X=not-exported; cd /tmp; mkdir -p s; cd s");
  EXPECT_THAT(Types(first), ElementsAre("init", "execution_complete")) << Describe(first);
  ASSERT_FALSE(first.events.empty());
  EXPECT_EQ(first.events[0].text, id) << "the init event names the session";
  auto second = RunIn(id, "echo \"$GREETING\"; echo \"[$X]\"; pwd");
  EXPECT_EQ(Stdout(second), "hello there\n[]\n/tmp/s") << Describe(second);
  // A plain /command does not see the session's state.
  EXPECT_EQ(Stdout(Run(sandbox_, "echo \"[$GREETING]\"")), "[]");
}

TEST_F(Session, StartsInTheGivenDirectoryAndAPerRunCwdBecomesTheSessions) {
  std::string id = Create(json({{"cwd", "/tmp"}}).dump());
  EXPECT_EQ(Stdout(RunIn(id, "pwd")), "/tmp");
  EXPECT_EQ(Stdout(RunIn(id, "pwd", {{"cwd", "/usr"}})), "/usr");
  EXPECT_EQ(Stdout(RunIn(id, "pwd")), "/usr");
  std::string plain = Create();
  EXPECT_EQ(Stdout(RunIn(plain, "pwd")), "/");
}

TEST_F(Session, StderrIsMergedAndAnExitCodeIsAnError) {
  std::string id = Create();
  auto r = RunIn(id, "echo out; echo err >&2; exit 7");
  EXPECT_THAT(Types(r), ElementsAre("init", "stdout", "stdout", "error")) << Describe(r);
  EXPECT_EQ(Stdout(r), "out\nerr");
  EXPECT_EQ(ExitCode(r), 7);
  // `exit` still saved the session's state.
  auto after = RunIn(id, "export A=1; cd /tmp; exit 3");
  EXPECT_EQ(ExitCode(after), 3);
  EXPECT_EQ(Stdout(RunIn(id, "echo $A; pwd")), "1\n/tmp");
}

TEST_F(Session, ATimeoutKillsTheRunAndTheSessionCarriesOn) {
  std::string id = Create();
  const auto start = Clock::now();
  auto r = RunIn(id, "echo started; sleep 30", {{"timeout", 500}});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Texts(r, "stdout"), std::vector<std::string>{"started"}) << Describe(r);
  EXPECT_NE(ExitCode(r), 0) << Describe(r);
  EXPECT_EQ(Stdout(RunIn(id, "echo again")), "again");
}

TEST_F(Session, OneRunAtATime) {
  std::string id = Create();
  std::thread slow([&] { RunIn(id, "sleep 1.5"); });
  absl::SleepFor(absl::Milliseconds(500));
  auto busy = RunIn(id, "echo no");
  slow.join();
  EXPECT_EQ(busy.http_status, 500) << Describe(busy);
  EXPECT_EQ(ErrorCode(busy.body), "RUNTIME_ERROR");
  EXPECT_EQ(Stdout(RunIn(id, "echo yes")), "yes") << "a finished run frees the session";
}

TEST_F(Session, BadRequestsAndUnknownSessions) {
  auto unknown = RunIn("no-such-session", "true");
  EXPECT_EQ(unknown.http_status, 500) << Describe(unknown);
  EXPECT_EQ(ErrorCode(unknown.body), "RUNTIME_ERROR");
  auto bad_dir = agent_->Post("/session", json({{"cwd", "/no/such/dir"}}).dump());
  ASSERT_TRUE(bad_dir);
  EXPECT_EQ(bad_dir->status, 400) << bad_dir->body;
  EXPECT_TRUE(IsErrorBody(bad_dir->body));
  auto not_json = agent_->Post("/session", "{");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);

  std::string id = Create();
  auto empty = RunIn(id, "");
  EXPECT_EQ(empty.http_status, 400) << Describe(empty);
  auto run_bad_dir = RunIn(id, "pwd", {{"cwd", "/no/such/dir"}});
  EXPECT_EQ(run_bad_dir.http_status, 400) << Describe(run_bad_dir);
  EXPECT_EQ(Stdout(RunIn(id, "echo fine")), "fine") << "a refused run leaves the session usable";

  auto deleted = agent_->Delete("/session/" + id);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  auto gone = agent_->Delete("/session/" + id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(ErrorCode(gone->body), "CONTEXT_NOT_FOUND");
  EXPECT_EQ(RunIn(id, "true").http_status, 500);
}

}  // namespace
}  // namespace osb::test
