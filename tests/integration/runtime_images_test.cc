// The image table of osb-runtime's config: an image named there runs on its own root filesystem
// (nothing of the host's /usr in it), any other image on the host base, and the sandbox's status
// says which.
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

using ::testing::HasSubstr;
using nlohmann::json;

constexpr char kStaticBash[] = "/bin/bash-static";

class Images : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kStaticBash, X_OK) != 0) GTEST_SKIP() << "no " << kStaticBash << " (bash-static)";
    // A whole image: a static bash and one file of its own.
    rootfs_ = host_.path() + "/tiny-rootfs";
    ASSERT_TRUE(MakeDirs(rootfs_ + "/bin", 0755).ok());
    ASSERT_TRUE(MakeDirs(rootfs_ + "/etc", 0755).ok());
    ChildResult cp = RunToCompletion({"cp", kStaticBash, rootfs_ + "/bin/bash"});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/etc/image-name", "tiny\n", 0644).ok());
    const std::string config = host_.path() + "/runtime.toml";
    ASSERT_TRUE(
        WriteFileAtomic(config, "[images]\n\"tiny:1\" = \"" + rootfs_ + "\"\n", 0644).ok());
    runtime_ = RuntimeProcess::Start({"--config", config});
    ASSERT_NE(runtime_, nullptr);
    api_ = runtime_->Client();
  }

  json Create(const std::string& image, const std::vector<std::string>& entrypoint) {
    auto created = api_->Post(
        "/v1/sandboxes", json{{"image", {{"uri", image}}}, {"entrypoint", entrypoint}}.dump(),
        "application/json");
    if (!created || created->status != 202) {
      ADD_FAILURE() << (created ? created->body : "no answer");
      return json();
    }
    return ParseJson(created->body);
  }

  TempDir host_;
  std::string rootfs_;
  std::unique_ptr<RuntimeProcess> runtime_;
  std::unique_ptr<httplib::Client> api_;
};

TEST_F(Images, AnImageInTheTableRunsOnItsOwnRootfs) {
  json created = Create("tiny:1", {"/bin/bash", "-c", "exit 0"});
  ASSERT_TRUE(created.is_object());
  EXPECT_THAT(created["status"]["message"].get<std::string>(),
              HasSubstr("image: rootfs " + rootfs_));
  auto sandbox = ResolveAgent(*api_, created["id"]);
  ASSERT_TRUE(sandbox.has_value());
  // Builtins only: the image has nothing else.
  CommandResult r = RunCommand(*sandbox,
                               "echo $(< /etc/image-name); [[ -e /usr/bin/env ]] || echo no-usr; "
                               "echo changed > /etc/image-name && echo $(< /etc/image-name)");
  EXPECT_EQ(Stdout(r), "tiny\nno-usr\nchanged") << Describe(r);
  // The image itself is untouched: the change went to the sandbox's own layer.
  auto original = ReadFile(rootfs_ + "/etc/image-name");
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(*original, "tiny\n");
}

TEST_F(Images, AnyOtherImageRunsOnTheHostBaseAndSaysSo) {
  json created = Create("python:3.12", {"sleep", "infinity"});
  ASSERT_TRUE(created.is_object());
  EXPECT_THAT(created["status"]["message"].get<std::string>(),
              HasSubstr("image: host base (python:3.12 is not in the image table)"));
  auto sandbox = ResolveAgent(*api_, created["id"]);
  ASSERT_TRUE(sandbox.has_value());
  CommandResult r = RunCommand(*sandbox, "test -x /usr/bin/env && echo host-usr");
  EXPECT_EQ(Stdout(r), "host-usr") << Describe(r);
  auto got = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body)["image"]["uri"], "python:3.12");
}

}  // namespace
}  // namespace osb::test
