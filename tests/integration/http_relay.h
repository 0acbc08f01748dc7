// Just enough HTTP/1.1 to find message boundaries on a keep-alive connection and pass messages
// on as they arrive, for the test's own servers and proxies (FaultProxy): heads (start line and
// fields) and bodies framed by Content-Length, chunked or the end of the connection. Nothing is
// validated beyond what that needs.
//
//   SocketReader from_client(fd);
//   HttpHead request;
//   if (!ReadHead(from_client, &request)) return;  // the client closed the connection
//   uint64_t budget = kUnlimited;
//   SendAll(upstream, request.raw) && RelayBody(from_client, upstream, RequestFraming(request),
//                                               &budget);
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "rest/sys/send_all.h"

namespace osb::test {

using osb::SendAll;

// Buffered reads from one socket, which the reader does not own.
class SocketReader {
 public:
  explicit SocketReader(int fd) : fd_(fd) {}

  // One line without its CRLF (or LF). False at end of stream, on error, or past 64 KiB.
  bool Line(std::string* line);
  // What has arrived, at least one byte and at most `max`. False at end of stream or on error.
  bool Some(std::size_t max, std::string* out);

 private:
  bool Fill();

  const int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
};

// A request's or response's start line and fields, and the head to send on (line ends CRLF).
struct HttpHead {
  std::string raw;
  std::string start;
  std::vector<std::pair<std::string, std::string>> fields;

  // The first field `name` (case-insensitive); "" when there is none.
  std::string Field(absl::string_view name) const;
  // Whether the comma-separated field `name` lists `token` (case-insensitive).
  bool HasToken(absl::string_view name, absl::string_view token) const;
  // A response's status code; 0 when the start line has none.
  int Status() const;
};

// Reads one head. False when the stream ends (or breaks) before a whole head.
bool ReadHead(SocketReader& in, HttpHead* head);

// How a message's body is delimited.
struct BodyFraming {
  enum Kind { kNone, kLength, kChunked, kUntilClose } kind = kNone;
  uint64_t length = 0;  // kLength
};
BodyFraming RequestFraming(const HttpHead& request);
BodyFraming ResponseFraming(const HttpHead& response, const std::string& request_method);

inline constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

// Copies one body from `in` to the socket `out` as it arrives (`out` < 0 drops it), framing and
// all. `budget` is how many more bytes may be written, and is spent. False when the body broke
// off, or the budget ran out, before its end.
bool RelayBody(SocketReader& in, int out, const BodyFraming& framing, uint64_t* budget);

}  // namespace osb::test
