// What osbd owns outlives osbd: after a restart it takes over the leases of sandboxes whose
// holder still runs and kills those whose holder exited meanwhile, keeps its templates and pools,
// and adopts the idle pool members it had made instead of making new ones.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/daemon.grpc.pb.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"
#include "rest/sys/file_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/shutdown_call.h"

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

  // A template of the host image named `name`, and a pool of `min_idle` made from it.
  grpc::Status DefineTemplateAndPool(const std::string& name, uint32_t min_idle) {
    grpc::ClientContext template_ctx;
    SetDeadline(template_ctx);
    v1::DefineTemplateRequest define_template;
    define_template.mutable_template_()->set_name(name);
    define_template.mutable_template_()->set_image("host");
    v1::Template t;
    grpc::Status status =
        v1::Templates::NewStub(stack_->channel())->Define(&template_ctx, define_template, &t);
    if (!status.ok()) return status;
    grpc::ClientContext pool_ctx;
    SetDeadline(pool_ctx);
    v1::DefinePoolRequest define_pool;
    define_pool.mutable_pool()->set_name(name);
    define_pool.mutable_pool()->set_template_(name);
    define_pool.mutable_pool()->set_min_idle(min_idle);
    v1::Pool pool;
    return v1::Pools::NewStub(stack_->channel())->Define(&pool_ctx, define_pool, &pool);
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

// osbd restarted (SIGTERM, as a service manager does) while clients work: a running command's
// stream is drained to its end, calls made meanwhile fail (UNAVAILABLE), the clients' own channel
// reconnects by itself once osbd is back, the sandbox is intact, and its lease is watched again.
TEST_F(OsbdRestartTest, ClientsAtWorkCarryOnAcrossARestart) {
  SleepingChild holder;
  const std::string id = CreateLeased(holder.pid());
  ASSERT_FALSE(id.empty());
  // A client's channel of its own, kept across the restart.
  auto channel = grpc::CreateChannel("unix:" + stack_->socket_path(),
                                     grpc::InsecureChannelCredentials());
  auto sandboxes = v1::Sandboxes::NewStub(channel);
  auto commands = v1::Commands::NewStub(channel);

  grpc::ClientContext run_ctx;
  SetDeadline(run_ctx, absl::Seconds(60));
  v1::RunCommandRequest run;
  run.set_sandbox_id(id);
  run.set_command("for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.25; done");
  auto reader = commands->Run(&run_ctx, run);
  v1::CommandEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_started()) << event.DebugString();
  std::string output;
  bool completed = false;
  std::thread streaming([&] {
    while (reader->Read(&event)) {
      if (event.has_stdout()) output += event.stdout().data() + ",";
      if (event.has_completed()) completed = true;  // exit 0: a failure is an error event
    }
  });

  std::atomic<bool> restarted{false};
  std::atomic<int> failed_meanwhile{0};
  std::thread getting([&] {
    while (!restarted) {
      grpc::ClientContext ctx;
      SetDeadline(ctx, absl::Seconds(2));
      v1::GetSandboxRequest request;
      request.set_sandbox_id(id);
      v1::Sandbox sandbox;
      grpc::Status status = sandboxes->Get(&ctx, request, &sandbox);
      if (!status.ok()) {
        // UNAVAILABLE once the socket is gone; a call that reached the stopping server before
        // its shutdown began is CANCELLED by gRPC.
        EXPECT_TRUE(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                    status.error_code() == grpc::StatusCode::CANCELLED)
            << status.error_code() << ": " << status.error_message();
        ++failed_meanwhile;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  ASSERT_TRUE(stack_->RestartOsbd());
  restarted = true;
  getting.join();
  streaming.join();
  grpc::Status run_status = reader->Finish();
  EXPECT_TRUE(run_status.ok()) << run_status.error_message();
  EXPECT_EQ(output, "1,2,3,4,5,6,7,8,") << "the running stream was drained, not cut";
  EXPECT_TRUE(completed);
  EXPECT_GT(failed_meanwhile, 0) << "no call was made while osbd was down";

  // The same channel serves again once it has reconnected.
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(15));
  ctx.set_wait_for_ready(true);
  v1::GetSandboxRequest request;
  request.set_sandbox_id(id);
  v1::Sandbox sandbox;
  grpc::Status status = sandboxes->Get(&ctx, request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(sandbox.status().state(), "Running");
  holder.Exit();
  EXPECT_TRUE(GoneWithin(id, absl::Seconds(5))) << "the restarted osbd watches the lease";
}

// Leases made through a config profile's connection are taken over too: osbd looks for its
// leases on each profile's service, not only on its default one.
TEST_F(OsbdRestartTest, LeasesOnAProfilesServiceAreSweptAtStart) {
  auto other = RuntimeProcess::Start();
  ASSERT_NE(other, nullptr);
  const std::string config = stack_->dir() + "/osbd.toml";
  ASSERT_TRUE(WriteFileAtomic(config,
                              absl::StrCat("[profiles.other]\ndomain = \"", other->address(),
                                           "\"\napi_key = \"", other->api_key(), "\"\n"),
                              0600)
                  .ok());
  ::setenv("OSBD_CONFIG", config.c_str(), 1);
  struct Unset {
    ~Unset() { ::unsetenv("OSBD_CONFIG"); }
  } unset;
  ASSERT_TRUE(stack_->RestartOsbd());

  SleepingChild holder;
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::CreateSandboxRequest request;
  request.set_image("host");
  request.set_lease(v1::LEASE_MODE_KILL_ON_EXIT);
  request.set_lease_pid(holder.pid());
  request.mutable_connection()->set_profile("other");
  v1::Sandbox sandbox;
  grpc::Status status = Sandboxes()->Create(&ctx, request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto on_other = other->Client();
  ASSERT_EQ(on_other->Get("/v1/sandboxes/" + sandbox.id())->status, 200);

  stack_->StopOsbd();
  holder.Exit();  // no osbd watches it now
  ASSERT_TRUE(stack_->StartOsbd());
  int answer = 200;
  for (int i = 0; i < 100 && answer != 404; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    answer = on_other->Get("/v1/sandboxes/" + sandbox.id())->status;
  }
  EXPECT_EQ(answer, 404) << "the holder exited while osbd was down: swept on the profile's service";
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

// A sandbox leased out of a warm pool is tagged like a created one: a restarted osbd takes the
// lease over.
TEST_F(OsbdRestartTest, ALeaseFromAPoolIsTakenOverToo) {
  // "warm" hands out an idle member; "cold" (min_idle 0) never has one and creates directly.
  for (const auto& [name, min_idle] : {std::pair{"warm", 1u}, std::pair{"cold", 0u}}) {
    grpc::Status status = DefineTemplateAndPool(name, min_idle);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  auto pools = v1::Pools::NewStub(stack_->channel());
  for (int i = 0; i < 300 && Idle("warm") == 0; ++i) absl::SleepFor(absl::Milliseconds(100));
  SleepingChild holder;
  std::vector<std::string> leased;
  for (const std::string pool : {"warm", "cold"}) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AcquireSandboxRequest request;
    request.set_pool_name(pool);
    request.set_policy(v1::ACQUIRE_POLICY_DIRECT_CREATE);
    request.set_lease(v1::LEASE_MODE_KILL_ON_EXIT);
    request.set_lease_pid(holder.pid());
    v1::AcquireSandboxResponse response;
    grpc::Status status = pools->Acquire(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.warm(), pool == "warm");
    const auto& metadata = response.sandbox().metadata();
    EXPECT_EQ(metadata.count("osbd.opensandbox.io/pool"), 0u) << pool;
    ASSERT_EQ(metadata.count("osbd.opensandbox.io/lease-pid"), 1u) << pool;
    EXPECT_EQ(metadata.at("osbd.opensandbox.io/lease-pid"), std::to_string(holder.pid()));
    EXPECT_EQ(metadata.count("osbd.opensandbox.io/owner"), 1u) << pool;
    leased.push_back(response.sandbox().id());
  }

  ASSERT_TRUE(stack_->RestartOsbd());
  for (const auto& id : leased) EXPECT_EQ(StatusOf(id), grpc::StatusCode::OK);
  holder.Exit();
  for (const auto& id : leased) {
    EXPECT_TRUE(GoneWithin(id, absl::Seconds(5))) << id << ": the new osbd watches the lease";
  }
}

// Daemon.Shutdown with stop_embedded_runtime stops the runtime too; its sandboxes live on, and
// the next osbd starts a runtime that finds them.
TEST_F(OsbdRestartTest, ShutdownCanStopTheEmbeddedRuntimeAndItsSandboxesSurvive) {
  grpc::ClientContext create_ctx;
  SetDeadline(create_ctx);
  v1::CreateSandboxRequest create;
  create.set_image("host");
  v1::Sandbox sandbox;
  ASSERT_TRUE(Sandboxes()->Create(&create_ctx, create, &sandbox).ok());
  const pid_t runtime = stack_->runtime_pid();
  ASSERT_GT(runtime, 0);

  v1::ShutdownRequest request;
  request.set_stop_embedded_runtime(true);
  grpc::Status status = Shutdown(stack_->channel(), request);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ProcessRunning(runtime) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(ProcessRunning(runtime)) << "the embedded runtime was not stopped";
  stack_->StopOsbd();

  ASSERT_TRUE(stack_->StartOsbd());
  EXPECT_NE(stack_->runtime_pid(), runtime) << "a new runtime";
  EXPECT_EQ(StatusOf(sandbox.id()), grpc::StatusCode::OK) << "the sandbox outlived its runtime";
}

TEST_F(OsbdRestartTest, TemplatesAndPoolsSurviveAndIdleMembersAreAdopted) {
  grpc::Status defined = DefineTemplateAndPool("kept", 2);
  ASSERT_TRUE(defined.ok()) << defined.error_message();
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
