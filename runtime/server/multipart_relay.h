// cpp-httplib parses every multipart/form-data request body itself and hands a handler only the
// parts, never the raw bytes. The proxy re-encodes the parts as they arrive into an equivalent
// body with the request's own boundary (so its Content-Type header stays valid) and streams that
// to the agent: part names, file names, content types and contents pass through unchanged; other
// part headers are dropped.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace osb::runtime {

// The boundary parameter of a multipart Content-Type; InvalidArgument when there is none.
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

class MultipartRelay {
 public:
  // `send` takes each piece of the re-encoded body; false stops the relay. The parser hands over
  // a few KiB at a time: pieces are gathered into sends of at least kBatch bytes (the agent
  // answers an upload only once its body has ended, so nothing waits on a gathered piece).
  using Send = std::function<bool(std::string_view piece)>;
  static constexpr std::size_t kBatch = 64 * 1024;
  MultipartRelay(std::string boundary, Send send)
      : boundary_(std::move(boundary)), send_(std::move(send)) {}

  bool OnPartHeader(const httplib::MultipartFormData& part);
  bool OnData(const char* data, std::size_t size);
  // The closing delimiter, after the last part; sends everything still gathered.
  bool Finish();

 private:
  bool Gather(std::string_view piece);

  std::string boundary_;
  Send send_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace osb::runtime
