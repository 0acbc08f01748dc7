#include "runtime/agent/execd_reply.h"

#include <string>

#include "rest/error.h"
#include "runtime/common/http_response.h"

namespace osb::agent {

void ReplyExecdError(httplib::Response& res, const absl::Status& status) {
  std::string code = rest::ErrorCodeOf(status);
  int http_status;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      http_status = 404;
      if (code.empty()) code = rest::kFileNotFound;
      break;
    case absl::StatusCode::kInvalidArgument:
      http_status = 400;
      if (code.empty()) code = rest::kInvalidRequestBody;
      break;
    case absl::StatusCode::kResourceExhausted:
      http_status = 429;
      if (code.empty()) code = rest::kRuntimeError;
      break;
    case absl::StatusCode::kOutOfRange:  // an unsatisfiable Range
      http_status = 416;
      if (code.empty()) code = rest::kUnknown;
      break;
    default:
      http_status = 500;
      if (code.empty()) code = rest::kRuntimeError;
  }
  ReplyError(res, http_status, code, status.message());
}

}  // namespace osb::agent
