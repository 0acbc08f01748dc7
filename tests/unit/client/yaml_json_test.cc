#include "client/osbctl/yaml_json.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace osb::cli {
namespace {

using json = nlohmann::json;

TEST(YamlToJson, ScalarsBecomeWhatTheyLookLikeUnlessQuoted) {
  auto out = YamlToJson(
      "a: 1\nb: -2.5\nc: true\nd: null\ne: text\nf: \"7\"\ng: [x, 'false']\nh: {k: v}\n");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(json::parse(*out), json::parse(R"({"a":1,"b":-2.5,"c":true,"d":null,"e":"text",
      "f":"7","g":["x","false"],"h":{"k":"v"}})"));
}

TEST(YamlToJson, JsonIsYaml) {
  const std::string text = R"({"jobs":[{"id":"a","command":{"command":"echo 1"}}]})";
  auto out = YamlToJson(text);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(json::parse(*out), json::parse(text));
}

TEST(YamlToJson, BadYamlNamesTheLine) {
  auto out = YamlToJson("jobs:\n  - id: [unclosed\n");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(out.status().message()).find("line "), std::string::npos);
}

}  // namespace
}  // namespace osb::cli
