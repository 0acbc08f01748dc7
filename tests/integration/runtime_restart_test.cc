// osb-runtime keeps its sandbox records on disk: after a crash and a restart on the same state
// directory, running and paused sandboxes are listed and usable again (their processes and files
// untouched), a sandbox whose agent died meanwhile is reported Failed, and what a crash left half
// made is cleaned up.
#include <gtest/gtest.h>
#include <signal.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "tests/integration/runtime_fixture.h"

namespace osb::test {
namespace {

using nlohmann::json;

class RuntimeRestartTest : public RuntimeTest {
 protected:
  json Get(const std::string& id) {
    auto r = api_->Get("/v1/sandboxes/" + id);
    if (!r || r->status != 200) {
      ADD_FAILURE() << "get " << id << ": " << (r ? r->body : "no answer");
      return json();
    }
    return ParseJson(r->body);
  }

  // Restarts the runtime and reconnects the lifecycle client to its new port.
  bool Restart() {
    if (!runtime_->Restart()) return false;
    api_ = runtime_->Client();
    return true;
  }

  std::string RecordPath(const std::string& id) const {
    return runtime_->state_dir() + "/records/" + id + ".json";
  }

  static std::string ReadText(const std::string& path) {
    auto text = ReadFile(path);
    return text.ok() ? *text : "";
  }
};

TEST_F(RuntimeRestartTest, RunningSandboxKeepsItsProcessesFilesAndRecord) {
  json body = CreateBody();
  body["metadata"] = {{"team", "infra"}};
  body["timeout"] = 3600;
  auto sandbox = CreateSandbox(body);
  ASSERT_TRUE(sandbox.has_value());
  CommandResult wrote = Run(*sandbox, "echo kept > /root/note && (sleep 600 &) && echo started");
  ASSERT_EQ(ExitCode(wrote), 0) << Describe(wrote);
  json before = Get(sandbox->id);

  ASSERT_TRUE(Restart());

  json after = Get(sandbox->id);
  EXPECT_EQ(after["status"]["state"], "Running") << after.dump();
  EXPECT_EQ(after["metadata"], before["metadata"]);
  EXPECT_EQ(after["expiresAt"], before["expiresAt"]);
  EXPECT_EQ(after["createdAt"], before["createdAt"]);
  EXPECT_EQ(after["entrypoint"], before["entrypoint"]);
  auto list = api_->Get("/v1/sandboxes?metadata=team%3Dinfra");
  ASSERT_TRUE(list);
  EXPECT_EQ(ParseJson(list->body)["pagination"]["totalItems"], 1) << list->body;

  // The same token still opens it, through the new runtime's proxy.
  auto again = ResolveAgent(*api_, sandbox->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->token, sandbox->token);
  CommandResult read = Run(*again, "cat /root/note; pgrep -c -f 'sleep 600'");
  EXPECT_EQ(Stdout(read), "kept\n1") << Describe(read);

  // Still managed: a renew lands in the record, and a kill removes everything.
  auto renewed = api_->Post("/v1/sandboxes/" + sandbox->id + "/renew-expiration",
                            json{{"expiresAt", "2099-01-01T00:00:00Z"}}.dump(),
                            "application/json");
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->status, 200) << renewed->body;
  EXPECT_NE(ReadText(RecordPath(sandbox->id)).find("2099-01-01"), std::string::npos);
  auto killed = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->status, 204);
  EXPECT_TRUE(GoneWithin(RecordPath(sandbox->id)));
  EXPECT_TRUE(GoneWithin(runtime_->state_dir() + "/sandboxes/" + sandbox->id));
}

TEST_F(RuntimeRestartTest, PausedSandboxStaysPausedAndResumes) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto paused = api_->Post("/v1/sandboxes/" + sandbox->id + "/pause", "", "application/json");
  ASSERT_TRUE(paused);
  if (paused->status == 501) GTEST_SKIP() << "no cgroup freezer here: " << paused->body;
  ASSERT_EQ(paused->status, 202) << paused->body;

  ASSERT_TRUE(Restart());

  EXPECT_EQ(Get(sandbox->id)["status"]["state"], "Paused");
  auto resumed = api_->Post("/v1/sandboxes/" + sandbox->id + "/resume", "", "application/json");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 202) << resumed->body;
  auto again = ResolveAgent(*api_, sandbox->id);
  ASSERT_TRUE(again.has_value());
  CommandResult r = Run(*again, "echo awake");
  EXPECT_EQ(Stdout(r), "awake") << Describe(r);
}

TEST_F(RuntimeRestartTest, SandboxWhoseAgentDiedMeanwhileIsFailed) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  json record = ParseJson(ReadText(RecordPath(sandbox->id)));
  const pid_t agent = record.value("agentPid", -1);
  ASSERT_GT(agent, 0) << record.dump();

  ASSERT_TRUE(runtime_->Restart([agent] {
    // Its pidfd turns readable once every thread has exited (its new parent may never reap it).
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, agent, 0)));
    ::kill(agent, SIGKILL);
    pollfd exited{pidfd.get(), POLLIN, 0};
    ::poll(&exited, 1, 10'000);
  }));
  api_ = runtime_->Client();

  json after = Get(sandbox->id);
  EXPECT_EQ(after["status"]["state"], "Failed") << after.dump();
  EXPECT_EQ(after["status"]["reason"], "AGENT_EXITED") << after.dump();
  auto killed = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->status, 204);
  EXPECT_TRUE(GoneWithin(runtime_->state_dir() + "/sandboxes/" + sandbox->id));
}

// A kill is answered once the sandbox's processes are gone; its cgroup, directory and record
// are released right after. A runtime killed in between finds the record still Stopping, and
// finishes the job when it starts again.
TEST_F(RuntimeRestartTest, AKillWhoseReleaseWasCutShortIsFinishedOnRestart) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  const std::string record_path = RecordPath(sandbox->id);
  const std::string dir = runtime_->state_dir() + "/sandboxes/" + sandbox->id;
  json record = ParseJson(ReadText(record_path));
  const pid_t agent = record.value("agentPid", -1);
  ASSERT_GT(agent, 0) << record.dump();

  ASSERT_TRUE(runtime_->Restart([&] {
    // What the kill had done before the runtime died: the processes gone, the record Stopping.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, agent, 0)));
    ::kill(agent, SIGKILL);
    pollfd exited{pidfd.get(), POLLIN, 0};
    ::poll(&exited, 1, 10'000);
    record["sandbox"]["status"]["state"] = "Stopping";
    ASSERT_TRUE(WriteFileAtomic(record_path, record.dump(), 0600).ok());
  }));
  api_ = runtime_->Client();

  auto gone = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404) << gone->body;
  EXPECT_FALSE(PathExists(record_path));
  EXPECT_FALSE(PathExists(dir));
}

TEST_F(RuntimeRestartTest, LeftoversAreCleanedAndBadRecordsSetAside) {
  const std::string state = runtime_->state_dir();
  ASSERT_TRUE(runtime_->Restart([&state] {
    // A create cut short before its record was written, and a record no one can read.
    (void)MakeDirs(state + "/sandboxes/half-made/upper", 0700);
    (void)WriteFileAtomic(state + "/records/garbled.json", "{not json", 0600);
  }));
  api_ = runtime_->Client();

  EXPECT_FALSE(PathExists(state + "/sandboxes/half-made"));
  EXPECT_FALSE(PathExists(state + "/records/garbled.json"));
  EXPECT_TRUE(PathExists(state + "/records/garbled.json.corrupt"));
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(ParseJson(list->body)["pagination"]["totalItems"], 0) << list->body;
  EXPECT_TRUE(CreateSandbox().has_value());
}

}  // namespace
}  // namespace osb::test
