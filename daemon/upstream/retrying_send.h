// The retry policy of every unary upstream request, lifecycle and execd alike (issue 5): an
// idempotent request (GET, HEAD, PUT, DELETE) is sent again, up to 4 attempts in all, when the
// service answers 429, 502, 503 or 504 or cannot be reached (a transport failure, Unavailable):
// after the answer's Retry-After, else after 100 ms doubling, with jitter so that many clients
// do not come back at once, and never past the request's own timeout. Any other request goes
// once (a stale connection's resend is CurlLoop's business).
#pragma once

#include <functional>
#include <optional>

#include "absl/time/time.h"
#include "daemon/upstream/curl_loop.h"

namespace osb::daemon {

// Sends `request` under the policy above; `done` gets the last attempt's result.
void SendWithRetries(CurlLoop& loop, HttpRequest request, std::function<void(HttpResult)> done);

// An answer's Retry-After, in whole seconds (the HTTP-date form is not used by OpenSandbox
// servers); nullopt when it has none.
std::optional<absl::Duration> RetryAfterOf(const HttpResult& result);

}  // namespace osb::daemon
