#include "runtime/server/agent_exchange.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rest/sys/file_util.h"
#include "rest/sys/send_all.h"

namespace osb::runtime {
namespace {

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kReadSize = 64 * 1024;

absl::Status WriteAll(int fd, absl::string_view data) {
  if (SendAll(fd, std::string_view(data.data(), data.size()))) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("send to the agent: ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentExchange>> AgentExchange::Start(
    const std::string& socket_path, absl::string_view method, absl::string_view target,
    const HeaderList& headers, absl::string_view body, absl::Duration idle_timeout) {
  auto x = Open(socket_path, method, target, headers, body.size(), idle_timeout);
  if (!x.ok()) return x.status();
  if (auto s = (*x)->SendBody(body); !s.ok()) return s;
  if (auto s = (*x)->FinishRequest(); !s.ok()) return s;
  return x;
}

absl::StatusOr<std::unique_ptr<AgentExchange>> AgentExchange::Open(
    const std::string& socket_path, absl::string_view method, absl::string_view target,
    const HeaderList& headers, std::optional<std::size_t> body_length,
    absl::Duration idle_timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError("agent socket path too long: " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the sandbox's agent: ", std::strerror(errno)));
  }
  return OpenOn(std::move(fd), "osb-agent", method, target, headers, body_length, idle_timeout);
}

absl::StatusOr<std::unique_ptr<AgentExchange>> AgentExchange::OpenOn(
    UniqueFd connected, absl::string_view host, absl::string_view method, absl::string_view target,
    const HeaderList& headers, std::optional<std::size_t> body_length,
    absl::Duration idle_timeout) {
  std::unique_ptr<AgentExchange> x(new AgentExchange());
  x->idle_timeout_ = idle_timeout;
  x->method_ = std::string(method);
  x->chunked_request_ = !body_length.has_value();
  x->fd_ = std::move(connected);
  std::string request = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: ", host, "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&request, k, ": ", v, "\r\n");
  if (body_length.has_value()) {
    absl::StrAppend(&request, "Content-Length: ", *body_length, "\r\n");
  } else {
    absl::StrAppend(&request, "Transfer-Encoding: chunked\r\n");
  }
  const bool upgrade = std::any_of(headers.begin(), headers.end(), [](const auto& header) {
    return absl::EqualsIgnoreCase(header.first, "Upgrade");
  });
  absl::StrAppend(&request, "Connection: ", upgrade ? "Upgrade" : "close", "\r\n\r\n");
  if (auto s = WriteAll(x->fd_.get(), request); !s.ok()) return s;
  return x;
}

absl::Status AgentExchange::SendBody(absl::string_view piece) {
  if (piece.empty()) return absl::OkStatus();
  absl::Status s;
  if (chunked_request_) {  // one write per chunk, framing included
    std::string chunk = absl::StrCat(absl::Hex(piece.size()), "\r\n");
    chunk.reserve(chunk.size() + piece.size() + 2);
    absl::StrAppend(&chunk, piece, "\r\n");
    s = WriteAll(fd_.get(), chunk);
  } else {
    s = WriteAll(fd_.get(), piece);
  }
  if (!s.ok()) send_failed_ = true;
  return s;
}

absl::Status AgentExchange::FinishRequest() {
  if (chunked_request_ && !send_failed_) {
    // An agent that already answered and closed cannot take the last chunk; its answer is read.
    (void)WriteAll(fd_.get(), "0\r\n\r\n");
  }
  // Status line and headers.
  auto status_line = ReadLine();
  if (!status_line.ok()) return status_line.status();
  std::vector<absl::string_view> parts = absl::StrSplit(*status_line, absl::MaxSplits(' ', 2));
  if (parts.size() < 2 || !absl::StartsWith(parts[0], "HTTP/1.") ||
      !absl::SimpleAtoi(parts[1], &status_)) {
    return absl::DataLossError("malformed status line from the agent");
  }
  for (;;) {
    auto line = ReadLine();
    if (!line.ok()) return line.status();
    if (line->empty()) break;
    std::size_t colon = line->find(':');
    if (colon == std::string::npos) return absl::DataLossError("malformed header from the agent");
    headers_.emplace_back(std::string(absl::StripAsciiWhitespace(line->substr(0, colon))),
                          std::string(absl::StripAsciiWhitespace(line->substr(colon + 1))));
  }
  chunked_ = absl::EqualsIgnoreCase(header("Transfer-Encoding"), "chunked");
  std::string length = header("Content-Length");
  if (!chunked_ && !length.empty()) {
    if (!absl::SimpleAtoi(length, &content_length_) || content_length_ < 0) {
      return absl::DataLossError("malformed Content-Length from the agent");
    }
    remaining_ = content_length_;
  }
  if (status_ == 204 || status_ == 304 || method_ == "HEAD") done_ = true;
  return absl::OkStatus();
}

std::string AgentExchange::header(absl::string_view name) const {
  for (const auto& [k, v] : headers_) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

absl::Status AgentExchange::Fill() {
  if (eof_) return absl::DataLossError("the agent closed the connection mid-response");
  pollfd p{fd_.get(), POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(idle_timeout_)));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return absl::DeadlineExceededError("the agent stopped answering");
  std::size_t old = buffer_.size();
  buffer_.resize(old + kReadSize);
  ssize_t n;
  do {
    n = ::read(fd_.get(), buffer_.data() + old, kReadSize);
  } while (n < 0 && errno == EINTR);
  buffer_.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  if (n < 0)
    return absl::UnavailableError(absl::StrCat("read from the agent: ", std::strerror(errno)));
  if (n == 0) eof_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> AgentExchange::ReadLine() {
  for (;;) {
    std::size_t end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (buffer_.size() > kMaxHead) return absl::DataLossError("response line too long");
    if (eof_) return absl::DataLossError("the agent closed the connection mid-response");
    if (auto s = Fill(); !s.ok()) return s;
  }
}

std::pair<UniqueFd, std::string> AgentExchange::Release() && {
  return {std::move(fd_), std::exchange(buffer_, std::string())};
}

absl::StatusOr<std::string> AgentExchange::ReadBody() {
  if (done_) return std::string();
  if (!chunked_ && remaining_ < 0) {  // until EOF
    if (buffer_.empty()) {
      if (eof_) {
        done_ = true;
        return std::string();
      }
      if (auto s = Fill(); !s.ok()) return s;
    }
    return std::exchange(buffer_, std::string());
  }
  if (chunked_ && remaining_ <= 0) {
    if (remaining_ == 0) {  // the CRLF after the previous chunk's data
      auto crlf = ReadLine();
      if (!crlf.ok()) return crlf.status();
    }
    auto size_line = ReadLine();
    if (!size_line.ok()) return size_line.status();
    absl::string_view hex = *size_line;
    hex = hex.substr(0, hex.find(';'));
    unsigned long long size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(hex), &size)) {
      return absl::DataLossError("malformed chunk size from the agent");
    }
    if (size == 0) {
      done_ = true;
      return std::string();
    }
    remaining_ = static_cast<long long>(size);
  }
  if (!chunked_ && remaining_ == 0) {
    done_ = true;
    return std::string();
  }
  if (buffer_.empty()) {
    if (auto s = Fill(); !s.ok()) return s;
  }
  std::size_t take = std::min<std::size_t>(buffer_.size(), static_cast<std::size_t>(remaining_));
  std::string piece = buffer_.substr(0, take);
  buffer_.erase(0, take);
  remaining_ -= static_cast<long long>(take);
  return piece;
}

absl::Status PingAgent(const std::string& socket_path, absl::Duration timeout) {
  auto x = AgentExchange::Start(socket_path, "GET", "/ping", {}, "", timeout);
  if (!x.ok()) return x.status();
  if ((*x)->status() != 200) {
    return absl::UnavailableError(absl::StrCat("the agent answered /ping with ", (*x)->status()));
  }
  return absl::OkStatus();
}

}  // namespace osb::runtime
