// The C++ SDK against an in-process fake osbd: what it sends for each call and how it reads
// the answers, errors and broken streams included.
#include <stdlib.h>
#include <unistd.h>

#include <sstream>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "opensandbox/opensandbox.h"
#include "tests/unit/client/fake_daemon.h"

namespace opensandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using testing::FakeDaemon;
namespace v1 = ::opensandbox::v1;

class SdkTest : public ::testing::Test {
 protected:
  SdkTest() {
    daemon_.state().sandbox.set_id("sb-1");
    daemon_.state().sandbox.mutable_status()->set_state("Running");
  }

  Options options() const { return Options{}.set<SocketPathOption>(daemon_.socket_path()); }

  // The fake daemon answers every call with `code` and `message`, and an ErrorInfo whose
  // reason is `reason`, as osbd names its own failures.
  void FailCallsWith(grpc::StatusCode code, const std::string& message,
                     const std::string& reason) {
    google::rpc::ErrorInfo info;
    info.set_reason(reason);
    google::rpc::Status details;
    details.add_details()->PackFrom(info);
    absl::MutexLock lock(&daemon_.state().mu);
    daemon_.state().error = grpc::Status(code, message, details.SerializeAsString());
  }

  Sandbox Connected() {
    auto sandbox = Sandbox::Connect("sb-1", options());
    EXPECT_TRUE(sandbox.ok()) << sandbox.status();
    return *std::move(sandbox);
  }

  static v1::CommandEvent Event(std::uint64_t seq) {
    v1::CommandEvent event;
    event.set_seq(seq);
    event.mutable_time()->set_seconds(1700000000);
    return event;
  }
  static v1::CommandEvent Started(std::uint64_t seq, const std::string& id) {
    auto event = Event(seq);
    event.mutable_started()->set_command_id(id);
    return event;
  }
  static v1::CommandEvent Line(std::uint64_t seq, const std::string& text, bool is_error) {
    auto event = Event(seq);
    (is_error ? event.mutable_stderr() : event.mutable_stdout())->set_data(text);
    return event;
  }

  FakeDaemon daemon_;
};

TEST_F(SdkTest, CreateSendsTheSpecAndTheConnection) {
  SandboxSpec spec;
  spec.entrypoint = {"python3", "-m", "http.server"};
  spec.timeout = absl::Seconds(90);
  spec.resource = {{"cpu", "500m"}};
  spec.env = {{"MODE", "test"}};
  spec.metadata = {{"team", "ci"}};
  spec.network_policy = NetworkPolicy{false, {{true, "pypi.org"}}};
  spec.credential_proxy = true;
  spec.volumes = {{.name = "data", .mount_path = "/data", .read_only = true, .host_path = "/srv"}};
  spec.lease = Lease::kKillOnExit;
  auto sandbox = Sandbox::Create("python:3.11", spec,
                                 options()
                                     .set<DomainOption>("sandbox.example.com:8080")
                                     .set<ApiKeyOption>("secret")
                                     .set<HeadersOption>({{"X-Team", "ci"}})
                                     .set<RequestTimeoutOption>(absl::Seconds(7)));
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  EXPECT_EQ(sandbox->id(), "sb-1");

  absl::MutexLock lock(&daemon_.state().mu);
  const v1::CreateSandboxRequest& sent = daemon_.state().last_create;
  EXPECT_EQ(sent.image(), "python:3.11");
  EXPECT_THAT(sent.entrypoint(), ElementsAre("python3", "-m", "http.server"));
  EXPECT_EQ(sent.timeout().seconds(), 90);
  EXPECT_THAT(sent.resource_limits(), UnorderedElementsAre(Pair("cpu", "500m")));
  EXPECT_THAT(sent.env(), UnorderedElementsAre(Pair("MODE", "test")));
  EXPECT_THAT(sent.metadata(), UnorderedElementsAre(Pair("team", "ci")));
  EXPECT_EQ(sent.network_policy().default_action(), v1::NETWORK_ACTION_DENY);
  ASSERT_EQ(sent.network_policy().egress_size(), 1);
  EXPECT_EQ(sent.network_policy().egress(0).action(), v1::NETWORK_ACTION_ALLOW);
  EXPECT_TRUE(sent.credential_proxy());
  EXPECT_FALSE(sent.secure_access());
  ASSERT_EQ(sent.volumes_size(), 1);
  EXPECT_EQ(sent.volumes(0).host().path(), "/srv");
  EXPECT_TRUE(sent.volumes(0).read_only());
  EXPECT_EQ(sent.lease(), v1::LEASE_MODE_KILL_ON_EXIT);
  EXPECT_EQ(sent.lease_pid(), ::getpid());  // "this process", which osbd cannot see itself
  EXPECT_FALSE(sent.has_ready_timeout());
  EXPECT_EQ(sent.connection().domain(), "sandbox.example.com:8080");
  EXPECT_EQ(sent.connection().api_key(), "secret");
  EXPECT_THAT(sent.connection().headers(), UnorderedElementsAre(Pair("X-Team", "ci")));
  EXPECT_EQ(sent.connection().request_timeout().seconds(), 7);
}

TEST_F(SdkTest, AHealthCheckTravelsWithCreate) {
  SandboxSpec spec;
  spec.health_check = opensandbox::HealthCheck{.http_port = 8080,
                                               .http_path = "/healthz",
                                               .expected_status = {200, 204},
                                               .polling_interval = absl::Milliseconds(250),
                                               .initial_delay = absl::Seconds(1)};
  spec.ready_timeout = absl::Seconds(40);
  ASSERT_TRUE(Sandbox::Create("debian", spec, options()).ok());
  {
    absl::MutexLock lock(&daemon_.state().mu);
    const v1::HealthCheck& sent = daemon_.state().last_create.health_check();
    EXPECT_EQ(sent.http().port(), 8080u);
    EXPECT_EQ(sent.http().path(), "/healthz");
    EXPECT_THAT(sent.http().expected_status(), ElementsAre(200u, 204u));
    EXPECT_FALSE(sent.has_command());
    EXPECT_EQ(sent.polling_interval().nanos(), 250'000'000);
    EXPECT_EQ(sent.initial_delay().seconds(), 1);
    EXPECT_EQ(daemon_.state().last_create.ready_timeout().seconds(), 40);
  }

  spec.health_check = opensandbox::HealthCheck{.command = "test -f /ready",
                                               .command_timeout = absl::Seconds(2)};
  ASSERT_TRUE(Sandbox::Create("debian", spec, options()).ok());
  {
    absl::MutexLock lock(&daemon_.state().mu);
    const v1::HealthCheck& sent = daemon_.state().last_create.health_check();
    EXPECT_EQ(sent.command().command(), "test -f /ready");
    EXPECT_EQ(sent.command().timeout().seconds(), 2);
    EXPECT_FALSE(sent.has_http());
    EXPECT_FALSE(sent.has_polling_interval());
  }

  spec.health_check = opensandbox::HealthCheck{.tcp_port = 5432};
  ASSERT_TRUE(Sandbox::Create("debian", spec, options()).ok());
  {
    absl::MutexLock lock(&daemon_.state().mu);
    const v1::HealthCheck& sent = daemon_.state().last_create.health_check();
    EXPECT_EQ(sent.tcp().port(), 5432u);
    EXPECT_FALSE(sent.has_http());
    EXPECT_FALSE(sent.has_command());
  }

  // Two probes at once, or a port out of range, are refused before osbd hears of it.
  for (auto both : std::vector<opensandbox::HealthCheck>{
           {.command = "true", .http_port = 80},
           {.command = "true", .tcp_port = 80},
           {.http_port = 80, .tcp_port = 81},
           {.tcp_port = 65536},
           {.tcp_port = -1},
       }) {
    spec.health_check = both;
    EXPECT_EQ(Sandbox::Create("debian", spec, options()).status().code(),
              absl::StatusCode::kInvalidArgument)
        << both.command << " " << both.http_port << " " << both.tcp_port;
  }
  // So are the parts of an HTTP probe without a port, and values osbd would refuse.
  std::vector<opensandbox::HealthCheck> refused = {
      {.http_port = 70000},
      {.expected_status = {200}},
      {.http_path = "/ready"},
      {.http_port = 80, .expected_status = {-1}},
      {.command = "true", .command_timeout = absl::ZeroDuration()},
      {.polling_interval = absl::ZeroDuration()},
      {.initial_delay = absl::Seconds(-1)},
  };
  for (const auto& check : refused) {
    spec.health_check = check;
    EXPECT_EQ(Sandbox::Create("debian", spec, options()).status().code(),
              absl::StatusCode::kInvalidArgument)
        << check.http_port << " " << check.http_path;
  }
}

TEST_F(SdkTest, TheConnectionComesFromTheEnvironmentWhenNoOptionSaysOtherwise) {
  ::setenv("OPEN_SANDBOX_DOMAIN", "env.example.com", 1);
  ::setenv("OPEN_SANDBOX_API_KEY", "env-key", 1);
  auto from_env = Sandbox::Connect("sb-1", options());
  auto overridden = Sandbox::Connect("sb-1", options().set<DomainOption>(""));
  ::unsetenv("OPEN_SANDBOX_DOMAIN");
  ::unsetenv("OPEN_SANDBOX_API_KEY");
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  ASSERT_TRUE(overridden.ok()) << overridden.status();

  absl::MutexLock lock(&daemon_.state().mu);
  // The second call's option (empty: osbd's default) beat the environment; its key did not.
  EXPECT_EQ(daemon_.state().last_get.connection().domain(), "");
  EXPECT_EQ(daemon_.state().last_get.connection().api_key(), "env-key");
}

TEST_F(SdkTest, TheSocketComesFromOsbdSocket) {
  ::setenv("OSBD_SOCKET", daemon_.socket_path().c_str(), 1);
  auto sandbox = Sandbox::Connect("sb-1");
  ::unsetenv("OSBD_SOCKET");
  EXPECT_TRUE(sandbox.ok()) << sandbox.status();
}

TEST_F(SdkTest, NoDaemonIsUnavailableWithAHint) {
  auto sandbox =
      Sandbox::Connect("sb-1", Options{}.set<SocketPathOption>("/nonexistent/osbd.sock"));
  ASSERT_EQ(sandbox.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(sandbox.status().message()),
              ::testing::HasSubstr("no osbd answers on /nonexistent/osbd.sock"));
  EXPECT_THAT(std::string(sandbox.status().message()), ::testing::HasSubstr("OSBD_BINARY"));
}

TEST_F(SdkTest, AVolumeWithTwoBackendsIsRefusedBeforeAnythingIsSent) {
  SandboxSpec spec;
  spec.volumes = {{.name = "v", .mount_path = "/v", .host_path = "/srv", .claim_name = "c"}};
  auto sandbox = Sandbox::Create("debian", spec, options());
  EXPECT_EQ(sandbox.status().code(), absl::StatusCode::kInvalidArgument);
  absl::MutexLock lock(&daemon_.state().mu);
  EXPECT_EQ(daemon_.state().last_create.image(), "");
}

TEST_F(SdkTest, ErrorsCarryTheUpstreamCodeRequestIdAndRetryDelay) {
  google::rpc::ErrorInfo info;
  info.set_reason("DOCKER::SANDBOX_NOT_FOUND");
  info.set_domain("opensandbox.io");
  (*info.mutable_metadata())["request_id"] = "req-42";
  (*info.mutable_metadata())["http_status"] = "404";
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(3);
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::NOT_FOUND);
  details.add_details()->PackFrom(info);
  details.add_details()->PackFrom(retry);
  {
    absl::MutexLock lock(&daemon_.state().mu);
    daemon_.state().error = grpc::Status(grpc::StatusCode::NOT_FOUND, "no sandbox sb-9",
                                         details.SerializeAsString());
  }
  auto info_or = SandboxManager(options()).Get("sb-9");
  ASSERT_EQ(info_or.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(info_or.status().message(), "no sandbox sb-9");
  ErrorDetails got = GetErrorDetails(info_or.status());
  EXPECT_EQ(got.code, "DOCKER::SANDBOX_NOT_FOUND");
  EXPECT_EQ(got.request_id, "req-42");
  EXPECT_EQ(got.http_status, 404);
  EXPECT_EQ(got.retry_after, absl::Seconds(3));
  EXPECT_FALSE(IsReadyTimeout(info_or.status()));
}

TEST_F(SdkTest, AReadyTimeoutIsRecognised) {
  FailCallsWith(grpc::StatusCode::DEADLINE_EXCEEDED, "not ready", "OSBD::READY_TIMEOUT");
  auto sandbox = Sandbox::Create("debian", {}, options());
  EXPECT_TRUE(IsReadyTimeout(sandbox.status())) << sandbox.status();
  EXPECT_EQ(GetErrorDetails(absl::OkStatus()).code, "");
}

TEST_F(SdkTest, AnUnhealthySandboxIsRecognised) {
  FailCallsWith(grpc::StatusCode::FAILED_PRECONDITION, "sandbox sb-1 is Failed",
                "OSBD::SANDBOX_UNHEALTHY");
  auto sandbox = Sandbox::Create("debian", {}, options());
  EXPECT_TRUE(IsUnhealthy(sandbox.status())) << sandbox.status();
  EXPECT_FALSE(IsReadyTimeout(sandbox.status()));
  EXPECT_FALSE(IsUnhealthy(absl::FailedPreconditionError("sandbox sb-1 is Paused")));
}

TEST_F(SdkTest, RunCallsTheHandlersInOrderAndSumsUpTheExecution) {
  {
    absl::MutexLock lock(&daemon_.state().mu);
    auto failed = Event(4);
    failed.mutable_failed()->set_name("CommandExecError");
    failed.mutable_failed()->set_value("3");
    failed.mutable_failed()->set_exit_code(3);
    daemon_.state().events = {Started(1, "cmd-1"), Line(2, "out", false), Line(3, "err", true),
                              failed};
  }
  Sandbox sandbox = Connected();
  sandbox.commands().SetEnv({{"A", "default"}, {"B", "default"}});
  sandbox.commands().SetCwd("/work");
  std::vector<std::string> seen;
  ExecutionHandlers handlers;
  handlers.on_init = [&](const std::string& id) { seen.push_back("init " + id); };
  handlers.on_stdout = [&](const OutputMessage& m) { seen.push_back("stdout " + m.text); };
  handlers.on_stderr = [&](const OutputMessage& m) { seen.push_back("stderr " + m.text); };
  handlers.on_error = [&](const ExecutionError& e) { seen.push_back("error " + e.value); };
  handlers.on_complete = [&](const ExecutionComplete&) { seen.push_back("complete"); };
  auto execution = sandbox.commands().Run("make", {.envs = {{"B", "mine"}}}, handlers);
  ASSERT_TRUE(execution.ok()) << execution.status();

  EXPECT_THAT(seen, ElementsAre("init cmd-1", "stdout out", "stderr err", "error 3"));
  EXPECT_EQ(execution->id, "cmd-1");
  EXPECT_EQ(execution->exit_code, 3);
  ASSERT_TRUE(execution->error.has_value());
  EXPECT_EQ(execution->error->name, "CommandExecError");
  ASSERT_EQ(execution->logs.stdout_lines.size(), 1u);
  EXPECT_EQ(execution->logs.stdout_lines[0].timestamp, absl::FromUnixSeconds(1700000000));
  ASSERT_EQ(execution->logs.stderr_lines.size(), 1u);
  EXPECT_TRUE(execution->logs.stderr_lines[0].is_error);
  EXPECT_EQ(execution->last_seq, 4u);

  absl::MutexLock lock(&daemon_.state().mu);
  const auto& sent = daemon_.state().last_run;
  EXPECT_EQ(sent.sandbox_id(), "sb-1");
  EXPECT_EQ(sent.cwd(), "/work");
  EXPECT_THAT(sent.envs(), UnorderedElementsAre(Pair("A", "default"), Pair("B", "mine")));
}

TEST_F(SdkTest, AStreamThatEndsWithoutATerminalEventIsNeverASuccess) {
  {
    absl::MutexLock lock(&daemon_.state().mu);
    auto broken = Event(3);
    broken.mutable_broken()->set_command_id("cmd-7");
    broken.mutable_broken()->set_reason("connection reset by peer");
    daemon_.state().events = {Started(1, "cmd-7"), Line(2, "partial", false), broken};
  }
  Sandbox sandbox = Connected();
  auto execution = sandbox.commands().Run("long job");
  ASSERT_EQ(execution.status().code(), absl::StatusCode::kUnavailable) << execution.status();
  EXPECT_THAT(std::string(execution.status().message()), ::testing::HasSubstr("cmd-7"));
  EXPECT_THAT(std::string(execution.status().message()),
              ::testing::HasSubstr("connection reset by peer"));
}

TEST_F(SdkTest, ReadFileJoinsTheChunks) {
  std::string content;
  for (int i = 0; i < 5000; ++i) content += static_cast<char>('a' + i % 26);
  {
    absl::MutexLock lock(&daemon_.state().mu);
    daemon_.state().file = content;
  }
  Sandbox sandbox = Connected();
  auto read = sandbox.files().ReadFile("/f");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, content);
}

TEST_F(SdkTest, WriteFileFromStreamsInChunksWithTheHeaderFirst) {
  const std::string content(1 << 20, 'x');  // four chunks
  std::istringstream in(content);
  Sandbox sandbox = Connected();
  auto written = sandbox.files().WriteFileFrom("/data/big", in, {.mode = 0640, .owner = "nobody"});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, static_cast<std::int64_t>(content.size()));
  absl::MutexLock lock(&daemon_.state().mu);
  EXPECT_EQ(daemon_.state().file, content);
  EXPECT_EQ(daemon_.state().write_messages, 5);
  EXPECT_EQ(daemon_.state().last_write_header.path(), "/data/big");
  EXPECT_EQ(daemon_.state().last_write_header.mode(), 0640u);
  EXPECT_EQ(daemon_.state().last_write_header.owner(), "nobody");
}

TEST_F(SdkTest, AnUnreadableInputAbandonsTheWrite) {
  {
    absl::MutexLock lock(&daemon_.state().mu);
    daemon_.state().file = "old";
  }
  std::istringstream in("new contents");
  in.setstate(std::ios::badbit);
  Sandbox sandbox = Connected();
  auto written = sandbox.files().WriteFileFrom("/f", in);
  EXPECT_EQ(written.status().code(), absl::StatusCode::kDataLoss) << written.status();
  absl::MutexLock lock(&daemon_.state().mu);
  EXPECT_EQ(daemon_.state().file, "old");
}

TEST_F(SdkTest, ManagerListAndRenewSendWhatTheyAreGiven) {
  SandboxManager manager(options());
  auto page = manager.List({.states = {"Running", "Paused"}, .metadata = {{"team", "ci"}},
                            .page = 2, .page_size = 50});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->sandboxes.size(), 1u);
  EXPECT_EQ(page->sandboxes[0].id, "sb-1");
  EXPECT_EQ(page->sandboxes[0].status.state, "Running");
  auto expiry = manager.Renew("sb-1", absl::Minutes(5));
  ASSERT_TRUE(expiry.ok()) << expiry.status();
  EXPECT_EQ(*expiry, absl::FromUnixSeconds(2000000000));

  absl::MutexLock lock(&daemon_.state().mu);
  EXPECT_THAT(daemon_.state().last_list.states(), ElementsAre("Running", "Paused"));
  EXPECT_THAT(daemon_.state().last_list.metadata(), UnorderedElementsAre(Pair("team", "ci")));
  EXPECT_EQ(daemon_.state().last_list.page(), 2);
  EXPECT_EQ(daemon_.state().last_list.page_size(), 50);
  EXPECT_EQ(daemon_.state().last_renew.timeout().seconds(), 300);
}

TEST_F(SdkTest, ABatchInOneSandboxTargetsItAloneSoCellsMayNameAContext) {
  {
    absl::MutexLock lock(&daemon_.state().mu);
    v1::BatchJobResult cell;
    cell.set_job_id("cell");
    cell.set_sandbox_id("sb-1");
    cell.set_success(true);
    cell.set_result_text("42");
    cell.mutable_duration()->set_seconds(2);
    v1::BatchJobResult whoami;
    whoami.set_job_id("whoami");
    whoami.set_exit_code(3);
    whoami.set_stdout("65534\n");
    whoami.set_stderr_truncated(true);
    whoami.set_error("CommandExecError: 3");
    daemon_.state().batch_results = {cell, whoami};
  }
  BatchRunner batches(options());
  auto results = batches.Run(
      {.sandbox_ids = {"sb-1"}},
      {{.id = "cell", .code = "x", .code_context_id = "ctx-1"},
       {.id = "whoami", .command = "id -u", .uid = 65534, .gid = 65533,
        .timeout = absl::Seconds(9)}},
      {.max_parallel = 2, .stop_on_failure = true});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].success);
  EXPECT_EQ((*results)[0].result_text, "42");
  EXPECT_EQ((*results)[0].duration, absl::Seconds(2));
  EXPECT_FALSE((*results)[0].exit_code.has_value());
  EXPECT_FALSE((*results)[1].success);
  EXPECT_EQ((*results)[1].exit_code, 3);
  EXPECT_EQ((*results)[1].stdout_data, "65534\n");
  EXPECT_TRUE((*results)[1].stderr_truncated);
  EXPECT_EQ((*results)[1].error, "CommandExecError: 3");

  absl::MutexLock lock(&daemon_.state().mu);
  const v1::RunBatchRequest& sent = daemon_.state().last_batch;
  ASSERT_EQ(sent.target().kind_case(), v1::BatchTarget::kSandboxId);
  EXPECT_EQ(sent.target().sandbox_id(), "sb-1");
  ASSERT_EQ(sent.jobs_size(), 2);
  EXPECT_EQ(sent.jobs(0).code().context_id(), "ctx-1");
  EXPECT_EQ(sent.jobs(0).code().code(), "x");
  const v1::BatchCommand& command = sent.jobs(1).command();
  EXPECT_EQ(command.command(), "id -u");
  ASSERT_TRUE(command.has_uid());
  EXPECT_EQ(command.uid(), 65534);
  ASSERT_TRUE(command.has_gid());
  EXPECT_EQ(command.gid(), 65533);
  EXPECT_EQ(sent.jobs(1).timeout().seconds(), 9);
  EXPECT_EQ(sent.max_parallel(), 2u);
  EXPECT_TRUE(sent.stop_on_failure());
}

TEST_F(SdkTest, ABatchOverSeveralSandboxesNamesThemAllAndSendsNoIdsItWasNotGiven) {
  BatchRunner batches(options());
  ASSERT_TRUE(batches.Run({.sandbox_ids = {"sb-1", "sb-2"}, .each = true},
                          {{.command = "true"}}).ok());
  absl::MutexLock lock(&daemon_.state().mu);
  const v1::RunBatchRequest& sent = daemon_.state().last_batch;
  ASSERT_EQ(sent.target().kind_case(), v1::BatchTarget::kSandboxes);
  EXPECT_THAT(sent.target().sandboxes().sandbox_ids(), ElementsAre("sb-1", "sb-2"));
  EXPECT_EQ(sent.target().sandboxes().distribution(), v1::BATCH_DISTRIBUTION_EACH);
  EXPECT_FALSE(sent.jobs(0).command().has_uid()) << "unset is execd's user, not root";
  EXPECT_FALSE(sent.jobs(0).command().has_gid());
}

TEST_F(SdkTest, ACellAskedToRunAsAnotherUserIsRefusedBeforeAnythingIsSent) {
  BatchRunner batches(options());
  auto refused = batches.Run({.sandbox_ids = {"sb-1"}},
                             {{.command = "true"}, {.uid = 1000, .code = "import os"}});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("jobs[1]"));
  absl::MutexLock lock(&daemon_.state().mu);
  EXPECT_EQ(daemon_.state().batches, 0);
}

TEST_F(SdkTest, AClosedHandleRefusesCalls) {
  Sandbox sandbox = Connected();
  sandbox.Close();
  EXPECT_EQ(sandbox.GetInfo().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sandbox.commands().Run("true").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sandbox.files().ReadFile("/f").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SdkTest, AsyncCallsOutliveTheHandleTheyWereMadeFrom) {
  {
    absl::MutexLock lock(&daemon_.state().mu);
    auto completed = Event(2);
    completed.mutable_completed();
    daemon_.state().events = {Started(1, "cmd-9"), completed};
  }
  std::future<absl::StatusOr<Execution>> running;
  {
    Sandbox sandbox = Connected();
    sandbox.commands().SetCwd("/from/defaults");
    running = sandbox.commands().RunAsync("true");
  }  // the handle is gone; the call goes on with its own copy
  auto execution = running.get();
  ASSERT_TRUE(execution.ok()) << execution.status();
  EXPECT_EQ(execution->id, "cmd-9");
  EXPECT_EQ(execution->exit_code, 0);
  absl::MutexLock lock(&daemon_.state().mu);
  EXPECT_EQ(daemon_.state().last_run.cwd(), "/from/defaults");
}

TEST_F(SdkTest, AsyncCreateReportsFailuresThroughItsFuture) {
  auto sandbox =
      Sandbox::CreateAsync("debian", {}, Options{}.set<SocketPathOption>("/nonexistent/osbd.sock"))
          .get();
  EXPECT_EQ(sandbox.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SdkTest, OptionsKeepTheLastValueOfEachType) {
  Options options;
  EXPECT_FALSE(options.has<DomainOption>());
  EXPECT_EQ(options.get<DomainOption>(), "");
  EXPECT_EQ(options.get_or<CallTimeoutOption>(absl::Seconds(1)), absl::Seconds(1));
  options.set<DomainOption>("a").set<DomainOption>("b").set<UseServerProxyOption>(true);
  EXPECT_EQ(options.get<DomainOption>(), "b");
  EXPECT_TRUE(options.get<UseServerProxyOption>());
}

}  // namespace
}  // namespace opensandbox
