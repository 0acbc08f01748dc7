#include "rest/error.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "rest/string_views.h"

namespace rest {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kErrorCodeUrl = "type.opensandbox.io/error-code";
constexpr absl::string_view kHttpStatusUrl = "type.opensandbox.io/http-status";
constexpr absl::string_view kRequestIdUrl = "type.opensandbox.io/request-id";
constexpr absl::string_view kRetryAfterMsUrl = "type.opensandbox.io/retry-after-ms";

// The defaults of the official server's exception handler (COMPAT.md §1.1).
constexpr std::string_view kDefaultCode = "GENERAL::UNKNOWN_ERROR";
constexpr std::string_view kDefaultMessage = "An unexpected error occurred.";
// What the official SDKs report for a body they cannot read.
constexpr std::string_view kUnexpectedResponse = "UNEXPECTED_RESPONSE";

// An HTML error page from a proxy can be large; the message only needs to identify it.
constexpr std::size_t kMaxBodyInMessage = 1024;

std::string Dump(const Json& j) {
  // `replace` because a body is untrusted and may hold invalid UTF-8, which must not throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Cuts `body` to kMaxBodyInMessage bytes without splitting a UTF-8 sequence.
std::string TruncateBody(std::string_view body) {
  if (body.size() <= kMaxBodyInMessage) return std::string(body);
  std::size_t end = kMaxBodyInMessage;
  while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(AbslView(body.substr(0, end)), "...");
}

// A string member as text; a non-string value is kept in its JSON form rather than lost.
std::optional<std::string> TextOf(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  return Dump(*it);
}

// FastAPI's request-validation list: [{"loc":["body","timeout"],"msg":"...",...}, ...].
std::string ValidationMessage(const Json& details) {
  std::vector<std::string> parts;
  for (const Json& item : details) {
    if (!item.is_object() || !item.contains("msg") || !item["msg"].is_string()) {
      parts.push_back(Dump(item));
      continue;
    }
    std::vector<std::string> loc;
    if (auto it = item.find("loc"); it != item.end() && it->is_array()) {
      for (const Json& element : *it) {
        loc.push_back(element.is_string() ? element.get<std::string>() : Dump(element));
      }
    }
    const std::string& msg = item["msg"].get_ref<const std::string&>();
    parts.push_back(loc.empty() ? msg : absl::StrCat(absl::StrJoin(loc, "."), ": ", msg));
  }
  return absl::StrJoin(parts, "; ");
}

ErrorResponse FromCodeAndMessage(const Json& obj) {
  return ErrorResponse{TextOf(obj, "code").value_or(std::string(kDefaultCode)),
                       TextOf(obj, "message").value_or(std::string(kDefaultMessage))};
}

std::string PayloadOf(const absl::Status& status, absl::string_view type_url) {
  auto payload = status.GetPayload(type_url);  // absl::optional: not std:: in this Abseil build
  return payload.has_value() ? std::string(*payload) : std::string();
}

absl::StatusCode CodeForHttpFamily(int http_status) {
  if (http_status >= 500 && http_status <= 599) return absl::StatusCode::kUnavailable;
  if (http_status >= 400 && http_status <= 499) return absl::StatusCode::kFailedPrecondition;
  // Not an error status at all (e.g. an unfollowed redirect): the exchange still failed, and the
  // caller must never get an OK status from here.
  return absl::StatusCode::kUnknown;
}

}  // namespace

nlohmann::json ToJson(const ErrorResponse& e) {
  return Json{{"code", e.code}, {"message", e.message}};
}

ErrorResponse ParseErrorResponse(std::string_view body) {
  if (absl::StripAsciiWhitespace(AbslView(body)).empty()) {
    return ErrorResponse{std::string(kUnexpectedResponse), "empty response body"};
  }
  const Json j = Json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return ErrorResponse{std::string(kUnexpectedResponse), TruncateBody(body)};
  }
  if (j.contains("code") || j.contains("message")) return FromCodeAndMessage(j);
  if (auto it = j.find("detail"); it != j.end()) {
    const Json& detail = *it;
    if (detail.is_object()) return FromCodeAndMessage(detail);
    if (detail.is_string()) {
      return ErrorResponse{std::string(kDefaultCode), detail.get<std::string>()};
    }
    if (detail.is_array() && !detail.empty()) {
      return ErrorResponse{std::string(kDefaultCode), ValidationMessage(detail)};
    }
  }
  if (auto error = TextOf(j, "error"); error.has_value()) {
    return ErrorResponse{std::string(kDefaultCode), *std::move(error)};
  }
  return ErrorResponse{std::string(kDefaultCode), std::string(kDefaultMessage)};
}

absl::StatusCode StatusCodeFromHttp(int http_status) {
  switch (http_status) {
    case 400:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kFailedPrecondition;
    case 416:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 501:  // the service will never do it: retrying, as UNAVAILABLE invites, cannot help
      return absl::StatusCode::kUnimplemented;
    default:
      return CodeForHttpFamily(http_status);
  }
}

int HttpStatusFromCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

absl::Status StatusFromHttp(int http_status, std::string_view body, std::string_view request_id) {
  ErrorResponse parsed = ParseErrorResponse(body);
  absl::Status status(StatusCodeFromHttp(http_status), parsed.message);
  status.SetPayload(kErrorCodeUrl, absl::Cord(parsed.code));
  status.SetPayload(kHttpStatusUrl, absl::Cord(absl::StrCat(http_status)));
  if (!request_id.empty()) status.SetPayload(kRequestIdUrl, absl::Cord(AbslView(request_id)));
  return status;
}

absl::Status MakeError(absl::StatusCode code, std::string_view error_code,
                       std::string_view message) {
  absl::Status status(code, AbslView(message));
  if (!error_code.empty()) status.SetPayload(kErrorCodeUrl, absl::Cord(AbslView(error_code)));
  return status;
}

void SetRetryAfter(absl::Status& status, absl::Duration delay) {
  status.SetPayload(kRetryAfterMsUrl, absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(delay))));
}

std::optional<absl::Duration> RetryAfterOf(const absl::Status& status) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(PayloadOf(status, kRetryAfterMsUrl), &ms)) return std::nullopt;
  return absl::Milliseconds(ms);
}

std::string ErrorCodeOf(const absl::Status& status) { return PayloadOf(status, kErrorCodeUrl); }

int HttpStatusOf(const absl::Status& status) {
  int http_status = 0;
  if (!absl::SimpleAtoi(PayloadOf(status, kHttpStatusUrl), &http_status)) return 0;
  return http_status;
}

std::string RequestIdOf(const absl::Status& status) { return PayloadOf(status, kRequestIdUrl); }

ErrorResponse ErrorResponseFromStatus(const absl::Status& status) {
  std::string code = ErrorCodeOf(status);
  if (code.empty()) code = absl::StatusCodeToString(status.code());
  return ErrorResponse{std::move(code), std::string(status.message())};
}

}  // namespace rest
