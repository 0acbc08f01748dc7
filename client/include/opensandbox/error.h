// What the SDK's errors carry beyond absl::Status's code and message.
//
// Every fallible call returns absl::Status or absl::StatusOr<T>, whose code is the canonical
// code osbd answered with: kNotFound (no such sandbox, file or command), kUnauthenticated (a bad
// API key), kResourceExhausted (rate limited; see retry_after), kDeadlineExceeded (among others,
// a sandbox that did not become ready: IsReadyTimeout), kInvalidArgument, kFailedPrecondition
// (e.g. pausing a paused sandbox; a sandbox that failed while it was awaited: IsUnhealthy),
// kUnavailable (osbd or the service cannot be reached).
//
//   auto info = sandbox.GetInfo();
//   if (!info.ok()) {
//     auto details = opensandbox::GetErrorDetails(info.status());
//     std::cerr << info.status() << " code=" << details.code
//               << " request=" << details.request_id << "\n";
//   }
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace opensandbox {

// The OpenSandbox side of a failure, as osbd reported it (google.rpc.ErrorInfo, RetryInfo and
// BadRequest).
// Fields are empty when osbd had nothing to say, e.g. for failures that happened in osbd itself.
struct ErrorDetails {
  // The OpenSandbox error code verbatim ("DOCKER::SANDBOX_NOT_FOUND", "FILE_NOT_FOUND") or an
  // osbd reason ("OSBD::READY_TIMEOUT").
  std::string code;
  // The upstream response's X-Request-ID, to quote when reporting the failure.
  std::string request_id;
  // The upstream HTTP status; 0 when the failure was not an HTTP answer.
  int http_status = 0;
  // How long the service asked to wait before retrying (HTTP Retry-After), when it did.
  std::optional<absl::Duration> retry_after;
  // The request's field osbd refused (kInvalidArgument), as its proto path: "port",
  // "health_check.tcp.port", "jobs[1].id".
  std::string field;
};

// The details `status` carries; all empty for OK and for statuses not made by this SDK.
ErrorDetails GetErrorDetails(const absl::Status& status);

// Whether `status` says that a sandbox did not become ready within its ready timeout.
bool IsReadyTimeout(const absl::Status& status);

// Whether `status` says that a sandbox failed (its state Failed or Terminated) while Create or
// Resume waited for it to become ready: the official SDKs' unhealthy sandbox.
bool IsUnhealthy(const absl::Status& status);

}  // namespace opensandbox
