#include "runtime/server/sandbox_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "rest/sys/file_util.h"

namespace osb::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class SandboxStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/osb-store-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  static StoredSandbox Sample(const std::string& id) {
    StoredSandbox s;
    s.sandbox.id = id;
    s.sandbox.status.state = "Running";
    s.sandbox.status.reason = "SANDBOX_RUNNING";
    s.sandbox.status.last_transition_at = "2026-12-02T10:00:00.000000Z";
    s.sandbox.created_at = "2026-12-02T10:00:00.000000Z";
    s.sandbox.entrypoint = {"sleep", "infinity"};
    s.sandbox.image = rest::ImageSpec{"python:3.12", std::nullopt};
    s.sandbox.metadata = {{"team", "infra"}};
    s.sandbox.expires_at = "2026-12-02T11:00:00.000000Z";
    s.access_token = "secret";
    s.agent_pid = 4242;
    s.agent_start_ticks = 123456789;
    return s;
  }

  std::string dir_;
};

TEST_F(SandboxStoreTest, WhatIsSavedLoadsBackPrivately) {
  SandboxStore store(dir_);
  ASSERT_TRUE(store.Save(Sample("a")).ok());
  StoredSandbox changed = Sample("a");
  changed.sandbox.status.state = "Paused";
  ASSERT_TRUE(store.Save(changed).ok());  // replaces
  std::vector<std::string> problems;
  std::vector<StoredSandbox> loaded = SandboxStore(dir_).LoadAll(&problems);
  EXPECT_THAT(problems, IsEmpty());
  ASSERT_THAT(loaded, SizeIs(1));
  const StoredSandbox& s = loaded[0];
  EXPECT_EQ(rest::ToJson(s.sandbox), rest::ToJson(changed.sandbox));
  EXPECT_EQ(s.access_token, "secret");
  EXPECT_EQ(s.agent_pid, 4242);
  EXPECT_EQ(s.agent_start_ticks, 123456789u);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/a.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // it holds the access token
  // The replaced record's file went with the replacement (the store exchanges the two names).
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir_.c_str()), ::closedir);
  ASSERT_NE(d, nullptr);
  while (const dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  EXPECT_THAT(names, ElementsAre("a.json"));
}

TEST_F(SandboxStoreTest, RemoveForgetsAndToleratesWhatIsGone) {
  SandboxStore store(dir_);
  ASSERT_TRUE(store.Save(Sample("a")).ok());
  ASSERT_TRUE(store.Save(Sample("b")).ok());
  EXPECT_TRUE(store.Remove("a").ok());
  EXPECT_TRUE(store.Remove("a").ok());
  std::vector<std::string> problems;
  std::vector<StoredSandbox> loaded = store.LoadAll(&problems);
  ASSERT_THAT(loaded, SizeIs(1));
  EXPECT_EQ(loaded[0].sandbox.id, "b");
}

TEST_F(SandboxStoreTest, UnreadableRecordsAreSetAsideAndReported) {
  SandboxStore store(dir_);
  ASSERT_TRUE(store.Save(Sample("good")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/truncated.json", "{\"sandbox\": {\"id\"", 0600).ok());
  const std::string no_token =
      R"({"sandbox":{"id":"no-token","status":{"state":"Running"},)"
      R"("createdAt":"2026-12-02T10:00:00Z","entrypoint":[]}})";
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/no-token.json", no_token, 0600).ok());
  // A record renamed by hand must not pass for another sandbox.
  ASSERT_TRUE(store.Save(Sample("original")).ok());
  ASSERT_EQ(::rename((dir_ + "/original.json").c_str(), (dir_ + "/renamed.json").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/leftover.json.tmp.77", "partial", 0600).ok());

  std::vector<std::string> problems;
  std::vector<StoredSandbox> loaded = store.LoadAll(&problems);
  ASSERT_THAT(loaded, SizeIs(1));
  EXPECT_EQ(loaded[0].sandbox.id, "good");
  EXPECT_THAT(problems, SizeIs(3));
  for (const char* name : {"truncated", "no-token", "renamed"}) {
    struct stat st {};
    EXPECT_EQ(::stat((dir_ + "/" + name + ".json.corrupt").c_str(), &st), 0) << name;
  }
  // Set aside once: the next start does not report them again.
  problems.clear();
  EXPECT_THAT(store.LoadAll(&problems), SizeIs(1));
  EXPECT_THAT(problems, IsEmpty());
}

TEST_F(SandboxStoreTest, AMissingDirectoryIsAProblemNotACrash) {
  SandboxStore store(dir_ + "/nowhere");
  std::vector<std::string> problems;
  EXPECT_THAT(store.LoadAll(&problems), IsEmpty());
  EXPECT_THAT(problems, ElementsAre(HasSubstr("nowhere")));
}

}  // namespace
}  // namespace osb::runtime
