// What a gRPC status carries for programs (google.rpc.Status details), read back for tests.
// A test that includes this links osb_proto_status and osb_proto_error_details.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace osb::test {

// The google.rpc.ErrorInfo reason of `status`, e.g. "SANDBOX::NOT_FOUND"; empty when it has none.
inline std::string ErrorReason(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  google::rpc::ErrorInfo info;
  for (const auto& detail : details.details()) {
    if (detail.UnpackTo(&info)) return info.reason();
  }
  return "";
}

// The field of the google.rpc.BadRequest's first violation, e.g. "port"; empty when none.
inline std::string BadRequestField(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  google::rpc::BadRequest bad_request;
  for (const auto& detail : details.details()) {
    if (detail.UnpackTo(&bad_request) && bad_request.field_violations_size() > 0) {
      return bad_request.field_violations(0).field();
    }
  }
  return "";
}

}  // namespace osb::test
