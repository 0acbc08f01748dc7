// The OpenSandbox error model: every non-2xx response of the lifecycle API and of execd carries
// `{"code": "...", "message": "..."}`. This file converts between that body, HTTP status codes
// and absl::Status, so each boundary converts once.
//
//   absl::Status s = rest::StatusFromHttp(404, body, "req-1");
//   // s.code() == kNotFound; rest::ErrorCodeOf(s) == "DOCKER::SANDBOX_NOT_FOUND"
#pragma once

#include <optional>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace rest {

// Codes used by this project's servers (the official ones where they exist, COMPAT.md §1.6, §2.1).
inline constexpr std::string_view kMissingApiKey = "MISSING_API_KEY";
inline constexpr std::string_view kInvalidApiKey = "INVALID_API_KEY";
inline constexpr std::string_view kSandboxNotFound = "SANDBOX::NOT_FOUND";
inline constexpr std::string_view kInvalidParameter = "SANDBOX::INVALID_PARAMETER";
inline constexpr std::string_view kSandboxStartFailed = "SANDBOX::START_FAILED";
inline constexpr std::string_view kSandboxNotRunning = "SANDBOX::NOT_RUNNING";  // 409: pause, proxy
inline constexpr std::string_view kSandboxNotPaused = "SANDBOX::NOT_PAUSED";    // 409: resume
inline constexpr std::string_view kUnknownError = "SANDBOX::UNKNOWN_ERROR";
inline constexpr std::string_view kInvalidRequestBody = "INVALID_REQUEST_BODY";
inline constexpr std::string_view kRuntimeError = "RUNTIME_ERROR";
inline constexpr std::string_view kNotFound = "NOT_FOUND";
inline constexpr std::string_view kUnauthorized = "UNAUTHORIZED";
// execd's own codes (COMPAT.md §2.1).
inline constexpr std::string_view kMissingQuery = "MISSING_QUERY";
inline constexpr std::string_view kInvalidFile = "INVALID_FILE";
inline constexpr std::string_view kInvalidFileContent = "INVALID_FILE_CONTENT";
inline constexpr std::string_view kInvalidFileMetadata = "INVALID_FILE_METADATA";
inline constexpr std::string_view kFileNotFound = "FILE_NOT_FOUND";
inline constexpr std::string_view kContextNotFound = "CONTEXT_NOT_FOUND";
inline constexpr std::string_view kNotSupported = "NOT_SUPPORTED";
inline constexpr std::string_view kUnknown = "UNKNOWN";

// The `{"code","message"}` body.
struct ErrorResponse {
  std::string code;
  std::string message;
};

nlohmann::json ToJson(const ErrorResponse& e);

// Parses an error body as servers send it. Accepts `{"code","message"}`, FastAPI's
// `{"detail":{"code","message"}}` and `{"detail":"text"|[...]}`, and execd's
// `{"error":"text"}`. A missing code becomes "GENERAL::UNKNOWN_ERROR" and a missing message
// "An unexpected error occurred.", as the official server does. Never fails: a body that is not
// JSON yields code "UNEXPECTED_RESPONSE" with the (truncated) body as the message.
ErrorResponse ParseErrorResponse(std::string_view body);

// Maps an upstream's HTTP status to the absl code a caller should see (400→InvalidArgument,
// 401→Unauthenticated, 403→PermissionDenied, 404→NotFound, 409→FailedPrecondition,
// 416→OutOfRange, 422→InvalidArgument, 429→ResourceExhausted, 501→Unimplemented (the service
// will never do it), every other 5xx→Unavailable as in gRPC's own HTTP mapping (the service
// failed, not the request; the HTTP status itself stays in the payload), other
// 4xx→FailedPrecondition).
absl::StatusCode StatusCodeFromHttp(int http_status);

// The HTTP status a server answers for an absl code: 400, 401, 403, 404, 409, 429, 501 and 503
// as StatusCodeFromHttp maps them, plus kOk→200, kAlreadyExists and kAborted→409,
// kOutOfRange→400, kDeadlineExceeded→504, and 500 for anything unmapped.
int HttpStatusFromCode(absl::StatusCode code);

// Builds the status for a failed HTTP exchange: code from the HTTP status, message from the
// body, and the OpenSandbox error code, HTTP status and request id attached as payloads
// (read back with ErrorCodeOf, HttpStatusOf, RequestIdOf).
absl::Status StatusFromHttp(int http_status, std::string_view body, std::string_view request_id);

// A status carrying an OpenSandbox error code, for servers to answer with.
absl::Status MakeError(absl::StatusCode code, std::string_view error_code,
                       std::string_view message);

// Adds how long the server asked to wait before a retry (HTTP Retry-After) to `status`.
void SetRetryAfter(absl::Status& status, absl::Duration delay);
// That delay, when `status` carries one.
std::optional<absl::Duration> RetryAfterOf(const absl::Status& status);

// Payload accessors; each returns "" (or 0) when the status carries none.
std::string ErrorCodeOf(const absl::Status& status);
int HttpStatusOf(const absl::Status& status);
std::string RequestIdOf(const absl::Status& status);

// The `{"code","message"}` body for a status: ErrorCodeOf(status) when present, otherwise a code
// derived from status.code() (e.g. kNotFound → "NOT_FOUND").
ErrorResponse ErrorResponseFromStatus(const absl::Status& status);

}  // namespace rest
