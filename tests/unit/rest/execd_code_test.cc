// The code interpreter's request and context types: what osb-agent accepts and osbd sends.
#include "rest/execd_code.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "nlohmann/json.hpp"

namespace rest {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::string MessageOf(const absl::Status& s) { return std::string(s.message()); }

TEST(RunCodeRequestTest, ParsesAndRoundTrips) {
  const json original =
      json::parse(R"({"code":"x + 1","context":{"id":"abc","language":"python"}})");
  absl::StatusOr<RunCodeRequest> r = ParseRunCodeRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, "x + 1");
  EXPECT_EQ(r->context_id, "abc");
  EXPECT_EQ(r->language, "python");
  EXPECT_EQ(ToJson(*r), original);
  // No context, or one with empty fields (as SDKs send for a shell run), is a shell command.
  for (const char* body : {R"({"code":"ls"})", R"({"code":"ls","context":{}})",
                           R"({"code":"ls","context":{"id":"","language":""}})",
                           R"({"code":"ls","context":null})"}) {
    r = ParseRunCodeRequest(json::parse(body));
    ASSERT_TRUE(r.ok()) << body << " " << r.status();
    EXPECT_FALSE(r->context_id.has_value()) << body;
    EXPECT_FALSE(r->language.has_value()) << body;
    EXPECT_EQ(ToJson(*r), json::parse(R"({"code":"ls"})")) << body;
  }
}

TEST(RunCodeRequestTest, InvalidRequestsNameTheField) {
  const struct {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({})", "'code' is required"},
      {R"({"code":""})", "'code' must not be empty"},
      {R"({"code":1})", "code"},
      {R"({"code":"1","context":"python"})", "context"},
      {R"({"code":"1","context":{"id":7}})", "context.id"},
      {R"([1])", "JSON object"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<RunCodeRequest> r = ParseRunCodeRequest(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(MessageOf(r.status()), HasSubstr(c.message)) << c.body;
  }
}

TEST(CodeContextRequestTest, ParsesValidatesAndRoundTrips) {
  const json original = json::parse(R"({"language":"bash","cwd":"/tmp"})");
  absl::StatusOr<CodeContextRequest> r = ParseCodeContextRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->language, "bash");
  EXPECT_EQ(r->cwd, "/tmp");
  EXPECT_EQ(ToJson(*r), original);
  r = ParseCodeContextRequest(json::parse(R"({"language":"python","cwd":""})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cwd.has_value()) << "an empty cwd is none";
  for (const char* body : {R"({})", R"({"language":""})", R"({"language":3})", R"("python")"}) {
    EXPECT_EQ(ParseCodeContextRequest(json::parse(body)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << body;
  }
}

TEST(CodeContextTest, ParsesWhatExecdAnswers) {
  absl::StatusOr<CodeContext> c =
      ParseCodeContext(json::parse(R"({"id":"f00","language":"python"})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "f00");
  EXPECT_EQ(c->language, "python");
  EXPECT_FALSE(c->cwd.has_value());
  EXPECT_EQ(ToJson(*c), json::parse(R"({"id":"f00","language":"python"})"));
  EXPECT_FALSE(ParseCodeContext(json::parse(R"({"id":"f00"})")).ok()) << "language is required";
  EXPECT_FALSE(ParseCodeContext(json::parse(R"({"id":1,"language":"python"})")).ok());
}

}  // namespace
}  // namespace rest
