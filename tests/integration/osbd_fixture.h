// The fixture of the tests that talk to osbd over gRPC: the whole stack on temporary paths
// (Stack), stubs for the Sandboxes and Commands services, and a way to get a running sandbox.
// Tests that include it link osb_proto_sandboxes and osb_proto_commands.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "tests/integration/harness.h"

namespace osb::test {

class OsbdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
    sandboxes_ = opensandbox::v1::Sandboxes::NewStub(stack_->channel());
    commands_ = opensandbox::v1::Commands::NewStub(stack_->channel());
  }

  // A running sandbox on the host base; fails the test (and returns "") when it cannot.
  std::string NewSandbox() {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    opensandbox::v1::CreateSandboxRequest request;
    request.set_image("host");
    opensandbox::v1::Sandbox sandbox;
    grpc::Status status = sandboxes_->Create(&ctx, request, &sandbox);
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_EQ(sandbox.status().state(), "Running");
    return sandbox.id();
  }

  std::unique_ptr<Stack> stack_;
  std::unique_ptr<opensandbox::v1::Sandboxes::Stub> sandboxes_;
  std::unique_ptr<opensandbox::v1::Commands::Stub> commands_;
};

}  // namespace osb::test
