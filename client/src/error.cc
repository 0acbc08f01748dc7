#include "opensandbox/error.h"

#include <string>

#include "absl/strings/numbers.h"
#include "client/src/error_payloads.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace opensandbox {
namespace {

constexpr char kCodeUrl[] = "opensandbox.io/error/code";
constexpr char kRequestIdUrl[] = "opensandbox.io/error/request_id";
constexpr char kHttpStatusUrl[] = "opensandbox.io/error/http_status";
constexpr char kRetryAfterMsUrl[] = "opensandbox.io/error/retry_after_ms";
constexpr char kFieldUrl[] = "opensandbox.io/error/field";

std::string PayloadOf(const absl::Status& status, const char* url) {
  auto payload = status.GetPayload(url);
  return payload.has_value() ? std::string(*payload) : std::string();
}

}  // namespace

ErrorDetails GetErrorDetails(const absl::Status& status) {
  ErrorDetails details;
  if (status.ok()) return details;
  details.code = PayloadOf(status, kCodeUrl);
  details.request_id = PayloadOf(status, kRequestIdUrl);
  (void)absl::SimpleAtoi(PayloadOf(status, kHttpStatusUrl), &details.http_status);
  if (std::int64_t ms = 0; absl::SimpleAtoi(PayloadOf(status, kRetryAfterMsUrl), &ms)) {
    details.retry_after = absl::Milliseconds(ms);
  }
  details.field = PayloadOf(status, kFieldUrl);
  return details;
}

bool IsReadyTimeout(const absl::Status& status) {
  return status.code() == absl::StatusCode::kDeadlineExceeded &&
         GetErrorDetails(status).code == "OSBD::READY_TIMEOUT";
}

bool IsUnhealthy(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition &&
         GetErrorDetails(status).code == "OSBD::SANDBOX_UNHEALTHY";
}

namespace internal {

void AttachDetails(const std::string& serialized_details, absl::Status& status) {
  if (status.ok() || serialized_details.empty()) return;
  google::rpc::Status details;
  if (!details.ParseFromString(serialized_details)) return;
  for (const auto& any : details.details()) {
    if (google::rpc::ErrorInfo info; any.UnpackTo(&info)) {
      if (!info.reason().empty()) status.SetPayload(kCodeUrl, absl::Cord(info.reason()));
      const auto& metadata = info.metadata();
      if (auto it = metadata.find("request_id"); it != metadata.end()) {
        status.SetPayload(kRequestIdUrl, absl::Cord(it->second));
      }
      if (auto it = metadata.find("http_status"); it != metadata.end()) {
        status.SetPayload(kHttpStatusUrl, absl::Cord(it->second));
      }
    } else if (google::rpc::RetryInfo retry; any.UnpackTo(&retry)) {
      const std::int64_t ms =
          retry.retry_delay().seconds() * 1000 + retry.retry_delay().nanos() / 1000000;
      status.SetPayload(kRetryAfterMsUrl, absl::Cord(std::to_string(ms)));
    } else if (google::rpc::BadRequest bad;
               any.UnpackTo(&bad) && bad.field_violations_size() > 0 &&
               !status.GetPayload(kFieldUrl).has_value()) {
      status.SetPayload(kFieldUrl, absl::Cord(bad.field_violations(0).field()));  // the first
    }
  }
}

}  // namespace internal
}  // namespace opensandbox
