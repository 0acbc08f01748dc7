#include "daemon/upstream/retrying_send.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace osb::daemon {
namespace {

constexpr int kMaxAttempts = 4;
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(10);

bool Idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "DELETE" || method == "PUT";
}

bool RetryableStatus(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

using Done = std::function<void(HttpResult)>;

void Attempt(CurlLoop& loop, std::shared_ptr<HttpRequest> request, int attempt,
             absl::Time deadline, std::shared_ptr<Done> done) {
  request->attempt = attempt;
  loop.Start(*request, {.on_done = [&loop, request, attempt, deadline, done](HttpResult r) {
               const bool failed_transport =
                   !r.transport.ok() && absl::IsUnavailable(r.transport);
               if (Idempotent(request->method) && attempt < kMaxAttempts &&
                   (failed_transport || (r.transport.ok() && RetryableStatus(r.status)))) {
                 absl::Duration delay =
                     RetryAfterOf(r).value_or(kFirstBackoff * (1 << (attempt - 1)));
                 delay = std::min(delay, kMaxRetryDelay);
                 delay += delay / 4 * (static_cast<double>(absl::ToUnixNanos(absl::Now()) % 100) /
                                       100.0);
                 if (absl::Now() + delay < deadline) {
                   return loop.Post(
                       [&loop, request, attempt, deadline, done] {
                         Attempt(loop, request, attempt + 1, deadline, done);
                       },
                       delay);
                 }
               }
               (*done)(std::move(r));
             }});
}

}  // namespace

void SendWithRetries(CurlLoop& loop, HttpRequest request, std::function<void(HttpResult)> done) {
  const absl::Time deadline = absl::Now() + request.timeout;
  Attempt(loop, std::make_shared<HttpRequest>(std::move(request)), 1, deadline,
          std::make_shared<Done>(std::move(done)));
}

std::optional<absl::Duration> RetryAfterOf(const HttpResult& result) {
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(result.header("retry-after"), &seconds) || seconds < 0) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

}  // namespace osb::daemon
