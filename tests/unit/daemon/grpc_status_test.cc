// osbd's one conversion to a gRPC status: the message a user reads and the ErrorInfo a program
// reads.
#include "daemon/services/grpc_status.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "rest/error.h"

namespace osb::daemon {
namespace {

google::rpc::ErrorInfo InfoOf(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  google::rpc::ErrorInfo info;
  EXPECT_EQ(details.details_size(), 1);
  if (details.details_size() == 1) {
    EXPECT_TRUE(details.details(0).UnpackTo(&info));
  }
  return info;
}

TEST(GrpcStatusTest, AnUpstreamErrorCarriesItsCodeRequestIdAndHttpStatus) {
  grpc::Status status = ToGrpcStatus(rest::StatusFromHttp(
      404, R"({"code":"DOCKER::SANDBOX_NOT_FOUND","message":"no such sandbox"})", "req-1"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "DOCKER::SANDBOX_NOT_FOUND: no such sandbox (request id req-1)");
  google::rpc::ErrorInfo info = InfoOf(status);
  EXPECT_EQ(info.reason(), "DOCKER::SANDBOX_NOT_FOUND");
  EXPECT_EQ(info.domain(), "opensandbox.io");
  EXPECT_EQ(info.metadata().at("request_id"), "req-1");
  EXPECT_EQ(info.metadata().at("http_status"), "404");
}

TEST(GrpcStatusTest, OsbdsOwnReasonsHaveOsbdsDomain) {
  grpc::Status status = ToGrpcStatus(
      rest::MakeError(absl::StatusCode::kDeadlineExceeded, "OSBD::READY_TIMEOUT", "not ready"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  google::rpc::ErrorInfo info = InfoOf(status);
  EXPECT_EQ(info.reason(), "OSBD::READY_TIMEOUT");
  EXPECT_EQ(info.domain(), "osbd.opensandbox.io");
}

TEST(GrpcStatusTest, APlainFailureHasNoDetails) {
  grpc::Status status = ToGrpcStatus(absl::InvalidArgumentError("sandbox_id is required"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "sandbox_id is required");
  EXPECT_TRUE(status.error_details().empty());
}

}  // namespace
}  // namespace osb::daemon
