// osb-runtime keeps an agent started ahead of need (a spare): a create takes it, and the sandbox
// made from it is like any other; the runtime starts another once the create is done; stopping
// the runtime, gently or not, leaves only its sandboxes behind.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "tests/integration/runtime_fixture.h"

namespace osb::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using nlohmann::json;

class Spares : public RuntimeTest {
 protected:
  // The names in the state directory's sandboxes/.
  std::set<std::string> SandboxDirs() const {
    std::set<std::string> names;
    DIR* dir = ::opendir((runtime_->state_dir() + "/sandboxes").c_str());
    if (dir == nullptr) return names;
    while (const dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.insert(name);
    }
    ::closedir(dir);
    return names;
  }

  // The ids the lifecycle API lists.
  std::set<std::string> Listed() {
    std::set<std::string> ids;
    auto list = api_->Get("/v1/sandboxes?pageSize=200");
    if (!list || list->status != 200) return ids;
    const json body = ParseJson(list->body);
    for (const auto& item : body["items"]) ids.insert(item["id"].get<std::string>());
    return ids;
  }

  // The spare: a sandbox directory whose id the API does not list and whose agent runs; "" when
  // none came within 20 s. Its agent shows a moment before the runtime counts it as ready (the
  // spawn still checks the exec), so a spare found is given that moment.
  std::string WaitForSpare() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      const std::set<std::string> listed = Listed();
      for (const std::string& id : SandboxDirs()) {
        if (listed.count(id) == 0 && !ProcessesMatching(id).empty()) {
          absl::SleepFor(absl::Milliseconds(300));
          return id;
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return "";
  }
};

TEST_F(Spares, ASandboxMadeFromTheSpareIsLikeAnyOther) {
  const std::string spare = WaitForSpare();
  ASSERT_FALSE(spare.empty()) << "no spare agent came";
  json body = CreateBody({"/bin/bash", "-c", "sleep 100000; : spare-entrypoint"});
  body["env"] = {{"GREETING", "hello from the request"}};
  body["metadata"] = {{"team", "spares"}};
  body["resourceLimits"] = {{"memory", "256Mi"}, {"pids", "64"}};
  auto sandbox = CreateSandbox(body);
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_EQ(sandbox->id, spare) << "the create did not take the spare";

  CommandResult r =
      Run(*sandbox, "echo \"$GREETING\"; hostname; ps -e -o args= | grep -c spare-entr[y]");
  EXPECT_EQ(Stdout(r), absl::StrCat("hello from the request\nosb-", spare.substr(0, 8), "\n1"))
      << Describe(r);
  auto metrics = AgentClient(*sandbox).Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200) << metrics->body;
  EXPECT_EQ(ParseJson(metrics->body)["mem_total_mib"], 256) << metrics->body;
  // Its cgroup got the request's limits: 64 processes, and the agent's own threads on top.
  std::string pids_max;
  for (const char* dir : {"/sys/fs/cgroup/pids/opensandbox/", "/sys/fs/cgroup/opensandbox/"}) {
    if (auto text = ReadFile(dir + spare + "/pids.max"); text.ok()) pids_max = *text;
  }
  if (!pids_max.empty()) {
    EXPECT_NE(pids_max, "max\n") << "the pids limit was not applied";
  }
  auto got = api_->Get("/v1/sandboxes/" + spare);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body)["metadata"]["team"], "spares") << got->body;

  const std::string next = WaitForSpare();
  EXPECT_FALSE(next.empty()) << "no new spare came after the create";
  EXPECT_NE(next, spare);
}

TEST_F(Spares, StoppingTheRuntimeLeavesOnlyItsSandboxes) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto killed = CreateSandbox();
  ASSERT_TRUE(killed.has_value());
  const std::string spare = WaitForSpare();
  ASSERT_FALSE(spare.empty());
  // Killed just before the stop: what its kill releases after answering is released first.
  auto deleted = api_->Delete("/v1/sandboxes/" + killed->id);
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 204) << deleted->body;
  ASSERT_EQ(::kill(runtime_->pid(), SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(runtime_->pid(), &status, 0), runtime_->pid());
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
  EXPECT_EQ(SandboxDirs(), std::set<std::string>({sandbox->id}));
  EXPECT_TRUE(GoneWithin(runtime_->state_dir() + "/records/" + killed->id + ".json",
                         absl::ZeroDuration()))
      << "the killed sandbox's record outlived the runtime";
  EXPECT_THAT(ProcessesMatching(spare), IsEmpty()) << "the spare agent outlived the runtime";
  EXPECT_THAT(ProcessesMatching(sandbox->id), Not(IsEmpty())) << "the sandbox did not";
  // The harness deletes what is left through the API: bring the runtime back for that.
  ASSERT_TRUE(runtime_->Restart());
  api_ = runtime_->Client();
}

TEST_F(Spares, ARuntimeKilledHardHasItsSpareRemovedWhenItStartsAgain) {
  const std::string spare = WaitForSpare();
  ASSERT_FALSE(spare.empty());
  ASSERT_TRUE(runtime_->Restart([&] {
    // Without its runtime the spare has no one to configure it: it ends by itself.
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (!ProcessesMatching(spare).empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_THAT(ProcessesMatching(spare), IsEmpty());
  }));
  api_ = runtime_->Client();
  EXPECT_EQ(SandboxDirs().count(spare), 0u) << "the old spare's directory is still there";
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_NE(sandbox->id, spare);
}

class NoSpares : public Spares {
 protected:
  std::vector<std::string> RuntimeArgs() override { return {"--spare-agents", "0"}; }
};

TEST_F(NoSpares, EveryCreateStartsItsOwnAgent) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(SandboxDirs(), std::set<std::string>({sandbox->id}));
  CommandResult r = Run(*sandbox, "echo made directly");
  EXPECT_EQ(Stdout(r), "made directly") << Describe(r);
}

}  // namespace
}  // namespace osb::test
