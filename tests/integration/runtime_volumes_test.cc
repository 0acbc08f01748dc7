// Volumes seen from inside a sandbox: host directories from the config's allowlist (read-write
// and read-only), named pvc directories shared between sandboxes and removed with
// deleteOnSandboxTermination, and requests the runtime refuses without starting anything.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/runtime_fixture.h"

namespace osb::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using nlohmann::json;

constexpr uid_t kSandboxRoot = 1'000'000'000;  // osb-runtime's first mapped id, as root

class Volumes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox's ids must own the shared directory";
    shared_ = host_.path() + "/shared";
    ASSERT_TRUE(MakeDirs(shared_, 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(shared_ + "/in.txt", "from host\n", 0644).ok());
    ASSERT_EQ(::chown(shared_.c_str(), kSandboxRoot, kSandboxRoot), 0);
    ASSERT_TRUE(MakeDirs(host_.path() + "/private", 0755).ok());
    const std::string config = host_.path() + "/runtime.toml";
    ASSERT_TRUE(WriteFileAtomic(config,
                                "[storage]\nallowed_host_paths = [\"" + shared_ + "\"]\n", 0644)
                    .ok());
    runtime_ = RuntimeProcess::Start({"--config", config});
    ASSERT_NE(runtime_, nullptr);
    api_ = runtime_->Client();
  }

  static json Body(json volumes) {
    return {{"image", {{"uri", "host"}}},
            {"entrypoint", {"sleep", "infinity"}},
            {"volumes", std::move(volumes)}};
  }

  TempDir host_;
  std::string shared_;
  std::unique_ptr<RuntimeProcess> runtime_;
  std::unique_ptr<httplib::Client> api_;
};

TEST_F(Volumes, HostDirectoriesAreBoundReadWriteOrReadOnly) {
  auto sandbox = CreateSandbox(*api_, Body({{{"name", "data"},
                                             {"mountPath", "/data"},
                                             {"host", {{"path", shared_}}}},
                                            {{"name", "ro"},
                                             {"mountPath", "/opt/ro"},
                                             {"readOnly", true},
                                             {"host", {{"path", shared_}}}}}));
  ASSERT_TRUE(sandbox.has_value());
  auto r = RunCommand(*sandbox,
                      "cat /data/in.txt && echo out > /data/out.txt && cat /opt/ro/out.txt");
  EXPECT_EQ(Stdout(r), "from host\nout") << Describe(r);
  ASSERT_TRUE(PathExists(shared_ + "/out.txt"));
  auto ro = RunCommand(*sandbox, "echo x > /opt/ro/nope");
  EXPECT_NE(ExitCode(ro), 0) << Describe(ro);
  EXPECT_THAT(Texts(ro, "stderr"), Contains(HasSubstr("Read-only file system"))) << Describe(ro);
  EXPECT_FALSE(PathExists(shared_ + "/nope"));
}

TEST_F(Volumes, PathsOutsideTheAllowlistAreRefusedAndNothingStarts) {
  for (const std::string& path :
       {host_.path() + "/private", shared_ + "/../private", std::string("/etc")}) {
    auto created = api_->Post(
        "/v1/sandboxes",
        Body({{{"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", path}}}}}).dump(),
        "application/json");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->status, 400) << path;
    EXPECT_EQ(ErrorCode(created->body), "VOLUME::HOST_PATH_NOT_ALLOWED") << created->body;
  }
  auto bad_mount = api_->Post(
      "/v1/sandboxes",
      Body({{{"name", "x"}, {"mountPath", "/proc/sys"}, {"host", {{"path", shared_}}}}}).dump(),
      "application/json");
  ASSERT_TRUE(bad_mount);
  EXPECT_EQ(bad_mount->status, 400);
  EXPECT_EQ(ErrorCode(bad_mount->body), "VOLUME::INVALID_MOUNT_PATH") << bad_mount->body;
  // A pvc named by a request refused for another reason is not made.
  json refused = Body({{{"name", "c"}, {"mountPath", "/c"}, {"pvc", {{"claimName", "unmade"}}}},
                       {{"name", "x"}, {"mountPath", "/x"}, {"host", {{"path", "/etc"}}}}});
  auto refused_reply = api_->Post("/v1/sandboxes", refused.dump(), "application/json");
  ASSERT_TRUE(refused_reply);
  EXPECT_EQ(refused_reply->status, 400);
  json bad_policy =
      Body({{{"name", "c"}, {"mountPath", "/c"}, {"pvc", {{"claimName", "unmade"}}}}});
  bad_policy["networkPolicy"] = {{"defaultAction", "sideways"}};
  auto policy_reply = api_->Post("/v1/sandboxes", bad_policy.dump(), "application/json");
  ASSERT_TRUE(policy_reply);
  EXPECT_EQ(policy_reply->status, 400);
  EXPECT_FALSE(PathExists(runtime_->state_dir() + "/volumes/unmade"));
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_EQ(ParseJson(list->body)["pagination"]["totalItems"], 0) << list->body;
}

TEST_F(Volumes, PvcsAreSharedByNameAndDeletedWhenAsked) {
  const json shared = {{"name", "cache"}, {"mountPath", "/cache"}, {"pvc", {{"claimName", "c1"}}}};
  auto writer = CreateSandbox(*api_, Body({shared}));
  ASSERT_TRUE(writer.has_value());
  auto w = RunCommand(*writer, "echo hello > /cache/f && stat -c %u /cache/f");
  EXPECT_EQ(Stdout(w), "0") << Describe(w);
  auto reader = CreateSandbox(*api_, Body({shared}));
  ASSERT_TRUE(reader.has_value());
  auto r = RunCommand(*reader, "cat /cache/f");
  EXPECT_EQ(Stdout(r), "hello") << Describe(r);

  const std::string scratch_dir = runtime_->state_dir() + "/volumes/scratch";
  auto temp = CreateSandbox(*api_, Body({{{"name", "s"},
                                          {"mountPath", "/s"},
                                          {"pvc",
                                           {{"claimName", "scratch"},
                                            {"deleteOnSandboxTermination", true}}}}}));
  ASSERT_TRUE(temp.has_value());
  EXPECT_TRUE(PathExists(scratch_dir));
  auto killed = api_->Delete("/v1/sandboxes/" + temp->id);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->status, 204);
  EXPECT_FALSE(PathExists(scratch_dir));
  EXPECT_TRUE(PathExists(runtime_->state_dir() + "/volumes/c1/f"));

  const json absent_pvc = {{"claimName", "absent"}, {"createIfNotExists", false}};
  auto absent = api_->Post(
      "/v1/sandboxes",
      Body({{{"name", "x"}, {"mountPath", "/x"}, {"pvc", absent_pvc}}}).dump(),
      "application/json");
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404);
  EXPECT_EQ(ErrorCode(absent->body), "VOLUME::PVC_NOT_FOUND") << absent->body;
}

}  // namespace
}  // namespace osb::test
