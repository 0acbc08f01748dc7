// Snapshots through the lifecycle API: a Running sandbox's changes (new files and deleted ones)
// are captured, listed, restored into new sandboxes (across a runtime restart too) and deleted;
// requests that cannot be honoured get the official codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "tests/integration/runtime_fixture.h"

namespace osb::test {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

class Snapshots : public RuntimeSandboxTest {
 protected:
  // POST /sandboxes/{id}/snapshots; the response.
  httplib::Result Snap(const std::string& sandbox_id, const std::string& body = "") {
    return api_->Post("/v1/sandboxes/" + sandbox_id + "/snapshots", body, "application/json");
  }

  // Polls the snapshot until it leaves Creating; its last state.
  json WaitSettled(const std::string& id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    json s;
    do {
      auto r = api_->Get("/v1/snapshots/" + id);
      if (!r || r->status != 200) return json();
      s = ParseJson(r->body);
      if (s["status"]["state"] != "Creating") return s;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    return s;
  }

  // Takes a snapshot of the fixture's sandbox and waits until it is Ready; its id.
  std::string ReadySnapshot() {
    auto created = Snap(sandbox_.id, R"({"name":"checkpoint"})");
    if (!created || created->status != 202) {
      ADD_FAILURE() << (created ? created->body : "no answer");
      return "";
    }
    const std::string id = ParseJson(created->body)["id"];
    json settled = WaitSettled(id);
    EXPECT_EQ(settled["status"]["state"], "Ready") << settled.dump();
    return id;
  }
};

TEST_F(Snapshots, CaptureRestoresFilesAndDeletionsIntoANewSandbox) {
  CommandResult changed = Run(sandbox_, "mkdir -p /opt/app && echo v1 > /opt/app/conf && "
                                        "echo notes > /root/notes && rm /etc/hosts && echo done");
  ASSERT_EQ(Stdout(changed), "done") << Describe(changed);

  auto created = Snap(sandbox_.id, R"({"name":"checkpoint"})");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 202) << created->body;
  json snapshot = ParseJson(created->body);
  EXPECT_EQ(snapshot["status"]["state"], "Creating");
  EXPECT_EQ(snapshot["sandboxId"], sandbox_.id);
  EXPECT_EQ(snapshot["name"], "checkpoint");
  const std::string id = snapshot["id"];
  EXPECT_EQ(created->get_header_value("Location"), "/v1/snapshots/" + id);
  json settled = WaitSettled(id);
  EXPECT_EQ(settled["status"]["state"], "Ready") << settled.dump();
  EXPECT_EQ(settled["status"]["reason"], "snapshot_ready");

  // The source runs on, thawed.
  EXPECT_EQ(Stdout(Run(sandbox_, "echo still here")), "still here");

  auto list = api_->Get("/v1/snapshots?sandboxId=" + sandbox_.id + "&state=ready");
  ASSERT_TRUE(list);
  json items = ParseJson(list->body)["items"];
  ASSERT_EQ(items.size(), 1u) << list->body;
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(ParseJson(list->body)["pagination"]["totalItems"], 1);
  auto none = api_->Get("/v1/snapshots?state=Failed");
  ASSERT_TRUE(none);
  EXPECT_EQ(ParseJson(none->body)["pagination"]["totalItems"], 0) << none->body;

  // No entrypoint: the source's is used.
  auto restored = CreateSandbox(json{{"snapshotId", id}});
  ASSERT_TRUE(restored.has_value());
  CommandResult seen = Run(*restored, "cat /opt/app/conf /root/notes; test -e /etc/hosts || "
                                      "echo hosts gone");
  EXPECT_EQ(Stdout(seen), "v1\nnotes\nhosts gone") << Describe(seen);
  auto got = api_->Get("/v1/sandboxes/" + restored->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body)["snapshotId"], id) << got->body;
  EXPECT_EQ(ParseJson(got->body)["entrypoint"], json({"sleep", "infinity"})) << got->body;
  // The restored sandbox's changes are its own.
  Run(*restored, "echo v2 > /opt/app/conf");
  EXPECT_EQ(Stdout(Run(sandbox_, "cat /opt/app/conf")), "v1");
}

// A sandbox with egress gets its own /etc/resolv.conf, written into its layer: a restored layer
// with an /etc of its own keeps it, and one whose /etc the sandbox made a symlink is refused,
// nothing written where it leads.
TEST_F(Snapshots, RestoringWithEgressWritesResolvConfIntoTheLayerOnly) {
  if (::access("/usr/bin/pasta", X_OK) != 0) GTEST_SKIP() << "egress needs pasta (passt)";
  CommandResult changed = Run(sandbox_, "echo mine > /etc/motd && echo done");
  ASSERT_EQ(Stdout(changed), "done") << Describe(changed);
  const std::string id = ReadySnapshot();
  ASSERT_FALSE(id.empty());
  auto restored = CreateSandbox(json{{"snapshotId", id}, {"networkPolicy", json::object()}});
  ASSERT_TRUE(restored.has_value());
  CommandResult seen = Run(*restored, "cat /etc/motd; grep -c nameserver /etc/resolv.conf");
  EXPECT_EQ(Stdout(seen), "mine\n1") << Describe(seen);

  TempDir outside;
  CommandResult swapped =
      Run(sandbox_, absl::StrCat("rm -rf /etc && ln -s ", outside.path(), " /etc && echo done"));
  ASSERT_EQ(Stdout(swapped), "done") << Describe(swapped);
  const std::string linked = ReadySnapshot();
  ASSERT_FALSE(linked.empty());
  auto refused = api_->Post(
      "/v1/sandboxes",
      json({{"snapshotId", linked}, {"networkPolicy", json::object()}, {"timeout", 600}}).dump(),
      "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 500) << refused->body;
  EXPECT_THAT(refused->body, HasSubstr("/etc is not a directory"));
  EXPECT_FALSE(ReadFile(outside.path() + "/resolv.conf").ok()) << "written through the symlink";
}

TEST_F(Snapshots, DeleteRemovesItAndItsLayer) {
  const std::string id = ReadySnapshot();
  ASSERT_FALSE(id.empty());
  const std::string dir = runtime_->state_dir() + "/snapshots/" + id;
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  auto deleted = api_->Delete("/v1/snapshots/" + id);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 204);
  EXPECT_NE(::stat(dir.c_str(), &st), 0);
  auto again = api_->Get("/v1/snapshots/" + id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  auto restore = api_->Post("/v1/sandboxes", json{{"snapshotId", id}}.dump(), "application/json");
  ASSERT_TRUE(restore);
  EXPECT_EQ(restore->status, 404) << restore->body;
}

TEST_F(Snapshots, SurviveARuntimeRestart) {
  Run(sandbox_, "echo kept > /root/kept");
  const std::string id = ReadySnapshot();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(runtime_->Restart());
  api_ = runtime_->Client();
  auto got = api_->Get("/v1/snapshots/" + id);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body)["status"]["state"], "Ready") << got->body;
  auto restored = CreateSandbox(json{{"snapshotId", id}, {"entrypoint", {"sleep", "1000"}}});
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(Stdout(Run(*restored, "cat /root/kept")), "kept");
}

TEST_F(Snapshots, RequestsItCannotHonourAreRefused) {
  auto unknown = Snap("no-such-sandbox");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  for (const char* body : {R"({"name":5})", R"({"name":""})", R"({"label":"x"})", "[1]", "{"}) {
    auto bad = Snap(sandbox_.id, body);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << body << " " << bad->body;
  }
  auto missing = api_->Get("/v1/snapshots/no-such-snapshot");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(missing->body), "SNAPSHOT::NOT_FOUND");
  auto bad_page = api_->Get("/v1/snapshots?pageSize=500");
  ASSERT_TRUE(bad_page);
  EXPECT_EQ(bad_page->status, 400);

  auto paused = api_->Post("/v1/sandboxes/" + sandbox_.id + "/pause", "", "application/json");
  ASSERT_TRUE(paused);
  if (paused->status == 501) GTEST_SKIP() << "no freezer: the state check needs a paused sandbox";
  auto of_paused = Snap(sandbox_.id);
  ASSERT_TRUE(of_paused);
  EXPECT_EQ(of_paused->status, 409) << of_paused->body;
  EXPECT_EQ(ErrorCode(of_paused->body), "SNAPSHOT::INVALID_SOURCE_STATE");
  auto list = api_->Get("/v1/snapshots");
  ASSERT_TRUE(list);
  EXPECT_EQ(ParseJson(list->body)["pagination"]["totalItems"], 0) << "nothing was recorded";
}

}  // namespace
}  // namespace osb::test
