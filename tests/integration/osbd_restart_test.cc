// What osbd owns outlives osbd: after a restart it takes over the leases of sandboxes whose
// holder still runs and kills those whose holder exited meanwhile, keeps its templates and pools,
// and adopts the idle pool members it had made instead of making new ones.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/time/clock.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"
#include "tests/integration/harness.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

class OsbdRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
  }

  std::unique_ptr<v1::Sandboxes::Stub> Sandboxes() {
    return v1::Sandboxes::NewStub(stack_->channel());
  }

  std::string CreateLeased(pid_t holder) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSandboxRequest request;
    request.set_image("host");
    request.set_lease(v1::LEASE_MODE_KILL_ON_EXIT);
    request.set_lease_pid(holder);
    v1::Sandbox sandbox;
    grpc::Status status = Sandboxes()->Create(&ctx, request, &sandbox);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return sandbox.id();
  }

  grpc::StatusCode StatusOf(const std::string& id) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetSandboxRequest request;
    request.set_sandbox_id(id);
    v1::Sandbox sandbox;
    return Sandboxes()->Get(&ctx, request, &sandbox).error_code();
  }

  // Whether the sandbox is gone within `limit`.
  bool GoneWithin(const std::string& id, absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (StatusOf(id) == grpc::StatusCode::NOT_FOUND) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  std::set<std::string> PoolMembers(const std::string& pool) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListSandboxesRequest request;
    (*request.mutable_metadata())["osbd.opensandbox.io/pool"] = pool;
    v1::ListSandboxesResponse list;
    EXPECT_TRUE(Sandboxes()->List(&ctx, request, &list).ok());
    std::set<std::string> ids;
    for (const auto& sandbox : list.sandboxes()) ids.insert(sandbox.id());
    return ids;
  }

  uint32_t Idle(const std::string& pool) {
    auto pools = v1::Pools::NewStub(stack_->channel());
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetPoolStatsRequest request;
    request.set_name(pool);
    v1::PoolStats stats;
    grpc::Status status = pools->GetStats(&ctx, request, &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats.idle();
  }

  std::unique_ptr<Stack> stack_;
};

TEST_F(OsbdRestartTest, LeasesAreTakenOverOrSweptAtStart) {
  SleepingChild lives_on, exits_meanwhile;
  const std::string kept = CreateLeased(lives_on.pid());
  const std::string orphaned = CreateLeased(exits_meanwhile.pid());
  ASSERT_FALSE(kept.empty());
  ASSERT_FALSE(orphaned.empty());

  stack_->StopOsbd();
  exits_meanwhile.Exit();  // no osbd watches it now
  ASSERT_TRUE(stack_->StartOsbd());

  EXPECT_TRUE(GoneWithin(orphaned, absl::Seconds(10))) << "its holder exited while osbd was down";
  EXPECT_EQ(StatusOf(kept), grpc::StatusCode::OK) << "its holder still runs";
  lives_on.Exit();
  EXPECT_TRUE(GoneWithin(kept, absl::Seconds(5))) << "the new osbd watches the lease";
}

// The service may be shared by many hosts and users, each with an osbd: a starting osbd sweeps
// only the leases it tagged as its own, never another's whose holder it cannot see.
TEST_F(OsbdRestartTest, OnlyItsOwnLeasesAreSweptAtStart) {
  SleepingChild holder;
  const std::string own = CreateLeased(holder.pid());
  ASSERT_FALSE(own.empty());
  std::map<std::string, std::string> labels;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetSandboxRequest request;
    request.set_sandbox_id(own);
    v1::Sandbox sandbox;
    ASSERT_TRUE(Sandboxes()->Get(&ctx, request, &sandbox).ok());
    labels = {sandbox.metadata().begin(), sandbox.metadata().end()};
  }
  const std::string kOwner = "osbd.opensandbox.io/owner";
  ASSERT_EQ(labels[kOwner].size(), 32u) << "a leased sandbox names the osbd that owns it";
  // The same lease labels on two sandboxes osbd did not make: another osbd's, and one that
  // names no owner at all.
  auto leased_elsewhere = [&](std::optional<std::string> owner) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSandboxRequest create;
    create.set_image("host");
    v1::Sandbox sandbox;
    EXPECT_TRUE(Sandboxes()->Create(&ctx, create, &sandbox).ok());
    grpc::ClientContext patch_ctx;
    SetDeadline(patch_ctx);
    v1::PatchSandboxMetadataRequest patch;
    patch.set_sandbox_id(sandbox.id());
    for (const auto& [key, value] : labels) {
      if (key.rfind("osbd.opensandbox.io/", 0) == 0 && key != kOwner) {
        (*patch.mutable_upsert())[key] = value;
      }
    }
    if (owner.has_value()) (*patch.mutable_upsert())[kOwner] = *owner;
    v1::Sandbox patched;
    EXPECT_TRUE(Sandboxes()->PatchMetadata(&patch_ctx, patch, &patched).ok());
    return sandbox.id();
  };
  const std::string anothers = leased_elsewhere(std::string(32, 'e'));
  const std::string ownerless = leased_elsewhere(std::nullopt);

  stack_->StopOsbd();
  holder.Exit();
  ASSERT_TRUE(stack_->StartOsbd());

  EXPECT_TRUE(GoneWithin(own, absl::Seconds(10))) << "its own lease, holder gone: swept";
  EXPECT_EQ(StatusOf(anothers), grpc::StatusCode::OK) << "another osbd's lease is not its own";
  EXPECT_EQ(StatusOf(ownerless), grpc::StatusCode::OK) << "a lease of no osbd is not its own";
}

TEST_F(OsbdRestartTest, TemplatesAndPoolsSurviveAndIdleMembersAreAdopted) {
  {
    auto templates = v1::Templates::NewStub(stack_->channel());
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefineTemplateRequest request;
    request.mutable_template_()->set_name("kept");
    request.mutable_template_()->set_image("host");
    v1::Template t;
    ASSERT_TRUE(templates->Define(&ctx, request, &t).ok());
  }
  {
    auto pools = v1::Pools::NewStub(stack_->channel());
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefinePoolRequest request;
    request.mutable_pool()->set_name("kept");
    request.mutable_pool()->set_template_("kept");
    request.mutable_pool()->set_min_idle(2);
    v1::Pool pool;
    ASSERT_TRUE(pools->Define(&ctx, request, &pool).ok());
  }
  bool full = false;
  for (int i = 0; i < 300 && !full; ++i) {
    full = Idle("kept") == 2;
    if (!full) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(full);
  const std::set<std::string> members = PoolMembers("kept");
  ASSERT_EQ(members.size(), 2u);

  ASSERT_TRUE(stack_->RestartOsbd());
  bool adopted = false;
  for (int i = 0; i < 100 && !adopted; ++i) {
    adopted = Idle("kept") == 2;
    if (!adopted) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(adopted);
  absl::SleepFor(absl::Milliseconds(500));  // room for any wrongful refill to show
  EXPECT_EQ(PoolMembers("kept"), members) << "the same sandboxes, none made anew";

  auto templates = v1::Templates::NewStub(stack_->channel());
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetTemplateRequest request;
  request.set_name("kept");
  v1::Template t;
  EXPECT_TRUE(templates->Get(&ctx, request, &t).ok());
}

}  // namespace
}  // namespace osb::test
