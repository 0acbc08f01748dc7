#include "rest/metadata_labels.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rest/error.h"

namespace rest {
namespace {

using ::testing::HasSubstr;

TEST(MetadataLabels, KubernetesLabelsAreAccepted) {
  for (const std::string& key :
       {std::string("team"), std::string("a"), std::string("app.kubernetes.io/name"),
        std::string("example.com/x_y-z.1"), std::string("A9"), std::string("x/y"),
        std::string(63, 'k')}) {
    EXPECT_TRUE(ValidateMetadataKey(key).ok()) << key;
  }
  for (const std::string& value : {std::string(), std::string("v"), std::string("prod-1"),
                                   std::string("a.b_c"), std::string(63, 'v')}) {
    EXPECT_TRUE(ValidateMetadataValue("k", value).ok()) << value;
  }
  EXPECT_TRUE(ValidateMetadata({{"team", "a"}, {"example.com/stage", ""}}).ok());
}

TEST(MetadataLabels, BadKeysAreRefusedWithTheOfficialCode) {
  for (const std::string& key :
       {std::string(), std::string(64, 'k'), std::string("-team"), std::string("team-"),
        std::string("has space"), std::string("Upper.Case/x"), std::string("a/b/c"),
        std::string("/name"), std::string("prefix/"), std::string("bad..dots/x"),
        std::string(254, 'p') + "/x", std::string("ünïcode")}) {
    absl::Status s = ValidateMetadataKey(key);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(ErrorCodeOf(s), "SANDBOX::INVALID_METADATA_LABEL") << key;
  }
}

TEST(MetadataLabels, TheServicePrefixIsReserved) {
  absl::Status s = ValidateMetadataKey("opensandbox.io/id");
  EXPECT_EQ(ErrorCodeOf(s), "SANDBOX::INVALID_METADATA_LABEL");
  EXPECT_THAT(std::string(s.message()), HasSubstr("reserved"));
  EXPECT_TRUE(ValidateMetadataKey("sub.opensandbox.io/id").ok()) << "only the exact prefix";
}

TEST(MetadataLabels, BadValuesNameTheirKey) {
  for (const std::string& value : {std::string(64, 'v'), std::string("-v"), std::string("a b"),
                                   std::string("v/"), std::string("x=")}) {
    absl::Status s = ValidateMetadata({{"team", value}});
    EXPECT_EQ(ErrorCodeOf(s), "SANDBOX::INVALID_METADATA_LABEL") << value;
    EXPECT_THAT(std::string(s.message()), HasSubstr("'team'")) << value;
  }
}

}  // namespace
}  // namespace rest
