#include "runtime/agent/pty_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "rest/error.h"
#include "rest/sys/send_all.h"
#include "runtime/common/http_response.h"
#include "runtime/common/http_server.h"
#include "runtime/common/websocket.h"

namespace osb::agent {
namespace {

using websocket::Opcode;

constexpr std::size_t kMaxMessage = 1 << 20;
constexpr int kPingEveryMs = 30'000;
constexpr auto kSilenceLimit = std::chrono::seconds(60);
constexpr time_t kSendTimeoutSeconds = 10;
constexpr uint16_t kCloseTakenOver = 4001;
constexpr uint16_t kCloseInternalError = 1011;

// The server's side of one WebSocket connection to a PTY session. Frames leave whole and one at a
// time; nothing leaves after the close frame.
class SocketClient final : public PtyClient {
 public:
  SocketClient(int fd, std::string session_id, std::string mode)
      : fd_(fd), session_id_(std::move(session_id)), mode_(std::move(mode)) {}

  void Send(Opcode opcode, std::string_view payload) {
    absl::MutexLock lock(&write_mu_);
    SendLocked(opcode, payload);
  }
  void SendJson(const nlohmann::json& frame) { Send(Opcode::kText, frame.dump()); }
  void SendError(std::string_view code, absl::string_view message) {
    SendJson({{"type", "error"}, {"code", code}, {"error", std::string(message)}});
  }
  // Sends the close frame and ends the reading side: the reading thread sees its end. The client
  // sees the connection end only when ServePtySocket has released the session's claim, so that
  // one reconnecting at once finds the session free.
  void Close(uint16_t code, absl::string_view reason) {
    absl::MutexLock lock(&write_mu_);
    SendLocked(Opcode::kClose,
               websocket::ClosePayload(code, std::string_view(reason.data(), reason.size())));
    closed_ = true;
    ::shutdown(fd_, SHUT_RD);
  }

  // PtyClient
  void Attached(int64_t offset, std::string_view missed) override {
    if (!missed.empty()) {
      std::string frame(1, static_cast<char>(PtyChannel::kReplay));
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.push_back(static_cast<char>((static_cast<uint64_t>(offset) >> shift) & 0xFF));
      }
      Send(Opcode::kBinary, frame.append(missed));
    }
    SendJson({{"type", "connected"}, {"session_id", session_id_}, {"mode", mode_}});
  }
  void Output(PtyChannel channel, std::string_view bytes) override {
    std::string frame(1, static_cast<char>(channel));
    Send(Opcode::kBinary, frame.append(bytes));
  }
  void Exited(int exit_code) override {
    SendJson({{"type", "exit"}, {"exit_code", exit_code}});
    Close(websocket::kCloseNormal, "process exited");
  }
  void Evict() override {
    // Never waits (a stuck client is what a takeover is for): the close frame goes only when the
    // connection is idle and has room for it, the shutdown always, which also ends a stuck write.
    if (write_mu_.TryLock()) {
      if (!closed_) {
        const std::string frame = websocket::Frame(
            Opcode::kClose, websocket::ClosePayload(kCloseTakenOver, "TAKEN_OVER"));
        (void)::send(fd_, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      closed_ = true;
      write_mu_.Unlock();
    }
    ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  void SendLocked(Opcode opcode, std::string_view payload)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    if (closed_) return;
    if (!SendAll(fd_, websocket::Frame(opcode, payload))) {
      closed_ = true;
      ::shutdown(fd_, SHUT_RDWR);  // a client that cannot take a frame is gone
    }
  }

  const int fd_;
  const std::string session_id_;
  const std::string mode_;
  absl::Mutex write_mu_;
  bool closed_ ABSL_GUARDED_BY(write_mu_) = false;
};

bool HeaderHasToken(const httplib::Request& req, const char* header, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(req.get_header_value(header), ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) return true;
  }
  return false;
}

// One message from the client; false when the connection is to end.
bool Handle(const websocket::Message& message, PtySession& session, SocketClient& client) {
  switch (message.opcode) {
    case Opcode::kClose: {
      uint16_t code = websocket::kCloseNormal;
      if (message.payload.size() >= 2) {
        code = static_cast<uint16_t>(static_cast<uint8_t>(message.payload[0]) << 8 |
                                     static_cast<uint8_t>(message.payload[1]));
      }
      client.Close(code, "");
      return false;
    }
    case Opcode::kPing:
      client.Send(Opcode::kPong, message.payload);
      return true;
    case Opcode::kBinary:
      if (message.payload.empty() || message.payload[0] != static_cast<char>(PtyChannel::kStdin)) {
        return true;  // only stdin travels this way
      }
      if (auto s = session.WriteStdin(std::string_view(message.payload).substr(1)); !s.ok()) {
        client.SendError("STDIN_WRITE_FAILED", s.message());
        return false;
      }
      return true;
    case Opcode::kText:
      break;
    default:
      return true;
  }
  // A text frame that is not a JSON object is ignored, as execd does.
  nlohmann::json frame = nlohmann::json::parse(message.payload, nullptr, false);
  if (!frame.is_object()) return true;
  auto text = [&](const char* key) {
    auto it = frame.find(key);
    return it != frame.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [&](const char* key) {
    auto it = frame.find(key);
    return it != frame.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  const std::string type = text("type");
  if (type == "stdin") {
    if (auto s = session.WriteStdin(text("data")); !s.ok()) {
      client.SendError("STDIN_WRITE_FAILED", s.message());
      return false;
    }
  } else if (type == "signal") {
    session.Signal(text("signal"));
  } else if (type == "resize") {
    const int64_t cols = number("cols"), rows = number("rows");
    if (cols > 0 && rows > 0 && cols <= 0xFFFF && rows <= 0xFFFF) {
      session.Resize(static_cast<int>(cols), static_cast<int>(rows));
    }
  } else if (type == "ping") {
    client.SendJson({{"type", "pong"}});
  } else {
    client.SendError("INVALID_FRAME", absl::StrCat("unknown frame type \"", type, "\""));
  }
  return true;
}

// Reads the client's messages until the connection ends, pinging it while it is quiet.
void ReadMessages(int fd, std::string early_bytes, PtySession& session, SocketClient& client) {
  websocket::MessageReader reader(/*from_client=*/true, kMaxMessage);
  reader.Append(early_bytes);
  auto heard = std::chrono::steady_clock::now();
  char buffer[16 * 1024];
  for (;;) {
    for (;;) {
      auto message = reader.Next();
      if (!message.ok()) {
        client.Close(absl::IsResourceExhausted(message.status()) ? websocket::kCloseTooBig
                                                                 : websocket::kCloseProtocolError,
                     message.status().message());
        return;
      }
      if (!message->has_value()) break;
      if (!Handle(**message, session, client)) return;
    }
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    int ready = ::poll(&p, 1, kPingEveryMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (std::chrono::steady_clock::now() - heard >= kSilenceLimit) return;
      client.Send(Opcode::kPing, "");
      continue;
    }
    ssize_t n = ready < 0 ? -1 : ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    heard = std::chrono::steady_clock::now();
    reader.Append(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

}  // namespace

void ServePtySocket(PtySessions& sessions, const httplib::Request& req, httplib::Response& res) {
  auto found = sessions.Get(req.matches[1].str());
  if (!found.ok()) return ReplyError(res, 404, rest::kContextNotFound, found.status().message());
  PtySession& session = **found;
  const bool upgrade = HeaderHasToken(req, "Connection", "upgrade") &&
                       absl::EqualsIgnoreCase(req.get_header_value("Upgrade"), "websocket");
  // A bad handshake is refused before any claim: it must not evict the client connected.
  const std::string key = req.get_header_value("Sec-WebSocket-Key");
  std::string refusal;
  if (!upgrade) {
    refusal = "not a WebSocket handshake: it needs Connection: Upgrade and Upgrade: websocket";
  } else if (req.get_header_value("Sec-WebSocket-Version") != websocket::kVersion) {
    res.set_header("Sec-WebSocket-Version", std::string(websocket::kVersion));
    refusal = "only WebSocket version 13 is spoken";
  } else if (key.empty()) {
    refusal = "the WebSocket handshake has no Sec-WebSocket-Key";
  }
  if (!refusal.empty()) return ReplyError(res, 400, rest::kInvalidRequestBody, refusal);
  const std::optional<uint64_t> claim =
      session.Claim(/*take_over=*/req.get_param_value("takeover") == "1");
  if (!claim.has_value()) {
    return ReplyError(res, 409, "ALREADY_CONNECTED",
                      absl::StrCat("another client is already connected to pty session ",
                                   session.id()));
  }

  runtime::ServedConnection* connection = runtime::CurrentConnection();
  std::string early_bytes = connection->TakeOver();
  const int fd = connection->fd();
  res.status = 101;  // said below; what the HTTP server would add is dropped
  // A client that stops reading holds the shell's output back for at most this long per frame.
  timeval send_timeout{.tv_sec = kSendTimeoutSeconds, .tv_usec = 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  const bool switched = SendAll(
      fd, absl::StrCat("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: ",
                       websocket::AcceptKey(key), "\r\n\r\n"));
  if (!switched) return session.Unclaim(*claim);

  const bool terminal = req.get_param_value("pty") != "0";
  absl::Status started = session.StartUnlessRunning(terminal);
  SocketClient client(fd, session.id(), session.terminal() ? "pty" : "pipe");
  if (!started.ok()) {
    client.SendError("START_FAILED", started.message());
    client.Close(kCloseInternalError, "the shell did not start");
    return session.Unclaim(*claim);
  }
  int64_t since = 0;
  if (!absl::SimpleAtoi(req.get_param_value("since"), &since) || since < 0) since = 0;
  session.Attach(&client, since);
  ReadMessages(fd, std::move(early_bytes), session, client);
  session.Detach(&client);
  session.Unclaim(*claim);
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace osb::agent
