#include "rest/execd_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"

namespace rest {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

TEST(Mode, OctalDigitsRoundTrip) {
  EXPECT_EQ(*ModeFromOctalDigits(755), 0755u);
  EXPECT_EQ(*ModeFromOctalDigits(644), 0644u);
  EXPECT_EQ(*ModeFromOctalDigits(4755), 04755u);
  EXPECT_EQ(*ModeFromOctalDigits(0), 0u);
  EXPECT_EQ(OctalDigitsFromMode(0755), 755);
  EXPECT_EQ(OctalDigitsFromMode(0100600), 600);  // file type bits dropped
  EXPECT_EQ(OctalDigitsFromMode(0), 0);
}

TEST(Mode, RejectsWhatIsNotOctal) {
  for (int64_t bad : {-1, 8, 789, 19, 17777, 100000}) {
    EXPECT_FALSE(ModeFromOctalDigits(bad).ok()) << bad;
  }
}

TEST(FileInfo, JsonRoundTripsWithModeAsDigits) {
  FileInfo f{.path = "/tmp/a",
             .type = "file",
             .size = 3,
             .modified_at = absl::FromUnixSeconds(1700000000),
             .created_at = absl::FromUnixSeconds(1600000000),
             .owner = "root",
             .group = "root",
             .mode = 0640};
  json j = ToJson(f);
  EXPECT_EQ(j["mode"], 640);
  EXPECT_EQ(j["modified_at"], "2023-11-14T22:13:20.000000Z");
  auto back = ParseFileInfo(j);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->mode, 0640u);
  EXPECT_EQ(back->modified_at, f.modified_at);
  EXPECT_EQ(back->path, "/tmp/a");
}

TEST(Permission, MapKeepsOrderAndNamesBadMembers) {
  auto ok = ParsePermissionMap(json::parse(R"({"/b": {"mode": 700}, "/a": {"owner": "x"}})"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].second.mode + (*ok)[1].second.mode, 0700u);
  auto bad_mode = ParsePermissionMap(json::parse(R"({"/a": {"mode": 9}})"));
  EXPECT_THAT(bad_mode.status().message(), HasSubstr("/a.mode"));
  EXPECT_FALSE(ParsePermissionMap(json::parse(R"({"/a": 7})")).ok());
  EXPECT_FALSE(ParsePermissionMap(json::parse("[]")).ok());
  EXPECT_FALSE(ParsePermissionMap(json::parse(R"({"/a": {"mode": "755"}})")).ok());
}

TEST(FileMetadata, PathIsRequired) {
  EXPECT_TRUE(ParseFileMetadata(json::parse(R"({"path": "/x", "mode": 755})")).ok());
  EXPECT_TRUE(ParseFileMetadata(json::parse(R"({"path": "/x", "owner": null})")).ok());
  EXPECT_FALSE(ParseFileMetadata(json::parse(R"({"mode": 755})")).ok());
  EXPECT_FALSE(ParseFileMetadata(json::parse(R"({"path": ""})")).ok());
  EXPECT_FALSE(ParseFileMetadata(json::parse(R"("path")")).ok());
}

TEST(Move, NeedsSrcAndDest) {
  auto ok = ParseMoveRequest(json::parse(R"([{"src": "/a", "dest": "/b"}])"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].dest, "/b");
  EXPECT_FALSE(ParseMoveRequest(json::parse(R"([{"src": "/a"}])")).ok());
  EXPECT_FALSE(ParseMoveRequest(json::parse(R"({"src": "/a", "dest": "/b"})")).ok());
  EXPECT_FALSE(ParseMoveRequest(json::parse(R"([{"src": "", "dest": "/b"}])")).ok());
}

TEST(Replace, OldMustNotBeEmpty) {
  auto ok = ParseReplaceRequest(json::parse(R"({"/a": {"old": "x"}})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].second.new_text, "");
  EXPECT_FALSE(ParseReplaceRequest(json::parse(R"({"/a": {"old": "", "new": "y"}})")).ok());
  EXPECT_FALSE(ParseReplaceRequest(json::parse(R"({"/a": {"new": "y"}})")).ok());
}

TEST(CommandStatus, OmitsExitFieldsWhileRunning) {
  CommandStatus running{
      .id = "c1", .content = "sleep 1", .running = true, .started_at = absl::FromUnixSeconds(1)};
  json j = ToJson(running);
  EXPECT_FALSE(j.contains("exit_code"));
  EXPECT_FALSE(j.contains("finished_at"));
  EXPECT_FALSE(j.contains("error"));
  CommandStatus done = running;
  done.running = false;
  done.exit_code = 2;
  done.error = "exit status 2";
  done.finished_at = absl::FromUnixSeconds(2);
  auto back = ParseCommandStatus(ToJson(done));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->exit_code, 2);
  EXPECT_EQ(back->finished_at, absl::FromUnixSeconds(2));
  EXPECT_FALSE(ParseCommandStatus(json::parse(R"({"running": true})")).ok());
}

}  // namespace
}  // namespace rest
