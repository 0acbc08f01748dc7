// osbd's one conversion to a gRPC status: the message a user reads and the ErrorInfo a program
// reads.
#include "daemon/services/grpc_status.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <tuple>

#include "daemon/services/field_error.h"
#include "daemon/upstream/curl_loop.h"
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

// A service osbd cannot reach: the transfer's status reaches clients with osbd's reason and
// the origin, as common.proto promises.
TEST(GrpcStatusTest, AnUnreachableServiceIsNamedWithOsbdsReasonAndItsOrigin) {
  CurlLoop loop;
  std::promise<HttpResult> done;
  HttpRequest request;
  request.url = "http://127.0.0.1:1/v1/sandboxes";  // nothing listens on port 1
  loop.Start(request, {.on_done = [&done](HttpResult r) { done.set_value(std::move(r)); }});
  HttpResult result = done.get_future().get();
  grpc::Status status = ToGrpcStatus(result.transport);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("127.0.0.1:1"), std::string::npos)
      << status.error_message();
  google::rpc::ErrorInfo info = InfoOf(status);
  EXPECT_EQ(info.reason(), "OSBD::UPSTREAM_UNREACHABLE");
  EXPECT_EQ(info.domain(), "osbd.opensandbox.io");
  EXPECT_EQ(info.metadata().at("origin"), "http://127.0.0.1:1");
}

TEST(GrpcStatusTest, APlainFailureHasNoDetails) {
  grpc::Status status = ToGrpcStatus(absl::InvalidArgumentError("the request is wrong"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "the request is wrong");
  EXPECT_TRUE(status.error_details().empty());
}

TEST(GrpcStatusTest, AFieldErrorNamesTheFieldInABadRequest) {
  EXPECT_TRUE(RequiredField("x", "pool_name").ok());
  for (const auto& [error, field, message] :
       {std::tuple{RequiredField("", "pool_name"), "pool_name", "pool_name is required"},
        std::tuple{InvalidField("health_check.tcp.port", "must be 1 to 65535"),
                   "health_check.tcp.port", "health_check.tcp.port must be 1 to 65535"}}) {
    grpc::Status status = ToGrpcStatus(error);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), message);
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()));
    ASSERT_EQ(details.details_size(), 1);
    google::rpc::BadRequest bad_request;
    ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
    ASSERT_EQ(bad_request.field_violations_size(), 1);
    EXPECT_EQ(bad_request.field_violations(0).field(), field);
    EXPECT_EQ(bad_request.field_violations(0).description(), message);
  }
}

}  // namespace
}  // namespace osb::daemon
