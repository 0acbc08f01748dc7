// osbd against an upstream that misbehaves: osb-runtime behind a FaultProxy, osbd pointed at the
// proxy, so lifecycle and execd traffic both cross it. Rate limits with Retry-After, a command
// stream cut mid-way, the upstream going away and coming back, a slow upstream against a
// deadline, and pooled keep-alive connections the server closed (idempotent requests go out
// again on a fresh connection; a create or a command, which the server may have acted on, never
// does), each as a client of osbd sees them.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "nlohmann/json.hpp"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/files.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "tests/integration/fault_proxy.h"
#include "tests/integration/harness.h"
#include "tests/integration/osbd_process.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

constexpr char kRateLimited[] = R"({"code":"RATE_LIMITED","message":"slow down"})";

// Everything one Run call produced.
struct RunResult {
  std::vector<v1::CommandEvent> events;
  grpc::Status status;

  int Count(v1::CommandEvent::KindCase kind) const {
    int n = 0;
    for (const auto& e : events) n += e.kind_case() == kind ? 1 : 0;
    return n;
  }
};

class OsbdFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = RuntimeProcess::Start();
    ASSERT_NE(runtime_, nullptr);
    proxy_ = FaultProxy::Start(runtime_->address());
    ASSERT_NE(proxy_, nullptr);
    osbd_ = OsbdProcess::Start(proxy_->address(), runtime_->api_key());
    ASSERT_NE(osbd_, nullptr);
    sandboxes_ = v1::Sandboxes::NewStub(osbd_->channel());
    commands_ = v1::Commands::NewStub(osbd_->channel());
  }

  grpc::Status Create(v1::Sandbox* sandbox) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSandboxRequest request;
    request.set_image("host");
    return sandboxes_->Create(&ctx, request, sandbox);
  }

  // A running sandbox, made through osbd (and so through the proxy); "" with a test failure.
  std::string NewSandbox() {
    v1::Sandbox sandbox;
    grpc::Status status = Create(&sandbox);
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    return sandbox.id();
  }

  // A MakeDirectories whose execd request the proxy holds for 3 s, ended early by the client:
  // by a 500 ms deadline, or cancelled once the request waits in the proxy. Then, once the hold
  // is over: whether the request went on to execd, and whether the directory was made.
  enum class Ending { kDeadline, kCancel };
  struct Abandoned {
    grpc::Status status;
    bool forwarded = true;
    bool made = true;
  };
  Abandoned AbandonHeldMakeDirectories(Ending ending) {
    Abandoned out;
    const std::string id = NewSandbox();
    if (id.empty()) return out;
    auto files = v1::Files::NewStub(osbd_->channel());
    const FaultProxy::Match mkdir{"POST", "/sandboxes/" + id + "/proxy/44772/directories"};
    const int forwarded = proxy_->RequestsForwarded(mkdir);
    const int seen = proxy_->RequestsSeen(mkdir);
    proxy_->DelayRequests(mkdir, absl::Seconds(3));
    v1::MakeDirectoriesRequest request;
    request.set_sandbox_id(id);
    request.add_directories()->set_path("/tmp/made-late");
    const absl::Time start = absl::Now();
    grpc::ClientContext ctx;
    SetDeadline(ctx, ending == Ending::kDeadline ? absl::Milliseconds(500) : absl::Seconds(30));
    std::thread call([&] {
      v1::MakeDirectoriesResponse made;
      out.status = files->MakeDirectories(&ctx, request, &made);
    });
    if (ending == Ending::kCancel) {
      while (proxy_->RequestsSeen(mkdir) == seen && absl::Now() - start < absl::Seconds(2)) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      EXPECT_EQ(proxy_->RequestsSeen(mkdir), seen + 1) << "the request never reached the proxy";
      ctx.TryCancel();
    }
    call.join();
    absl::SleepFor(absl::Seconds(3) + absl::Milliseconds(500) - (absl::Now() - start));
    out.forwarded = proxy_->RequestsForwarded(mkdir) != forwarded;
    proxy_->ClearFaults();
    grpc::ClientContext info_ctx;
    SetDeadline(info_ctx);
    v1::GetFileInfoRequest info_request;
    info_request.set_sandbox_id(id);
    info_request.add_paths("/tmp/made-late");
    v1::GetFileInfoResponse info;
    const grpc::Status found = files->GetInfo(&info_ctx, info_request, &info);
    EXPECT_TRUE(found.ok() || found.error_code() == grpc::StatusCode::NOT_FOUND)
        << found.error_message();
    out.made = found.ok();
    return out;
  }

  grpc::Status Get(const std::string& id, absl::Duration deadline = absl::Seconds(60)) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, deadline);
    v1::GetSandboxRequest request;
    request.set_sandbox_id(id);
    v1::Sandbox sandbox;
    return sandboxes_->Get(&ctx, request, &sandbox);
  }

  std::unique_ptr<grpc::ClientReader<v1::CommandEvent>> StartRun(grpc::ClientContext& ctx,
                                                                 const std::string& id,
                                                                 const std::string& command) {
    SetDeadline(ctx);
    v1::RunCommandRequest request;
    request.set_sandbox_id(id);
    request.set_command(command);
    return commands_->Run(&ctx, request);
  }

  // Reads the rest of a run into `result`.
  static void Drain(grpc::ClientReader<v1::CommandEvent>& reader, RunResult& result) {
    v1::CommandEvent event;
    while (reader.Read(&event)) result.events.push_back(event);
    result.status = reader.Finish();
  }

  RunResult Run(const std::string& id, const std::string& command) {
    grpc::ClientContext ctx;
    RunResult result;
    Drain(*StartRun(ctx, id, command), result);
    return result;
  }

  grpc::Status GetStatus(const std::string& id, const std::string& command_id,
                         v1::CommandStatus* status) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetCommandStatusRequest request;
    request.set_sandbox_id(id);
    request.set_command_id(command_id);
    return commands_->GetStatus(&ctx, request, status);
  }

  // The command's status once it has finished (polled through osbd for up to 20 s).
  v1::CommandStatus FinalStatus(const std::string& id, const std::string& command_id) {
    v1::CommandStatus status;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      status.Clear();
      grpc::Status answer = GetStatus(id, command_id, &status);
      EXPECT_TRUE(answer.ok()) << answer.error_code() << ": " << answer.error_message();
      if (!answer.ok() || !status.running()) return status;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "command " << command_id << " still runs";
    return status;
  }

  // A command's status as execd tells it, asked of osb-runtime directly (not through osbd or the
  // proxy): {"running", "exit_code", ...}, or null with a test failure.
  nlohmann::json StatusFromExecd(const std::string& id, const std::string& command_id) {
    auto agent = ResolveAgent(*runtime_->Client(), id);
    if (!agent.has_value()) return nullptr;
    AgentClient client(*agent);
    auto answer = client.Get("/command/status/" + command_id);
    EXPECT_TRUE(answer && answer->status == 200) << (answer ? answer->body : "no answer");
    if (!answer || answer->status != 200) return nullptr;
    return ParseJson(answer->body);
  }

  // Expects the status osbd reports once the command has finished to be execd's own.
  void ExpectFinalStatusIsExecds(const std::string& id, const std::string& command_id) {
    v1::CommandStatus from_osbd = FinalStatus(id, command_id);
    nlohmann::json from_execd = StatusFromExecd(id, command_id);
    ASSERT_TRUE(from_execd.is_object());
    EXPECT_FALSE(from_osbd.running());
    EXPECT_FALSE(from_execd.value("running", true));
    ASSERT_TRUE(from_osbd.has_exit_code()) << from_osbd.DebugString();
    EXPECT_EQ(from_osbd.exit_code(), from_execd.value("exit_code", -1000)) << from_execd.dump();
    EXPECT_NE(from_osbd.exit_code(), 0) << "it did not run to a normal end";
  }

  // How many sandboxes osb-runtime holds, asked directly (not through the proxy).
  int RuntimeSandboxes() {
    auto list = runtime_->Client()->Get("/v1/sandboxes?pageSize=200");
    EXPECT_TRUE(list && list->status == 200);
    if (!list || list->status != 200) return -1;
    return static_cast<int>(nlohmann::json::parse(list->body)["items"].size());
  }

  // Declared in this order so that osbd goes first, then the proxy, then the runtime, which
  // kills every sandbox.
  std::unique_ptr<RuntimeProcess> runtime_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<OsbdProcess> osbd_;
  std::unique_ptr<v1::Sandboxes::Stub> sandboxes_;
  std::unique_ptr<v1::Commands::Stub> commands_;
};

// A command that prints for about two seconds and exits 3.
constexpr char kSlowCommand[] =
    "echo first; for i in $(seq 1 20); do echo line$i; sleep 0.1; done; exit 3";

TEST_F(OsbdFaultTest, RateLimitedGetIsRetriedAfterItsRetryAfter) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  const FaultProxy::Match get{"GET", "/v1/sandboxes/" + id};
  const int seen = proxy_->RequestsSeen(get), forwarded = proxy_->RequestsForwarded(get);
  proxy_->AnswerNext(get, 1, 429, {{"Retry-After", "1"}}, kRateLimited);

  const absl::Time start = absl::Now();
  grpc::Status status = Get(id);
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_GE(took, absl::Seconds(1)) << "Retry-After: 1 was not waited for";
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_EQ(proxy_->RequestsSeen(get), seen + 2);
  EXPECT_EQ(proxy_->RequestsForwarded(get), forwarded + 1);

  // Four attempts in all, then the last answer is the caller's.
  proxy_->AnswerNext(get, 4, 503, {{"Retry-After", "0"}}, kRateLimited);
  status = Get(id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(proxy_->RequestsSeen(get), seen + 6);
  EXPECT_EQ(proxy_->RequestsForwarded(get), forwarded + 1);
}

TEST_F(OsbdFaultTest, RateLimitedCreateIsSentOnceAndFailsWithRetryInfo) {
  const int before = RuntimeSandboxes();
  const FaultProxy::Match create{"POST", "/v1/sandboxes"};
  proxy_->AnswerNext(create, 1, 429, {{"Retry-After", "1"}}, kRateLimited);

  v1::Sandbox sandbox;
  grpc::Status status = Create(&sandbox);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(proxy_->RequestsSeen(create), 1) << "a create is not idempotent: never sent again";
  EXPECT_EQ(RuntimeSandboxes(), before);

  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details())) << "no google.rpc.Status";
  google::rpc::ErrorInfo info;
  google::rpc::RetryInfo retry;
  bool has_info = false, has_retry = false;
  for (const auto& detail : details.details()) {
    has_info = has_info || detail.UnpackTo(&info);
    has_retry = has_retry || detail.UnpackTo(&retry);
  }
  ASSERT_TRUE(has_info);
  EXPECT_EQ(info.reason(), "RATE_LIMITED");
  EXPECT_EQ(info.metadata().at("http_status"), "429");
  ASSERT_TRUE(has_retry) << "the server's Retry-After reaches the client as RetryInfo";
  EXPECT_EQ(retry.retry_delay().seconds(), 1);

  // Nothing lingers: the next create goes through.
  EXPECT_FALSE(NewSandbox().empty());
}

TEST_F(OsbdFaultTest, CommandStreamCutMidwayEndsBrokenAndTheRealStatusFollows) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  // Enough for the init event and a line or two, not for the run.
  proxy_->CutNextResponse({"POST", "/sandboxes/" + id + "/proxy/44772/command"}, 300);

  RunResult run = Run(id, kSlowCommand);
  ASSERT_FALSE(run.events.empty()) << run.status.error_message();
  ASSERT_TRUE(run.events.front().has_started());
  const std::string command_id = run.events.front().started().command_id();
  EXPECT_EQ(run.Count(v1::CommandEvent::kCompleted), 0) << "never a completion osbd did not see";
  EXPECT_EQ(run.Count(v1::CommandEvent::kFailed), 0);
  ASSERT_TRUE(run.events.back().has_broken());
  const v1::StreamBroken& broken = run.events.back().broken();
  EXPECT_EQ(broken.command_id(), command_id);
  ASSERT_TRUE(broken.has_status()) << "execd was reachable: osbd asked it";
  EXPECT_EQ(broken.status().command_id(), command_id);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(run.status.error_message(), command_id))
      << run.status.error_message();
  // What did arrive is the command's own output, in order.
  std::vector<std::string> lines;
  for (const auto& e : run.events) {
    if (e.has_stdout()) lines.push_back(e.stdout().data());
  }
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(lines[i], "line" + std::to_string(i));

  // osb-runtime's agent, as execd does, ends a foreground command whose stream is gone; osbd
  // reports that end as execd does, not a completion.
  ExpectFinalStatusIsExecds(id, command_id);
}

TEST_F(OsbdFaultTest, UpstreamDownFailsFastAndBackServesWithinASecond) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());

  // A run in progress when the upstream goes away.
  grpc::ClientContext run_ctx;
  auto reader = StartRun(run_ctx, id, kSlowCommand);
  RunResult run;
  v1::CommandEvent event;
  while (run.Count(v1::CommandEvent::kStdout) == 0 && reader->Read(&event)) {
    run.events.push_back(event);
  }
  ASSERT_EQ(run.Count(v1::CommandEvent::kStdout), 1);
  ASSERT_TRUE(run.events.front().has_started());
  const std::string command_id = run.events.front().started().command_id();

  proxy_->GoDown();
  absl::Time start = absl::Now();
  Drain(*reader, run);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(run.Count(v1::CommandEvent::kCompleted) + run.Count(v1::CommandEvent::kFailed), 0);
  ASSERT_TRUE(run.events.back().has_broken());
  EXPECT_EQ(run.events.back().broken().command_id(), command_id);
  EXPECT_FALSE(run.events.back().broken().has_status()) << "execd was out of reach too";
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(run.status.error_message(), command_id));

  // While it is away, calls fail promptly rather than hang.
  start = absl::Now();
  grpc::Status status = Get(id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  RunResult refused = Run(id, "echo never");
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(refused.Count(v1::CommandEvent::kStarted), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  ASSERT_TRUE(proxy_->ComeBack());
  start = absl::Now();
  status = Get(id);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  RunResult again = Run(id, "echo back");
  EXPECT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.Count(v1::CommandEvent::kCompleted), 1);
  // What became of the command the outage cut off, osbd now tells as execd does.
  ExpectFinalStatusIsExecds(id, command_id);
}

TEST_F(OsbdFaultTest, SlowUpstreamMeetsTheDeadlineAndOsbdKeepsServing) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  const FaultProxy::Match get{"GET", "/v1/sandboxes/" + id};
  const int forwarded = proxy_->RequestsForwarded(get);
  proxy_->DelayRequests(get, absl::Seconds(3));

  absl::Time start = absl::Now();
  grpc::Status status = Get(id, absl::Milliseconds(500));
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_GE(took, absl::Milliseconds(450));
  EXPECT_LT(took, absl::Seconds(2)) << "the deadline, not the upstream, ended the call";

  // The held request does not hold up others.
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(2));
    v1::ListSandboxesRequest request;
    v1::ListSandboxesResponse list;
    status = sandboxes_->List(&ctx, request, &list);
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_EQ(list.sandboxes_size(), 1);
  }
  EXPECT_EQ(proxy_->RequestsForwarded(get), forwarded) << "the slow request was still held";

  // The call's deadline was the upstream request's too: osbd left it at the deadline, so the
  // proxy, holding it for 3 s, never forwards it.
  absl::SleepFor(absl::Seconds(3) + absl::Milliseconds(500) - (absl::Now() - start));
  EXPECT_EQ(proxy_->RequestsForwarded(get), forwarded)
      << "osbd kept its upstream request open past the call's deadline";

  proxy_->ClearFaults();
  start = absl::Now();
  status = Get(id);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

// The same for a Files call, which goes to execd through the runtime's proxy.
TEST_F(OsbdFaultTest, AFilesCallsDeadlineIsItsExecdRequestsToo) {
  Abandoned r = AbandonHeldMakeDirectories(Ending::kDeadline);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << r.status.error_message();
  EXPECT_FALSE(r.forwarded) << "osbd kept its execd request open past the call's deadline";
  EXPECT_FALSE(r.made) << "the abandoned request reached execd, which made the directory";
}

// A unary call the client cancels takes its upstream request with it: the held request is
// abandoned before the proxy forwards it, so execd never acts on it.
TEST_F(OsbdFaultTest, ACancelledCallAbortsItsUpstreamRequest) {
  Abandoned r = AbandonHeldMakeDirectories(Ending::kCancel);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::CANCELLED) << r.status.error_message();
  EXPECT_FALSE(r.forwarded) << "osbd kept the cancelled call's execd request open";
  EXPECT_FALSE(r.made) << "the abandoned request reached execd, which made the directory";
}

TEST_F(OsbdFaultTest, IdleConnectionsTheServerClosedAreReplacedUnnoticed) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  const int before = RuntimeSandboxes();
  ASSERT_TRUE(proxy_->WaitUntilIdle(absl::Seconds(5)));
  ASSERT_GE(proxy_->CloseIdleConnections(), 1);
  const int connections = proxy_->ConnectionsAccepted();

  const FaultProxy::Match get{"GET", "/v1/sandboxes/" + id};
  const int seen = proxy_->RequestsSeen(get);
  grpc::Status status = Get(id);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(proxy_->RequestsSeen(get), seen + 1);
  EXPECT_GT(proxy_->ConnectionsAccepted(), connections) << "a fresh connection";

  // Nothing was sent on a closed connection, so a create goes out once, on a fresh one.
  ASSERT_TRUE(proxy_->WaitUntilIdle(absl::Seconds(5)));
  ASSERT_GE(proxy_->CloseIdleConnections(), 1);
  const FaultProxy::Match create{"POST", "/v1/sandboxes"};
  const int creates = proxy_->RequestsSeen(create);
  EXPECT_FALSE(NewSandbox().empty());
  EXPECT_EQ(proxy_->RequestsSeen(create), creates + 1);
  EXPECT_EQ(RuntimeSandboxes(), before + 1);
}

TEST_F(OsbdFaultTest, AGetOnAStaleConnectionIsRetriedOnAFreshOne) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(proxy_->WaitUntilIdle(absl::Seconds(5)));
  ASSERT_GE(proxy_->StaleIdleConnections(false), 1);
  const int connections = proxy_->ConnectionsAccepted();

  const FaultProxy::Match get{"GET", "/v1/sandboxes/" + id};
  const int seen = proxy_->RequestsSeen(get), forwarded = proxy_->RequestsForwarded(get);
  grpc::Status status = Get(id);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  // Once for each stale connection it met (osbd may have pooled more than one), then on a fresh
  // one.
  EXPECT_GE(proxy_->RequestsSeen(get), seen + 2) << "sent on a stale connection, then again";
  EXPECT_EQ(proxy_->RequestsForwarded(get), forwarded + 1);
  EXPECT_GT(proxy_->ConnectionsAccepted(), connections);
}

TEST_F(OsbdFaultTest, APostTheServerMayHaveActedOnIsNotSentAgain) {
  ASSERT_FALSE(NewSandbox().empty());
  const int before = RuntimeSandboxes();
  // The create reaches the server, which makes the sandbox; the connection then closes with no
  // answer, as when a keep-alive close crosses the request. osbd cannot know what happened.
  ASSERT_TRUE(proxy_->WaitUntilIdle(absl::Seconds(5)));
  ASSERT_GE(proxy_->StaleIdleConnections(true), 1);
  const FaultProxy::Match create{"POST", "/v1/sandboxes"};
  const int creates = proxy_->RequestsSeen(create);

  v1::Sandbox sandbox;
  grpc::Status status = Create(&sandbox);
  EXPECT_EQ(proxy_->RequestsSeen(create), creates + 1) << "a create is never sent twice";
  EXPECT_EQ(RuntimeSandboxes(), before + 1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(OsbdFaultTest, ACommandOnAStaleConnectionDoesNotRunTwice) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(Run(id, "true").status.ok());  // the endpoint is known: the run is one POST
  ASSERT_TRUE(proxy_->WaitUntilIdle(absl::Seconds(5)));
  ASSERT_GE(proxy_->StaleIdleConnections(true), 1);
  const FaultProxy::Match run{"POST", "/sandboxes/" + id + "/proxy/44772/command"};
  const int runs = proxy_->RequestsForwarded(run);

  RunResult result = Run(id, "echo once");
  EXPECT_EQ(proxy_->RequestsForwarded(run), runs + 1) << "a command is never sent twice";
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << result.status.error_message();
  EXPECT_EQ(result.Count(v1::CommandEvent::kStarted), 0);
}

}  // namespace
}  // namespace osb::test
