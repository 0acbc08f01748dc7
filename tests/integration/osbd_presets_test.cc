// osbd's presets through the gRPC API: templates (named create parameters) and warm pools of
// ready sandboxes made from them.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"
#include "tests/integration/harness.h"
#include "tests/integration/status_details.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

class OsbdPresetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
    sandboxes_ = v1::Sandboxes::NewStub(stack_->channel());
    templates_ = v1::Templates::NewStub(stack_->channel());
    pools_ = v1::Pools::NewStub(stack_->channel());
  }

  grpc::Status DefinePool(const std::string& name, uint32_t min_idle, uint32_t max_idle = 0) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefinePoolRequest request;
    request.mutable_pool()->set_name(name);
    request.mutable_pool()->set_template_("worker");
    request.mutable_pool()->set_min_idle(min_idle);
    request.mutable_pool()->set_max_idle(max_idle);
    v1::Pool pool;
    return pools_->Define(&ctx, request, &pool);
  }

  v1::PoolStats Stats(const std::string& name) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetPoolStatsRequest request;
    request.set_name(name);
    v1::PoolStats stats;
    grpc::Status status = pools_->GetStats(&ctx, request, &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats;
  }

  // Waits (up to 30 s) until the pool holds `idle` idle sandboxes; false if it never does.
  bool WaitForIdle(const std::string& name, uint32_t idle) {
    for (int i = 0; i < 300; ++i) {
      if (Stats(name).idle() == idle) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  grpc::Status Acquire(const std::string& name, v1::AcquirePolicy policy,
                       v1::AcquireSandboxResponse* response) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AcquireSandboxRequest request;
    request.set_pool_name(name);
    request.set_policy(policy);
    return pools_->Acquire(&ctx, request, response);
  }

  grpc::Status Release(const std::string& name, const std::string& id, bool reuse,
                       v1::ReleaseSandboxResponse* response) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ReleaseSandboxRequest request;
    request.set_pool_name(name);
    request.set_sandbox_id(id);
    request.set_reuse(reuse);
    return pools_->Release(&ctx, request, response);
  }

  // Sandboxes the runtime holds that carry `key=value` in their metadata.
  int64_t Tagged(const std::string& key, const std::string& value) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListSandboxesRequest request;
    (*request.mutable_metadata())[key] = value;
    v1::ListSandboxesResponse list;
    EXPECT_TRUE(sandboxes_->List(&ctx, request, &list).ok());
    return list.pagination().total_items();
  }

  grpc::Status Define(const v1::Template& t, v1::Template* out = nullptr) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefineTemplateRequest request;
    *request.mutable_template_() = t;
    v1::Template ignored;
    return templates_->Define(&ctx, request, out != nullptr ? out : &ignored);
  }

  grpc::Status Create(const v1::CreateSandboxRequest& request, v1::Sandbox* sandbox) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    return sandboxes_->Create(&ctx, request, sandbox);
  }

  static v1::Template Worker() {
    v1::Template t;
    t.set_name("worker");
    t.set_description("a host-base sandbox for jobs");
    t.set_image("host");
    t.mutable_timeout()->set_seconds(300);
    (*t.mutable_env())["ROLE"] = "worker";
    (*t.mutable_metadata())["preset"] = "worker";
    t.mutable_image_auth()->set_username("bot");
    t.mutable_image_auth()->set_password("s3cret");
    return t;
  }

  std::unique_ptr<Stack> stack_;
  std::unique_ptr<v1::Sandboxes::Stub> sandboxes_;
  std::unique_ptr<v1::Templates::Stub> templates_;
  std::unique_ptr<v1::Pools::Stub> pools_;
};

TEST_F(OsbdPresetsTest, ATemplateSuppliesWhatTheCreateRequestLeavesOut) {
  v1::Template defined;
  grpc::Status status = Define(Worker(), &defined);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(defined.image_auth().password(), "") << "passwords never leave osbd";
  EXPECT_TRUE(defined.has_created_at());

  v1::CreateSandboxRequest request;
  request.set_template_("worker");
  (*request.mutable_metadata())["own"] = "yes";
  v1::Sandbox sandbox;
  status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(sandbox.metadata().at("preset"), "worker");
  EXPECT_EQ(sandbox.metadata().at("own"), "yes");
  EXPECT_TRUE(sandbox.has_expires_at());

  auto commands = v1::Commands::NewStub(stack_->channel());
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::RunCommandRequest run;
  run.set_sandbox_id(sandbox.id());
  run.set_command("echo $ROLE");
  auto reader = commands->Run(&ctx, run);
  v1::CommandEvent event;
  std::string out;
  while (reader->Read(&event)) {
    if (event.has_stdout()) out += event.stdout().data();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(out, "worker");

  v1::CreateSandboxRequest unknown;
  unknown.set_template_("no-such-template");
  status = Create(unknown, &sandbox);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorReason(status), "OSBD::TEMPLATE_NOT_FOUND") << status.error_message();
}

TEST_F(OsbdPresetsTest, TemplatesAreListedReadAndDeleted) {
  ASSERT_TRUE(Define(Worker()).ok());
  v1::Template bad = Worker();
  bad.set_name("Not_A_Label");
  EXPECT_EQ(Define(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListTemplatesResponse list;
    ASSERT_TRUE(templates_->List(&ctx, v1::ListTemplatesRequest(), &list).ok());
    ASSERT_EQ(list.templates_size(), 1);
    EXPECT_EQ(list.templates(0).name(), "worker");
    EXPECT_EQ(list.templates(0).image_auth().password(), "");
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteTemplateRequest request;
    request.set_name("worker");
    v1::DeleteTemplateResponse response;
    ASSERT_TRUE(templates_->Delete(&ctx, request, &response).ok());
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetTemplateRequest request;
  request.set_name("worker");
  v1::Template got;
  EXPECT_EQ(templates_->Get(&ctx, request, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(OsbdPresetsTest, AWarmPoolHandsOutReadySandboxesAndRefills) {
  ASSERT_TRUE(Define(Worker()).ok());
  ASSERT_TRUE(DefinePool("warm", 2).ok());
  ASSERT_TRUE(WaitForIdle("warm", 2)) << Stats("warm").DebugString();
  EXPECT_EQ(Tagged("osbd.opensandbox.io/pool", "warm"), 2);

  v1::AcquireSandboxResponse acquired;
  grpc::Status status = Acquire("warm", v1::ACQUIRE_POLICY_FAIL_FAST, &acquired);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(acquired.warm());
  EXPECT_EQ(acquired.sandbox().status().state(), "Running");
  EXPECT_EQ(acquired.sandbox().metadata().count("osbd.opensandbox.io/pool"), 0u)
      << "an acquired sandbox is no longer the pool's";
  EXPECT_EQ(acquired.sandbox().metadata().at("preset"), "worker");

  ASSERT_TRUE(WaitForIdle("warm", 2)) << "the pool refills";
  v1::PoolStats stats = Stats("warm");
  EXPECT_EQ(stats.warm_acquires(), 1u);
  EXPECT_EQ(stats.state(), v1::POOL_STATE_RUNNING);

  v1::ReleaseSandboxResponse released;
  ASSERT_TRUE(Release("warm", acquired.sandbox().id(), false, &released).ok());
  EXPECT_FALSE(released.reused());
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetSandboxRequest get;
  get.set_sandbox_id(acquired.sandbox().id());
  v1::Sandbox gone;
  EXPECT_EQ(sandboxes_->Get(&ctx, get, &gone).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(OsbdPresetsTest, KillingAnIdleMemberTakesItOutOfThePool) {
  ASSERT_TRUE(Define(Worker()).ok());
  ASSERT_TRUE(DefinePool("killed", 1, 1).ok());
  ASSERT_TRUE(WaitForIdle("killed", 1));
  grpc::ClientContext list_ctx;
  SetDeadline(list_ctx);
  v1::ListSandboxesRequest list_request;
  (*list_request.mutable_metadata())["osbd.opensandbox.io/pool"] = "killed";
  v1::ListSandboxesResponse listed;
  ASSERT_TRUE(sandboxes_->List(&list_ctx, list_request, &listed).ok());
  ASSERT_EQ(listed.sandboxes_size(), 1);
  const std::string member = listed.sandboxes(0).id();
  grpc::ClientContext kill_ctx;
  SetDeadline(kill_ctx);
  v1::KillSandboxRequest kill;
  kill.set_sandbox_id(member);
  v1::KillSandboxResponse killed;
  ASSERT_TRUE(sandboxes_->Kill(&kill_ctx, kill, &killed).ok());
  // The pool forgets it at once and makes another; an acquire never gets the dead one.
  ASSERT_TRUE(WaitForIdle("killed", 1));
  v1::AcquireSandboxResponse acquired;
  ASSERT_TRUE(Acquire("killed", v1::ACQUIRE_POLICY_FAIL_FAST, &acquired).ok());
  EXPECT_NE(acquired.sandbox().id(), member);
  EXPECT_EQ(Stats("killed").discarded(), 0u) << "nothing had to be found dead at acquire";
}

TEST_F(OsbdPresetsTest, AnEmptyPoolFailsFastOrCreatesDirectly) {
  ASSERT_TRUE(Define(Worker()).ok());
  ASSERT_TRUE(DefinePool("empty", 0).ok());
  v1::AcquireSandboxResponse acquired;
  grpc::Status status = Acquire("empty", v1::ACQUIRE_POLICY_FAIL_FAST, &acquired);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "OSBD::POOL_EMPTY");

  status = Acquire("empty", v1::ACQUIRE_POLICY_UNSPECIFIED, &acquired);  // DIRECT_CREATE
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(acquired.warm());
  EXPECT_EQ(acquired.sandbox().status().state(), "Running");
  v1::PoolStats stats = Stats("empty");
  EXPECT_EQ(stats.direct_creates(), 1u);
  EXPECT_EQ(stats.acquire_failures(), 1u);
}

TEST_F(OsbdPresetsTest, AReleasedSandboxCanGoBackToTheIdleSet) {
  ASSERT_TRUE(Define(Worker()).ok());
  ASSERT_TRUE(DefinePool("reuse", 1, 2).ok());
  ASSERT_TRUE(WaitForIdle("reuse", 1));
  v1::AcquireSandboxResponse acquired;
  ASSERT_TRUE(Acquire("reuse", v1::ACQUIRE_POLICY_FAIL_FAST, &acquired).ok());
  ASSERT_TRUE(WaitForIdle("reuse", 1)) << "refilled to min_idle";
  v1::ReleaseSandboxResponse released;
  ASSERT_TRUE(Release("reuse", acquired.sandbox().id(), true, &released).ok());
  EXPECT_TRUE(released.reused());
  EXPECT_EQ(Stats("reuse").idle(), 2u);
  EXPECT_EQ(Stats("reuse").reused(), 1u);
  EXPECT_EQ(Tagged("osbd.opensandbox.io/pool", "reuse"), 2);
}

TEST_F(OsbdPresetsTest, DeletingAPoolKillsItsIdleMembersAndFreesItsTemplate) {
  ASSERT_TRUE(Define(Worker()).ok());
  ASSERT_TRUE(DefinePool("doomed", 2).ok());
  ASSERT_TRUE(WaitForIdle("doomed", 2));
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteTemplateRequest request;
    request.set_name("worker");
    v1::DeleteTemplateResponse response;
    grpc::Status in_use = templates_->Delete(&ctx, request, &response);
    EXPECT_EQ(in_use.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "a pool uses it";
    EXPECT_EQ(ErrorReason(in_use), "OSBD::TEMPLATE_IN_USE") << in_use.error_message();
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeletePoolRequest request;
    request.set_name("doomed");
    v1::DeletePoolResponse response;
    ASSERT_TRUE(pools_->Delete(&ctx, request, &response).ok());
  }
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = Tagged("osbd.opensandbox.io/pool", "doomed") == 0;
    if (!gone) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(gone);
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetPoolStatsRequest request;
  request.set_name("doomed");
  v1::PoolStats stats;
  EXPECT_EQ(pools_->GetStats(&ctx, request, &stats).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(OsbdPresetsTest, BadPoolDefinitionsAreRefused) {
  EXPECT_EQ(DefinePool("orphan", 1).error_code(), grpc::StatusCode::NOT_FOUND)
      << "its template does not exist";
  ASSERT_TRUE(Define(Worker()).ok());
  EXPECT_EQ(DefinePool("Bad_Name", 1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DefinePool("inverted", 3, 1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::AcquireSandboxResponse acquired;
  grpc::Status nope = Acquire("nope", v1::ACQUIRE_POLICY_FAIL_FAST, &acquired);
  EXPECT_EQ(nope.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorReason(nope), "OSBD::POOL_NOT_FOUND") << nope.error_message();
  EXPECT_TRUE(absl::StrContains(nope.error_message(), "\"nope\"")) << nope.error_message();
  // A name left out is a bad request naming the field, not a pool or template not found.
  grpc::Status unnamed = Acquire("", v1::ACQUIRE_POLICY_FAIL_FAST, &acquired);
  EXPECT_EQ(unnamed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(unnamed.error_message(), "pool_name is required");
  {
    grpc::ClientContext stats_ctx;
    SetDeadline(stats_ctx);
    v1::PoolStats stats;
    grpc::Status status = pools_->GetStats(&stats_ctx, v1::GetPoolStatsRequest(), &stats);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "name is required");
  }
  {
    grpc::ClientContext get_ctx;
    SetDeadline(get_ctx);
    v1::Template got;
    grpc::Status status = templates_->Get(&get_ctx, v1::GetTemplateRequest(), &got);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "name is required");
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListPoolsResponse list;
  ASSERT_TRUE(pools_->List(&ctx, v1::ListPoolsRequest(), &list).ok());
  EXPECT_EQ(list.pools_size(), 0);
}

}  // namespace
}  // namespace osb::test
