// One HTTP/1.1 request to an osb-agent over its Unix socket, with the response body read
// incrementally: the runtime's proxy streams it on as it arrives, and readiness checks use it
// for GET /ping. One request per connection (`Connection: close`).
//
//   auto x = AgentExchange::Start(socket, "POST", "/command", headers, body);
//   if (!x.ok()) ...  // 502: the agent cannot be reached
//   (*x)->status();   // the agent's status and headers are known once Start returns
//   while (true) { auto piece = (*x)->ReadBody(); if (!piece.ok() || piece->empty()) break; ... }
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class AgentExchange {
 public:
  // Connects, sends the request and reads the response head. Unavailable when the socket cannot
  // be reached; DataLoss for a malformed response; DeadlineExceeded when the agent is silent for
  // `idle_timeout`. `headers` must not contain Host, Connection, Content-Length or
  // Transfer-Encoding: the exchange sets them. With an Upgrade header the request asks for a
  // protocol switch (`Connection: Upgrade`) instead of closing after the response.
  static absl::StatusOr<std::unique_ptr<AgentExchange>> Start(
      const std::string& socket_path, absl::string_view method, absl::string_view target,
      const HeaderList& headers, absl::string_view body,
      absl::Duration idle_timeout = absl::Seconds(30));

  // The same in steps, for a body that is sent as it arrives: Open connects and sends the head
  // (the body is chunked when `body_length` is nullopt), SendBody sends a piece of the body, and
  // FinishRequest ends the body and reads the response head. When SendBody fails because the
  // agent answered early and closed, FinishRequest still reads that answer.
  static absl::StatusOr<std::unique_ptr<AgentExchange>> Open(
      const std::string& socket_path, absl::string_view method, absl::string_view target,
      const HeaderList& headers, std::optional<std::size_t> body_length,
      absl::Duration idle_timeout = absl::Seconds(30));
  // Open over a connection already made (to a port inside the sandbox), with `host` as Host.
  static absl::StatusOr<std::unique_ptr<AgentExchange>> OpenOn(
      UniqueFd connected, absl::string_view host, absl::string_view method,
      absl::string_view target, const HeaderList& headers, std::optional<std::size_t> body_length,
      absl::Duration idle_timeout = absl::Seconds(30));
  absl::Status SendBody(absl::string_view piece);
  absl::Status FinishRequest();

  int status() const { return status_; }
  const HeaderList& headers() const { return headers_; }
  // The value of a response header (case-insensitive name), or "".
  std::string header(absl::string_view name) const;
  // The body's length when the agent declared it with Content-Length, else -1.
  long long content_length() const { return content_length_; }

  // The next piece of the body, dechunked; empty at the end of the body. Errors as Start.
  absl::StatusOr<std::string> ReadBody();

  // After a 101 answer: the connection, and the bytes already read past the response head.
  std::pair<UniqueFd, std::string> Release() &&;

 private:
  AgentExchange() = default;
  absl::Status Fill();  // reads more bytes into buffer_; DataLoss at EOF
  absl::StatusOr<std::string> ReadLine();

  UniqueFd fd_;
  std::string method_;
  bool chunked_request_ = false;
  bool send_failed_ = false;
  absl::Duration idle_timeout_;
  std::string buffer_;
  bool eof_ = false;
  int status_ = 0;
  HeaderList headers_;
  long long content_length_ = -1;
  long long remaining_ = -1;  // bytes left in the current chunk or the whole body
  bool chunked_ = false;
  bool done_ = false;
};

// GET /ping answered 200.
absl::Status PingAgent(const std::string& socket_path, absl::Duration timeout);

}  // namespace osb::runtime
