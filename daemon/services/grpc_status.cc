#include "daemon/services/grpc_status.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/services/field_error.h"
#include "daemon/upstream/curl_loop.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "rest/error.h"

namespace osb::daemon {
namespace {

// `message` with `info` (and a RetryInfo when the server asked to wait) in the
// grpc-status-details-bin trailer (common.proto, "Errors").
grpc::Status WithErrorInfo(grpc::StatusCode code, const std::string& message,
                           const google::rpc::ErrorInfo& info,
                           std::optional<absl::Duration> retry_after = std::nullopt) {
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(code));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  if (retry_after.has_value()) {
    google::rpc::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(absl::ToInt64Seconds(*retry_after));
    details.add_details()->PackFrom(retry);
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  const std::string code = rest::ErrorCodeOf(status);
  const std::string request_id = rest::RequestIdOf(status);
  if (!code.empty()) message = absl::StrCat(code, ": ", message);
  if (!request_id.empty()) absl::StrAppend(&message, " (request id ", request_id, ")");
  // absl and gRPC share the canonical code numbering.
  const auto grpc_code = static_cast<grpc::StatusCode>(status.code());
  const std::optional<absl::Duration> retry_after = rest::RetryAfterOf(status);
  if (std::optional<std::string> field = InvalidFieldOf(status); field.has_value()) {
    // A bad request of the caller's: the field, for programs, as google.rpc.BadRequest.
    google::rpc::Status details;
    details.set_code(static_cast<int32_t>(grpc_code));
    details.set_message(message);
    google::rpc::BadRequest bad_request;
    google::rpc::BadRequest::FieldViolation* violation = bad_request.add_field_violations();
    violation->set_field(*field);
    violation->set_description(message);
    details.add_details()->PackFrom(bad_request);
    return grpc::Status(grpc_code, message, details.SerializeAsString());
  }
  if (code.empty() && request_id.empty() && !retry_after.has_value()) {
    return grpc::Status(grpc_code, message);
  }

  // An upstream failure: its code and request id as a google.rpc.ErrorInfo in the
  // grpc-status-details-bin trailer too, for programs (common.proto, "Errors").
  google::rpc::ErrorInfo info;
  info.set_reason(code);
  // osbd's own reasons ("OSBD::READY_TIMEOUT") are told apart from the service's by domain.
  info.set_domain(absl::StartsWith(code, "OSBD::") ? "osbd.opensandbox.io" : "opensandbox.io");
  if (!request_id.empty()) (*info.mutable_metadata())["request_id"] = request_id;
  if (int http = rest::HttpStatusOf(status); http > 0) {
    (*info.mutable_metadata())["http_status"] = absl::StrCat(http);
  }
  if (auto origin = status.GetPayload(kOriginPayload); origin.has_value()) {
    (*info.mutable_metadata())["origin"] = std::string(*origin);
  }
  // The server asked to wait (429/503 with Retry-After): RetryInfo too, as common.proto promises.
  return WithErrorInfo(grpc_code, message, info, retry_after);
}

grpc::Status OsbdStatus(grpc::StatusCode code, const std::string& reason,
                        const std::string& message,
                        const std::map<std::string, std::string>& metadata) {
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain("osbd.opensandbox.io");
  info.mutable_metadata()->insert(metadata.begin(), metadata.end());
  return WithErrorInfo(code, message, info);
}

}  // namespace osb::daemon
