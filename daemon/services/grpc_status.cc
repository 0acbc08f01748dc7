#include "daemon/services/grpc_status.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "rest/error.h"

namespace osb::daemon {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  const std::string code = rest::ErrorCodeOf(status);
  const std::string request_id = rest::RequestIdOf(status);
  if (!code.empty()) message = absl::StrCat(code, ": ", message);
  if (!request_id.empty()) absl::StrAppend(&message, " (request id ", request_id, ")");
  // absl and gRPC share the canonical code numbering.
  const auto grpc_code = static_cast<grpc::StatusCode>(status.code());
  if (code.empty() && request_id.empty()) return grpc::Status(grpc_code, message);

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
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(grpc_code));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  return grpc::Status(grpc_code, message, details.SerializeAsString());
}

}  // namespace osb::daemon
