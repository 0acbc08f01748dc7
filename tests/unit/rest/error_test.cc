#include "rest/error.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseErrorResponseTest, CodeAndMessage) {
  ErrorResponse e =
      ParseErrorResponse(R"({"code":"DOCKER::SANDBOX_NOT_FOUND","message":"Sandbox x not found"})");
  EXPECT_EQ(e.code, "DOCKER::SANDBOX_NOT_FOUND");
  EXPECT_EQ(e.message, "Sandbox x not found");
}

TEST(ParseErrorResponseTest, MissingCodeOrMessageGetTheServerDefaults) {
  ErrorResponse no_code = ParseErrorResponse(R"({"message":"boom"})");
  EXPECT_EQ(no_code.code, "GENERAL::UNKNOWN_ERROR");
  EXPECT_EQ(no_code.message, "boom");

  ErrorResponse no_message = ParseErrorResponse(R"({"code":"X::Y"})");
  EXPECT_EQ(no_message.code, "X::Y");
  EXPECT_EQ(no_message.message, "An unexpected error occurred.");

  ErrorResponse nulls = ParseErrorResponse(R"({"code":null,"message":null})");
  EXPECT_EQ(nulls.code, "GENERAL::UNKNOWN_ERROR");
  EXPECT_EQ(nulls.message, "An unexpected error occurred.");

  ErrorResponse empty = ParseErrorResponse("{}");
  EXPECT_EQ(empty.code, "GENERAL::UNKNOWN_ERROR");
  EXPECT_EQ(empty.message, "An unexpected error occurred.");
}

TEST(ParseErrorResponseTest, FastApiDetailObject) {
  ErrorResponse e = ParseErrorResponse(
      R"({"detail":{"code":"SANDBOX::INVALID_PARAMETER","message":"bad expires"}})");
  EXPECT_EQ(e.code, "SANDBOX::INVALID_PARAMETER");
  EXPECT_EQ(e.message, "bad expires");
}

TEST(ParseErrorResponseTest, FastApiDetailString) {
  ErrorResponse e = ParseErrorResponse(R"({"detail":"Not Found"})");
  EXPECT_EQ(e.code, "GENERAL::UNKNOWN_ERROR");
  EXPECT_EQ(e.message, "Not Found");
}

TEST(ParseErrorResponseTest, FastApiValidationList) {
  // What FastAPI answers (422) for `timeout: 30`.
  ErrorResponse e = ParseErrorResponse(R"({"detail":[{"type":"greater_than_equal",
      "loc":["body","timeout"],"msg":"Input should be greater than or equal to 60",
      "input":30,"ctx":{"ge":60}},{"loc":["body","entrypoint",0],"msg":"bad"}]})");
  EXPECT_EQ(e.code, "GENERAL::UNKNOWN_ERROR");
  EXPECT_EQ(e.message,
            "body.timeout: Input should be greater than or equal to 60; body.entrypoint.0: bad");
}

TEST(ParseErrorResponseTest, ExecdErrorField) {
  ErrorResponse e = ParseErrorResponse(
      R"({"error":"Unauthorized: invalid or missing header X-EXECD-ACCESS-TOKEN"})");
  EXPECT_EQ(e.code, "GENERAL::UNKNOWN_ERROR");
  EXPECT_EQ(e.message, "Unauthorized: invalid or missing header X-EXECD-ACCESS-TOKEN");
}

TEST(ParseErrorResponseTest, NonStringValuesAreKeptAsJsonText) {
  ErrorResponse e = ParseErrorResponse(R"({"code":404,"message":{"why":"gone"}})");
  EXPECT_EQ(e.code, "404");
  EXPECT_EQ(e.message, R"({"why":"gone"})");
}

TEST(ParseErrorResponseTest, NonJsonBodyIsUnexpectedResponse) {
  ErrorResponse e = ParseErrorResponse("<html><body>502 Bad Gateway</body></html>");
  EXPECT_EQ(e.code, "UNEXPECTED_RESPONSE");
  EXPECT_EQ(e.message, "<html><body>502 Bad Gateway</body></html>");
}

TEST(ParseErrorResponseTest, JsonThatIsNotAnObjectIsUnexpectedResponse) {
  EXPECT_EQ(ParseErrorResponse(R"(["a"])").code, "UNEXPECTED_RESPONSE");
  EXPECT_EQ(ParseErrorResponse(R"("text")").code, "UNEXPECTED_RESPONSE");
  EXPECT_EQ(ParseErrorResponse("null").code, "UNEXPECTED_RESPONSE");
}

TEST(ParseErrorResponseTest, EmptyBodyHasAMessage) {
  for (const char* body : {"", "  \r\n"}) {
    ErrorResponse e = ParseErrorResponse(body);
    EXPECT_EQ(e.code, "UNEXPECTED_RESPONSE");
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(ParseErrorResponseTest, InvalidUtf8DoesNotThrow) {
  ErrorResponse e = ParseErrorResponse("{\"code\":\"\xff\xfe\",\"message\":\"x\"}");
  EXPECT_EQ(e.code, "UNEXPECTED_RESPONSE");
}

TEST(ParseErrorResponseTest, TruncatedJsonIsUnexpectedResponse) {
  ErrorResponse e = ParseErrorResponse(R"({"code":"X","mess)");
  EXPECT_EQ(e.code, "UNEXPECTED_RESPONSE");
  EXPECT_EQ(e.message, R"({"code":"X","mess)");
}

TEST(ParseErrorResponseTest, LongBodyIsTruncated) {
  ErrorResponse e = ParseErrorResponse(std::string(5000, 'x'));
  EXPECT_EQ(e.message, std::string(1024, 'x') + "...");
}

TEST(ParseErrorResponseTest, TruncationDoesNotSplitUtf8Characters) {
  std::string body = "<";
  for (int i = 0; i < 800; ++i) body += "\xc3\xa9";  // é
  // Byte 1024 is the second byte of an é, so the cut moves back to 1023.
  std::string expected = "<";
  for (int i = 0; i < 511; ++i) expected += "\xc3\xa9";
  EXPECT_EQ(ParseErrorResponse(body).message, expected + "...");
}

TEST(ErrorResponseTest, ToJsonWritesCodeAndMessage) {
  EXPECT_EQ(ToJson(ErrorResponse{"A::B", "m"}),
            nlohmann::json::parse(R"({"code":"A::B","message":"m"})"));
}

TEST(StatusCodeFromHttpTest, DocumentedMapping) {
  const std::pair<int, absl::StatusCode> cases[] = {
      {400, absl::StatusCode::kInvalidArgument},    {401, absl::StatusCode::kUnauthenticated},
      {403, absl::StatusCode::kPermissionDenied},   {404, absl::StatusCode::kNotFound},
      {409, absl::StatusCode::kFailedPrecondition}, {422, absl::StatusCode::kInvalidArgument},
      {429, absl::StatusCode::kResourceExhausted},  {501, absl::StatusCode::kUnimplemented},
      {503, absl::StatusCode::kUnavailable},        {504, absl::StatusCode::kUnavailable},
      {500, absl::StatusCode::kUnavailable},        {502, absl::StatusCode::kUnavailable},
      {599, absl::StatusCode::kUnavailable},        {405, absl::StatusCode::kFailedPrecondition},
      {416, absl::StatusCode::kOutOfRange},
      {410, absl::StatusCode::kFailedPrecondition}, {499, absl::StatusCode::kFailedPrecondition},
  };
  for (const auto& [http, code] : cases) {
    EXPECT_EQ(StatusCodeFromHttp(http), code) << "HTTP " << http;
  }
}

TEST(StatusCodeFromHttpTest, NonErrorStatusNeverMapsToOk) {
  for (int http : {0, 100, 200, 204, 302, 600}) {
    EXPECT_NE(StatusCodeFromHttp(http), absl::StatusCode::kOk) << "HTTP " << http;
  }
}

TEST(HttpStatusFromCodeTest, InverseOfStatusCodeFromHttp) {
  for (int http : {400, 401, 403, 404, 409, 429, 501, 503}) {
    EXPECT_EQ(HttpStatusFromCode(StatusCodeFromHttp(http)), http) << "HTTP " << http;
  }
  // What a server of this project answers for the codes an upstream never maps to.
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kInternal), 500);
}

TEST(HttpStatusFromCodeTest, OtherCodes) {
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kUnknown), 500);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kCancelled), 500);
}

TEST(StatusFromHttpTest, CarriesCodeMessageAndPayloads) {
  absl::Status s = StatusFromHttp(
      404, R"({"code":"DOCKER::SANDBOX_NOT_FOUND","message":"Sandbox abc not found"})", "req-1");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Sandbox abc not found");
  EXPECT_EQ(ErrorCodeOf(s), "DOCKER::SANDBOX_NOT_FOUND");
  EXPECT_EQ(HttpStatusOf(s), 404);
  EXPECT_EQ(RequestIdOf(s), "req-1");
}

TEST(StatusFromHttpTest, ValidationErrorIsInvalidArgument) {
  absl::Status s = StatusFromHttp(
      422, R"({"detail":[{"loc":["body","timeout"],"msg":"Input should be >= 60"}]})", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("body.timeout"));
  EXPECT_EQ(HttpStatusOf(s), 422);
  EXPECT_EQ(RequestIdOf(s), "");
}

TEST(StatusFromHttpTest, ProxyErrorPage) {
  absl::Status s = StatusFromHttp(502, "<html>Bad Gateway</html>", "r");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf(s), "UNEXPECTED_RESPONSE");
  EXPECT_THAT(std::string(s.message()), StartsWith("<html>"));
}

TEST(StatusFromHttpTest, UnexpectedSuccessStatusIsStillAnError) {
  absl::Status s = StatusFromHttp(200, "not json", "");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(HttpStatusOf(s), 200);
}

TEST(MakeErrorTest, CarriesErrorCodeOnly) {
  absl::Status s = MakeError(absl::StatusCode::kNotFound, kSandboxNotFound, "no sandbox x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no sandbox x");
  EXPECT_EQ(ErrorCodeOf(s), "SANDBOX::NOT_FOUND");
  EXPECT_EQ(HttpStatusOf(s), 0);
  EXPECT_EQ(RequestIdOf(s), "");
}

TEST(PayloadAccessorsTest, EmptyOnPlainStatuses) {
  for (const absl::Status& s : {absl::OkStatus(), absl::InternalError("x")}) {
    EXPECT_EQ(ErrorCodeOf(s), "");
    EXPECT_EQ(HttpStatusOf(s), 0);
    EXPECT_EQ(RequestIdOf(s), "");
  }
}

TEST(ErrorResponseFromStatusTest, UsesTheAttachedCode) {
  ErrorResponse e = ErrorResponseFromStatus(
      MakeError(absl::StatusCode::kInvalidArgument, kInvalidParameter, "bad port"));
  EXPECT_EQ(e.code, "SANDBOX::INVALID_PARAMETER");
  EXPECT_EQ(e.message, "bad port");
}

TEST(ErrorResponseFromStatusTest, DerivesACodeWhenNoneIsAttached) {
  EXPECT_EQ(ErrorResponseFromStatus(absl::NotFoundError("gone")).code, "NOT_FOUND");
  EXPECT_EQ(ErrorResponseFromStatus(absl::NotFoundError("gone")).message, "gone");
  EXPECT_EQ(ErrorResponseFromStatus(absl::InvalidArgumentError("x")).code, "INVALID_ARGUMENT");
  EXPECT_EQ(ErrorResponseFromStatus(absl::InternalError("x")).code, "INTERNAL");
}

TEST(ErrorRoundTripTest, ServerErrorReachesTheClientIntact) {
  const absl::Status server =
      MakeError(absl::StatusCode::kFailedPrecondition, "DOCKER::SANDBOX_NOT_RUNNING", "paused");
  const std::string body = ToJson(ErrorResponseFromStatus(server)).dump();
  const absl::Status client = StatusFromHttp(HttpStatusFromCode(server.code()), body, "id-9");
  EXPECT_EQ(client.code(), server.code());
  EXPECT_EQ(client.message(), server.message());
  EXPECT_EQ(ErrorCodeOf(client), ErrorCodeOf(server));
  EXPECT_EQ(HttpStatusOf(client), 409);
  EXPECT_EQ(RequestIdOf(client), "id-9");
}

}  // namespace
}  // namespace rest
