#include "runtime/server/volume_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "rest/error.h"
#include "rest/sys/file_util.h"
#include "runtime/server/runtime_config.h"

namespace osb::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using nlohmann::json;

class VolumePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/osb-volumes-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ASSERT_TRUE(MakeDirs(dir_ + "/allowed/data", 0755).ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/secret", 0755).ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/pvcs", 0711).ok());
    ASSERT_EQ(::symlink((dir_ + "/secret").c_str(), (dir_ + "/allowed/escape").c_str()), 0);
    options_.allowed_host_paths = {dir_ + "/allowed"};
    options_.pvc_root = dir_ + "/pvcs";
    options_.owner_uid = ::getuid();
    options_.owner_gid = ::getgid();
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  absl::StatusOr<VolumePlan> Plan(const json& volumes) { return PlanVolumes(volumes, options_); }

  // The OpenSandbox code of a failed plan.
  std::string Code(const json& volumes) {
    auto plan = Plan(volumes);
    EXPECT_FALSE(plan.ok());
    return plan.ok() ? "" : std::string(rest::ErrorCodeOf(plan.status()));
  }

  std::string dir_;
  VolumeOptions options_;
};

TEST_F(VolumePlanTest, HostPathsUnderTheAllowlistAreBound) {
  auto plan = Plan(json::array({{{"name", "data"},
                                 {"mountPath", "/mnt//data/"},
                                 {"readOnly", true},
                                 {"host", {{"path", dir_ + "/allowed"}}},
                                 {"subPath", "data"}}}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->mounts, ElementsAre(VolumeMount{dir_ + "/allowed/data", "/mnt/data", true}));
  EXPECT_THAT(plan->delete_on_kill, IsEmpty());
}

TEST_F(VolumePlanTest, HostPathsElsewhereOrThroughSymlinksAreRefused) {
  const json outside = {{"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", dir_ + "/secret"}}}};
  EXPECT_EQ(Code(json::array({outside})), "VOLUME::HOST_PATH_NOT_ALLOWED");
  const json link = {
      {"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", dir_ + "/allowed/escape"}}}};
  EXPECT_EQ(Code(json::array({link})), "VOLUME::HOST_PATH_NOT_ALLOWED");
  const json dots = {
      {"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", dir_ + "/allowed/../secret"}}}};
  EXPECT_EQ(Code(json::array({dots})), "VOLUME::HOST_PATH_NOT_ALLOWED");
  // A prefix that is not a parent directory: /…/allowed-not is not under /…/allowed.
  ASSERT_TRUE(MakeDirs(dir_ + "/allowed-not", 0755).ok());
  const json prefix = {
      {"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", dir_ + "/allowed-not"}}}};
  EXPECT_EQ(Code(json::array({prefix})), "VOLUME::HOST_PATH_NOT_ALLOWED");
  const json missing = {
      {"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", dir_ + "/allowed/nope"}}}};
  EXPECT_EQ(Code(json::array({missing})), "VOLUME::HOST_PATH_NOT_FOUND");
  options_.allowed_host_paths.clear();
  auto none = Plan(json::array(
      {{{"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", dir_ + "/allowed"}}}}}));
  EXPECT_THAT(none.status().message(), HasSubstr("allowed_host_paths"));
}

TEST_F(VolumePlanTest, PvcsAreNamedDirectoriesMadeOnDemand) {
  auto plan = Plan(json::array({{{"name", "cache"},
                                 {"mountPath", "/cache"},
                                 {"pvc", {{"claimName", "build-cache"}}},
                                 {"subPath", "a/b"}},
                                {{"name", "scratch"},
                                 {"mountPath", "/scratch"},
                                 {"pvc",
                                  {{"claimName", "scratch.1"},
                                   {"deleteOnSandboxTermination", true},
                                   {"storage", "1Gi"}}}}}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->mounts,
              ElementsAre(VolumeMount{dir_ + "/pvcs/build-cache/a/b", "/cache", false},
                          VolumeMount{dir_ + "/pvcs/scratch.1", "/scratch", false}));
  EXPECT_THAT(plan->delete_on_kill, ElementsAre(dir_ + "/pvcs/scratch.1"));
  struct stat st {};
  EXPECT_NE(::stat((dir_ + "/pvcs/build-cache").c_str(), &st), 0) << "planning changes nothing";
  ASSERT_TRUE(PrepareVolumes(*plan, options_).ok());
  EXPECT_EQ(::stat((dir_ + "/pvcs/build-cache/a/b").c_str(), &st), 0);
  EXPECT_EQ(::stat((dir_ + "/pvcs/scratch.1").c_str(), &st), 0);

  const json absent = {{"name", "x"},
                       {"mountPath", "/x"},
                       {"pvc", {{"claimName", "absent"}, {"createIfNotExists", false}}}};
  EXPECT_EQ(Code(json::array({absent})), "VOLUME::PVC_NOT_FOUND");
  EXPECT_NE(::stat((dir_ + "/pvcs/absent").c_str(), &st), 0);
  for (const char* claim : {"../escape", "UPPER", "", "a/b", "-a"}) {
    const json bad = {{"name", "x"}, {"mountPath", "/x"}, {"pvc", {{"claimName", claim}}}};
    EXPECT_EQ(Code(json::array({bad})), "VOLUME::INVALID_NAME") << claim;
  }
}

TEST_F(VolumePlanTest, MalformedVolumesAreRefusedWithTheirReason) {
  const json host = {{"path", dir_ + "/allowed"}};
  auto volume = [&](json fields) {
    json v = {{"name", "v"}, {"mountPath", "/v"}, {"host", host}};
    if (fields.is_object()) v.update(fields);
    return json::array({v});
  };
  EXPECT_EQ(Code(json::object()), "VOLUME::INVALID_PARAMETER");
  EXPECT_EQ(Code(json::array({"v"})), "VOLUME::INVALID_PARAMETER");
  EXPECT_EQ(Code(volume({{"name", "Not_A_Label"}})), "VOLUME::INVALID_NAME");
  EXPECT_EQ(Code(volume({{"name", std::string(64, 'a')}})), "VOLUME::INVALID_NAME");
  for (const char* path : {"relative", "/", "/a/../b", "/proc/x", "/dev", "/a:b", "/./a"}) {
    EXPECT_EQ(Code(volume({{"mountPath", path}})), "VOLUME::INVALID_MOUNT_PATH") << path;
  }
  EXPECT_EQ(Code(volume({{"mountPath", 7}})), "VOLUME::INVALID_MOUNT_PATH");
  for (const char* sub : {"/abs", "../up", "a/../../b"}) {
    EXPECT_EQ(Code(volume({{"subPath", sub}})), "VOLUME::INVALID_SUB_PATH") << sub;
  }
  EXPECT_EQ(Code(volume({{"readOnly", "yes"}})), "VOLUME::INVALID_PARAMETER");
  EXPECT_EQ(Code(volume({{"pvc", {{"claimName", "c"}}}})), "VOLUME::INVALID_BACKEND");
  EXPECT_EQ(Code(volume({{"host", nullptr}})), "VOLUME::INVALID_BACKEND");
  EXPECT_EQ(Code(volume({{"host", {{"path", "relative"}}}})), "VOLUME::INVALID_PARAMETER");
  json two = volume({});
  two.push_back(two[0]);
  EXPECT_EQ(Code(two), "VOLUME::INVALID_NAME");
  two[1]["name"] = "w";
  EXPECT_EQ(Code(two), "VOLUME::INVALID_MOUNT_PATH");
  auto ossfs =
      Plan(json::array({{{"name", "o"}, {"mountPath", "/o"}, {"ossfs", {{"bucket", "b"}}}}}));
  EXPECT_EQ(ossfs.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(VolumeMountArg, RoundTripsAndRefusesGarbage) {
  VolumeMount m{"/host/with:colon", "/in/sandbox", true};
  auto back = DecodeVolumeMount(EncodeVolumeMount(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  for (const char* bad : {"", "rw:/a", "xx:/a:/b", "rw:a:/b", "rw:/a:b"}) {
    EXPECT_FALSE(DecodeVolumeMount(bad).ok()) << bad;
  }
}

TEST(RuntimeConfig, ReadsTheAllowlistAndRefusesWhatItDoesNotKnow) {
  char tmpl[] = "/tmp/osb-config-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/runtime.toml";
  auto load = [&](const std::string& text) {
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    return LoadRuntimeConfig(path);
  };
  ASSERT_EQ(::symlink(dir.c_str(), (dir + "/link").c_str()), 0);
  auto good = load("[storage]\nallowed_host_paths = [\"" + dir + "/link\"]\n");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_THAT(good->allowed_host_paths, ElementsAre(dir));  // resolved
  EXPECT_TRUE(load("").ok());
  EXPECT_THAT(load("[storage\n").status().message(), HasSubstr("1:"));
  EXPECT_THAT(load("[network]\n").status().message(), HasSubstr("unknown key 'network'"));
  EXPECT_THAT(load("[storage]\nallowed = 1\n").status().message(), HasSubstr("[storage]: unknown key 'allowed'"));
  EXPECT_FALSE(load("[storage]\nallowed_host_paths = \"/tmp\"\n").ok());
  EXPECT_FALSE(load("[storage]\nallowed_host_paths = [\"relative\"]\n").ok());
  EXPECT_THAT(load("[storage]\nallowed_host_paths = [\"/no/such/dir\"]\n").status().message(),
              HasSubstr("does not exist"));
  EXPECT_FALSE(LoadRuntimeConfig(dir + "/missing.toml").ok());
  auto images = load("[images]\n\"python:3.12\" = \"" + dir + "/link\"\n");
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->images.at("python:3.12"), dir);
  EXPECT_THAT(load("[images]\nx = \"/no/such/rootfs\"\n").status().message(),
              HasSubstr("does not exist"));
  EXPECT_FALSE(load("[images]\nx = 3\n").ok());
  EXPECT_FALSE(load("images = 3\n").ok());
  (void)RemoveTree(dir);
}

}  // namespace
}  // namespace osb::runtime
