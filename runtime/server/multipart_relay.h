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
  // `send` takes each piece of the re-encoded body; false stops the relay.
  using Send = std::function<bool(std::string_view piece)>;
  MultipartRelay(std::string boundary, Send send)
      : boundary_(std::move(boundary)), send_(std::move(send)) {}

  bool OnPartHeader(const httplib::MultipartFormData& part);
  bool OnData(const char* data, std::size_t size) { return send_(std::string_view(data, size)); }
  // The closing delimiter, after the last part.
  bool Finish();

 private:
  std::string boundary_;
  Send send_;
  bool first_ = true;
};

}  // namespace osb::runtime
