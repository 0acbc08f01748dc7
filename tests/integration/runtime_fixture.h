// The fixtures of the osb-runtime integration tests (runtime_api_test, runtime_command_test,
// runtime_files_test, runtime_isolation_test): a fresh osb-runtime per test and a lifecycle client
// for it, and the same with one running sandbox.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/integration/harness.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {

// A fresh osb-runtime per test: tests share nothing, and one that breaks the runtime breaks only
// itself.
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = RuntimeProcess::Start(RuntimeArgs());
    ASSERT_NE(runtime_, nullptr);
    api_ = runtime_->Client();
  }

  // Flags the runtime of this test starts with.
  virtual std::vector<std::string> RuntimeArgs() { return {}; }

  static nlohmann::json CreateBody(std::vector<std::string> entrypoint = {"sleep", "infinity"}) {
    return {{"image", {{"uri", "host"}}}, {"entrypoint", entrypoint}};
  }

  // Creates a sandbox and resolves its agent endpoint; nullopt (with a failure recorded) when
  // either step fails.
  std::optional<SandboxHandle> CreateSandbox(const nlohmann::json& body = CreateBody()) {
    return ::osb::test::CreateSandbox(*api_, body);
  }

  // Runs `command` in the sandbox; `extra` adds request fields (cwd, timeout, ...).
  static CommandResult Run(const SandboxHandle& sandbox, const std::string& command,
                           nlohmann::json extra = nlohmann::json::object()) {
    return RunCommand(sandbox, command, std::move(extra));
  }

  std::unique_ptr<RuntimeProcess> runtime_;
  std::unique_ptr<httplib::Client> api_;
};

// A fresh osb-runtime with one running sandbox on the host base, and a client for its agent.
class RuntimeSandboxTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (HasFatalFailure()) return;
    auto sandbox = CreateSandbox();
    ASSERT_TRUE(sandbox.has_value());
    sandbox_ = *sandbox;
    agent_ = std::make_unique<AgentClient>(sandbox_);
  }

  SandboxHandle sandbox_;
  std::unique_ptr<AgentClient> agent_;
};

}  // namespace osb::test
