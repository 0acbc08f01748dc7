// osbd's presets through the gRPC API: templates (named create parameters) and warm pools of
// ready sandboxes made from them.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"
#include "tests/integration/harness.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

class OsbdPresetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
    sandboxes_ = v1::Sandboxes::NewStub(stack_->channel());
    templates_ = v1::Templates::NewStub(stack_->channel());
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
  EXPECT_EQ(Create(unknown, &sandbox).error_code(), grpc::StatusCode::NOT_FOUND);
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

}  // namespace
}  // namespace osb::test
