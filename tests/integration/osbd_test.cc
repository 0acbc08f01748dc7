// osbd through its gRPC API, as a client sees it: a real osbd with its embedded osb-runtime on
// temporary paths (osb::test::Stack). Sandbox lifecycle, streamed command runs, bad input, kills
// that leave nothing behind, client cancels, the version handshake and the socket's permissions.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/daemon.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "tests/integration/harness.h"
#include "tests/integration/osbd_fixture.h"
#include "tests/integration/status_details.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

// Every call gets a deadline, so a hung daemon fails the test instead of stalling it.
constexpr absl::Duration kCallDeadline = absl::Seconds(60);


absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

bool IsHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Everything one Run call produced.
struct RunResult {
  std::vector<v1::CommandEvent> events;
  grpc::Status status;

  std::vector<std::string> Lines(v1::CommandEvent::KindCase kind) const {
    std::vector<std::string> lines;
    for (const auto& e : events) {
      if (e.kind_case() == kind) {
        lines.push_back(kind == v1::CommandEvent::kStdout ? e.stdout().data() : e.stderr().data());
      }
    }
    return lines;
  }
  std::vector<std::string> Stdout() const { return Lines(v1::CommandEvent::kStdout); }
  std::vector<std::string> Stderr() const { return Lines(v1::CommandEvent::kStderr); }
  const v1::CommandEvent* Last() const { return events.empty() ? nullptr : &events.back(); }
};

class OsbdTest : public OsbdFixture {
 protected:
  void SetUp() override {
    OsbdFixture::SetUp();
    if (stack_ != nullptr) daemon_ = v1::Daemon::NewStub(stack_->channel());
  }

  grpc::Status Create(const v1::CreateSandboxRequest& request, v1::Sandbox* sandbox) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    return sandboxes_->Create(&ctx, request, sandbox);
  }

  grpc::Status Get(const std::string& id, v1::Sandbox* sandbox) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetSandboxRequest request;
    request.set_sandbox_id(id);
    return sandboxes_->Get(&ctx, request, sandbox);
  }

  grpc::Status Kill(const std::string& id) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::KillSandboxRequest request;
    request.set_sandbox_id(id);
    v1::KillSandboxResponse response;
    return sandboxes_->Kill(&ctx, request, &response);
  }

  RunResult Run(const std::string& sandbox_id, const std::string& command,
                absl::Duration deadline = kCallDeadline) {
    grpc::ClientContext ctx;
    return Collect(StartRun(ctx, sandbox_id, command, deadline));
  }

  // Starts `command`, for a test that reads its events as they come.
  std::unique_ptr<grpc::ClientReader<v1::CommandEvent>> StartRun(
      grpc::ClientContext& ctx, const std::string& sandbox_id, const std::string& command,
      absl::Duration deadline = kCallDeadline) {
    SetDeadline(ctx, deadline);
    v1::RunCommandRequest request;
    request.set_sandbox_id(sandbox_id);
    request.set_command(command);
    return commands_->Run(&ctx, request);
  }

  // Runs `command` in a bash session; `cwd` and `timeout` as RunInSessionRequest has them.
  RunResult RunInSession(const std::string& sandbox_id, const std::string& session_id,
                         const std::string& command, const std::string& cwd = "",
                         absl::Duration timeout = absl::ZeroDuration()) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::RunInSessionRequest request;
    request.set_sandbox_id(sandbox_id);
    request.set_session_id(session_id);
    request.set_command(command);
    request.set_cwd(cwd);
    if (timeout > absl::ZeroDuration()) {
      *request.mutable_timeout() =
          TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(timeout));
    }
    return Collect(commands_->RunInSession(&ctx, request));
  }

  static RunResult Collect(std::unique_ptr<grpc::ClientReader<v1::CommandEvent>> reader) {
    RunResult result;
    v1::CommandEvent event;
    while (reader->Read(&event)) result.events.push_back(event);
    result.status = reader->Finish();
    return result;
  }

  std::unique_ptr<v1::Daemon::Stub> daemon_;
};

// Events are numbered 1, 2, 3... and open with `started` carrying execd's command id.
void ExpectWellFormed(const RunResult& r) {
  ASSERT_FALSE(r.events.empty());
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    EXPECT_EQ(r.events[i].seq(), i + 1) << "event " << i;
  }
  ASSERT_TRUE(r.events.front().has_started()) << r.events.front().DebugString();
  EXPECT_TRUE(IsHex32(r.events.front().started().command_id()))
      << r.events.front().started().command_id();
}

TEST_F(OsbdTest, CreateGetKill) {
  v1::CreateSandboxRequest request;
  request.set_image("host");
  v1::Sandbox created;
  const absl::Time before = absl::Now();
  grpc::Status status = Create(request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(created.id().empty());
  EXPECT_EQ(created.status().state(), "Running");
  ASSERT_TRUE(created.has_created_at());
  ASSERT_TRUE(created.has_expires_at());
  const absl::Time created_at = ToTime(created.created_at());
  EXPECT_GT(created_at, before - absl::Seconds(30));
  EXPECT_LT(created_at, absl::Now() + absl::Seconds(30));
  // The default TTL is 600 s.
  const absl::Duration ttl = ToTime(created.expires_at()) - created_at;
  EXPECT_GT(ttl, absl::Seconds(590)) << ttl;
  EXPECT_LT(ttl, absl::Seconds(610)) << ttl;

  v1::Sandbox got;
  status = Get(created.id(), &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.id(), created.id());
  EXPECT_EQ(got.status().state(), "Running");
  EXPECT_EQ(ToTime(got.created_at()), created_at);

  status = Kill(created.id());
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = Get(created.id(), &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "NOT_FOUND")) << status.error_message();
  // The same, for programs: a google.rpc.ErrorInfo in the status details.
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details())) << "no google.rpc.Status";
  EXPECT_EQ(details.code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info)) << details.details(0).type_url();
  EXPECT_EQ(info.reason(), "SANDBOX::NOT_FOUND");
  EXPECT_EQ(info.domain(), "opensandbox.io");
  EXPECT_EQ(info.metadata().at("http_status"), "404");
  EXPECT_FALSE(info.metadata().at("request_id").empty());
  EXPECT_TRUE(absl::StrContains(status.error_message(), info.metadata().at("request_id")));
}

TEST_F(OsbdTest, ManualCleanupHasNoExpiry) {
  v1::CreateSandboxRequest request;
  request.set_image("host");
  request.set_manual_cleanup(true);
  v1::Sandbox created;
  grpc::Status status = Create(request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.status().state(), "Running");
  EXPECT_TRUE(created.has_created_at());
  EXPECT_FALSE(created.has_expires_at()) << created.DebugString();

  v1::Sandbox got;
  status = Get(created.id(), &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(got.has_expires_at()) << got.DebugString();
}

TEST_F(OsbdTest, RunStreamsNumberedEventsInOrder) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  RunResult r = Run(id, "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; echo tail");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ExpectWellFormed(r);
  EXPECT_EQ(r.Stdout(),
            (std::vector<std::string>{"line1", "line2", "line3", "line4", "line5", "tail"}));
  EXPECT_EQ(r.Stderr(), std::vector<std::string>{"oops"});
  ASSERT_NE(r.Last(), nullptr);
  EXPECT_TRUE(r.Last()->has_completed()) << r.Last()->DebugString();
}

TEST_F(OsbdTest, RunReportsExitCodes) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());

  RunResult ok = Run(id, "true");
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  ExpectWellFormed(ok);
  ASSERT_NE(ok.Last(), nullptr);
  EXPECT_TRUE(ok.Last()->has_completed()) << ok.Last()->DebugString();

  RunResult one = Run(id, "exit 1");
  ASSERT_TRUE(one.status.ok()) << one.status.error_message();
  ExpectWellFormed(one);
  ASSERT_NE(one.Last(), nullptr);
  ASSERT_TRUE(one.Last()->has_failed()) << one.Last()->DebugString();
  ASSERT_TRUE(one.Last()->failed().has_exit_code());
  EXPECT_EQ(one.Last()->failed().exit_code(), 1);

  RunResult missing = Run(id, "definitely-not-a-command");
  ASSERT_TRUE(missing.status.ok()) << missing.status.error_message();
  ExpectWellFormed(missing);
  ASSERT_NE(missing.Last(), nullptr);
  ASSERT_TRUE(missing.Last()->has_failed()) << missing.Last()->DebugString();
  ASSERT_TRUE(missing.Last()->failed().has_exit_code());
  EXPECT_EQ(missing.Last()->failed().exit_code(), 127);
  // bash says why on stderr, not stdout.
  EXPECT_TRUE(missing.Stdout().empty());
  EXPECT_FALSE(missing.Stderr().empty());
}

TEST_F(OsbdTest, OutputIsStreamedAsItHappens) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  grpc::ClientContext ctx;
  auto reader = StartRun(ctx, id, "echo first; sleep 1.5; echo second");
  v1::CommandEvent event;
  absl::Time first_at = absl::InfiniteFuture(), second_at = absl::InfiniteFuture();
  while (reader->Read(&event)) {
    if (!event.has_stdout()) continue;
    if (event.stdout().data() == "first") first_at = absl::Now();
    if (event.stdout().data() == "second") second_at = absl::Now();
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_NE(first_at, absl::InfiniteFuture());
  ASSERT_NE(second_at, absl::InfiniteFuture());
  // 1.5 s apart at the source; a loaded machine may squeeze that a little, buffering to ~0.
  EXPECT_GE(second_at - first_at, absl::Milliseconds(900)) << "output was buffered, not streamed";
}

TEST_F(OsbdTest, ShutdownLetsRunningCommandsFinishThenStops) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  grpc::ClientContext ctx;
  auto reader = StartRun(ctx, id, "sleep 3; echo finished");  // longer than the old fixed 2 s
  v1::CommandEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_started()) << event.DebugString();

  grpc::ClientContext stop_ctx;
  SetDeadline(stop_ctx);
  v1::ShutdownRequest stop;
  stop.mutable_grace()->set_seconds(30);
  v1::ShutdownResponse stopped;
  ASSERT_TRUE(daemon_->Shutdown(&stop_ctx, stop, &stopped).ok());

  // The running stream is drained, not cut...
  bool finished = false, completed = false;
  while (reader->Read(&event)) {
    if (event.has_stdout() && event.stdout().data() == "finished") finished = true;
    if (event.has_completed()) completed = true;
  }
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(finished);
  EXPECT_TRUE(completed);
  // ...and then osbd is gone: calls fail instead of waiting for the rest of the grace.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  grpc::Status after;
  do {
    grpc::ClientContext version_ctx;
    version_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::GetVersionResponse version;
    after = daemon_->GetVersion(&version_ctx, v1::GetVersionRequest(), &version);
    if (after.ok()) absl::SleepFor(absl::Milliseconds(100));
  } while (after.ok() && absl::Now() < deadline);
  EXPECT_FALSE(after.ok()) << "osbd still serves after its shutdown";
}

TEST_F(OsbdTest, LargeOutputArrivesIntact) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  // About 9 MB; a sanitized osbd spends some 300 µs on an event, so there a sixth of it, still
  // thousands of backpressure pauses.
  constexpr int kLines = kSanitized ? 200000 : 1300000;
  std::string expected;
  for (int i = 1; i <= kLines; ++i) absl::StrAppend(&expected, i, "\n");

  grpc::ClientContext ctx;
  auto reader = StartRun(ctx, id, absl::StrCat("seq 1 ", kLines), absl::Minutes(5));
  v1::CommandEvent event;
  std::string got;
  got.reserve(expected.size());
  uint64_t last_seq = 0, lines = 0;
  bool ordered = true, completed = false;
  while (reader->Read(&event)) {
    if (event.seq() != last_seq + 1) ordered = false;
    last_seq = event.seq();
    if (event.has_stdout()) {
      absl::StrAppend(&got, event.stdout().data(), "\n");
      ++lines;
    }
    if (event.has_completed()) completed = true;
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(ordered);
  EXPECT_TRUE(completed);
  EXPECT_EQ(lines, static_cast<uint64_t>(kLines));
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(std::hash<std::string>{}(got), std::hash<std::string>{}(expected));
}

TEST_F(OsbdTest, BadInputIsRefusedAndTheDaemonCarriesOn) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());

  RunResult empty = Run(id, "");
  EXPECT_EQ(empty.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << empty.status.error_message();
  EXPECT_TRUE(empty.events.empty());

  RunResult unknown = Run("no-such-sandbox-0000", "echo hi");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND)
      << unknown.status.error_message();
  EXPECT_TRUE(unknown.events.empty());

  v1::Sandbox ignored;
  v1::CreateSandboxRequest both;
  both.set_image("host");
  both.set_snapshot_id("some-snapshot");
  grpc::Status status = Create(both, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  v1::CreateSandboxRequest short_ttl;
  short_ttl.set_image("host");
  *short_ttl.mutable_timeout() = TimeUtil::SecondsToDuration(30);
  status = Create(short_ttl, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSnapshotRequest snapshot_request;
    snapshot_request.set_sandbox_id("no-such-sandbox-0000");
    v1::Snapshot snapshot;
    status = sandboxes_->CreateSnapshot(&ctx, snapshot_request, &snapshot);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::InterruptCommandRequest interrupt;
    interrupt.set_sandbox_id(id);
    interrupt.set_command_id("0123456789abcdef0123456789abcdef");
    v1::InterruptCommandResponse interrupted;
    status = commands_->Interrupt(&ctx, interrupt, &interrupted);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }

  // None of that hurt the daemon: it still creates and runs.
  const std::string fresh = NewSandbox();
  ASSERT_FALSE(fresh.empty());
  RunResult r = Run(fresh, "echo still here");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.Stdout(), std::vector<std::string>{"still here"});
  r = Run(id, "echo me too");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.Stdout(), std::vector<std::string>{"me too"});
}

TEST_F(OsbdTest, SnapshotsAreTakenListedRestoredAndDeleted) {
  const std::string source = NewSandbox();
  ASSERT_FALSE(source.empty());
  ASSERT_EQ(Run(source, "echo saved > /root/state").status.error_code(), grpc::StatusCode::OK);
  v1::Snapshot snapshot;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSnapshotRequest request;
    request.set_sandbox_id(source);
    request.set_name("nightly");
    request.set_wait(true);
    grpc::Status status = sandboxes_->CreateSnapshot(&ctx, request, &snapshot);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(snapshot.status().state(), "Ready") << snapshot.DebugString();
  EXPECT_EQ(snapshot.name(), "nightly");
  EXPECT_EQ(snapshot.sandbox_id(), source);
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListSnapshotsRequest request;
    request.set_sandbox_id(source);
    request.add_states("ready");
    v1::ListSnapshotsResponse list;
    ASSERT_TRUE(sandboxes_->ListSnapshots(&ctx, request, &list).ok());
    ASSERT_EQ(list.snapshots_size(), 1) << list.DebugString();
    EXPECT_EQ(list.snapshots(0).id(), snapshot.id());
    EXPECT_EQ(list.pagination().total_items(), 1);
  }
  v1::CreateSandboxRequest restore;
  restore.set_snapshot_id(snapshot.id());
  v1::Sandbox restored;
  grpc::Status created = Create(restore, &restored);
  ASSERT_TRUE(created.ok()) << created.error_message();
  v1::Sandbox got;
  ASSERT_TRUE(Get(restored.id(), &got).ok());
  EXPECT_EQ(got.snapshot_id(), snapshot.id());
  RunResult read = Run(restored.id(), "cat /root/state");
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  std::string out;
  for (const auto& e : read.events) {
    if (e.has_stdout()) out += e.stdout().data();
  }
  EXPECT_EQ(out, "saved");
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteSnapshotRequest request;
    request.set_snapshot_id(snapshot.id());
    v1::DeleteSnapshotResponse deleted;
    EXPECT_TRUE(sandboxes_->DeleteSnapshot(&ctx, request, &deleted).ok());
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetSnapshotRequest request;
    request.set_snapshot_id(snapshot.id());
    v1::Snapshot gone;
    EXPECT_EQ(sandboxes_->GetSnapshot(&ctx, request, &gone).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_TRUE(Kill(restored.id()).ok());
}

TEST_F(OsbdTest, KillLeavesNoProcessBehind) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  // A detached process that outlives its Run; its command line names the sandbox so we can
  // find it on the host.
  const std::string marker = absl::StrCat("sleep 1000; : ", id);
  RunResult r = Run(id, absl::StrCat("nohup sh -c '", marker, "' >/dev/null 2>&1 &"));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_NE(r.Last(), nullptr);
  ASSERT_TRUE(r.Last()->has_completed()) << r.Last()->DebugString();
  // Seen once is enough: a second look may fall in the instant nohup execs sh, when the
  // process's command line cannot be read.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool seen = !ProcessesMatching(marker).empty();
  while (!seen && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    seen = !ProcessesMatching(marker).empty();
  }
  ASSERT_TRUE(seen) << "the background process never showed up";

  grpc::Status status = Kill(id);
  ASSERT_TRUE(status.ok()) << status.error_message();
  deadline = absl::Now() + absl::Seconds(15);
  while (!ProcessesMatching(id).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(ProcessesMatching(id).empty())
      << ProcessesMatching(id).size() << " processes still name sandbox " << id;
}

TEST_F(OsbdTest, ClientCancelEndsTheCallAndTheDaemonCarriesOn) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  grpc::ClientContext ctx;
  auto reader = StartRun(ctx, id, "sleep 30");
  v1::CommandEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_started()) << event.DebugString();

  const absl::Time cancelled_at = absl::Now();
  ctx.TryCancel();
  while (reader->Read(&event)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_LT(absl::Now() - cancelled_at, absl::Seconds(10));

  RunResult r = Run(id, "echo next");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.Stdout(), std::vector<std::string>{"next"});
}

TEST_F(OsbdTest, GetVersionDescribesTheDaemon) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetVersionRequest request;
  request.set_client_version("osbd_test/0");
  v1::GetVersionResponse version;
  grpc::Status status = daemon_->GetVersion(&ctx, request, &version);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(version.daemon_version().empty());
  EXPECT_EQ(version.api_version(), "v1");
  EXPECT_EQ(version.embedded_runtime_address(), stack_->runtime_address());
}

TEST_F(OsbdTest, SocketIsPrivate) {
  struct stat st {};
  ASSERT_EQ(::stat(stack_->socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u) << std::oct << (st.st_mode & 07777);
  const std::string dir = stack_->socket_path().substr(0, stack_->socket_path().rfind('/'));
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u) << std::oct << (st.st_mode & 07777);
}

TEST_F(OsbdTest, UnreachableDomainIsUnavailablePromptly) {
  v1::CreateSandboxRequest request;
  request.set_image("host");
  request.mutable_connection()->set_domain("127.0.0.1:1");
  v1::Sandbox ignored;
  const absl::Time start = absl::Now();
  grpc::Status status = Create(request, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
}

}  // namespace
}  // namespace osb::test

namespace osb::test {
namespace {

TEST_F(OsbdTest, ListFiltersByStateAndMetadataAndPages) {
  v1::CreateSandboxRequest tagged;
  tagged.set_image("host");
  (*tagged.mutable_metadata())["team"] = "alpha";
  v1::Sandbox a, b;
  ASSERT_TRUE(Create(tagged, &a).ok());
  (*tagged.mutable_metadata())["team"] = "beta";
  ASSERT_TRUE(Create(tagged, &b).ok());

  auto list = [&](v1::ListSandboxesRequest request, v1::ListSandboxesResponse* response) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    return sandboxes_->List(&ctx, request, response);
  };
  v1::ListSandboxesRequest by_team;
  by_team.add_states("running");  // case-insensitive, as the official server compares
  (*by_team.mutable_metadata())["team"] = "alpha";
  v1::ListSandboxesResponse alpha;
  ASSERT_TRUE(list(by_team, &alpha).ok());
  ASSERT_EQ(alpha.sandboxes_size(), 1);
  EXPECT_EQ(alpha.sandboxes(0).id(), a.id());
  EXPECT_EQ(alpha.pagination().total_items(), 1);

  v1::ListSandboxesRequest paged;
  paged.set_page_size(1);
  v1::ListSandboxesResponse first;
  ASSERT_TRUE(list(paged, &first).ok());
  EXPECT_EQ(first.sandboxes_size(), 1);
  EXPECT_EQ(first.pagination().total_items(), 2);
  EXPECT_EQ(first.pagination().total_pages(), 2);
  EXPECT_TRUE(first.pagination().has_next_page());
  EXPECT_EQ(first.sandboxes(0).id(), b.id()) << "newest first";

  v1::ListSandboxesRequest too_big;
  too_big.set_page_size(500);
  v1::ListSandboxesResponse ignored;
  EXPECT_EQ(list(too_big, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(OsbdTest, GetEndpointGivesAUsableUrlAndHeaders) {
  std::string id = NewSandbox();
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetEndpointRequest request;
  request.set_sandbox_id(id);
  request.set_port(44772);
  v1::Endpoint endpoint;
  ASSERT_TRUE(sandboxes_->GetEndpoint(&ctx, request, &endpoint).ok());
  EXPECT_EQ(endpoint.endpoint().find("://"), std::string::npos);
  EXPECT_EQ(endpoint.url(), "http://" + endpoint.endpoint());
  ASSERT_EQ(endpoint.headers().count("X-EXECD-ACCESS-TOKEN"), 1u);

  // The URL with its headers reaches the sandbox's execd.
  std::string authority = endpoint.endpoint().substr(0, endpoint.endpoint().find('/'));
  std::string path = endpoint.endpoint().substr(endpoint.endpoint().find('/'));
  httplib::Client client("http://" + authority);
  httplib::Headers headers(endpoint.headers().begin(), endpoint.headers().end());
  auto ping = client.Get(path + "/ping", headers);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);

  grpc::ClientContext bad_ctx;
  request.set_port(0);
  grpc::Status bad = sandboxes_->GetEndpoint(&bad_ctx, request, &endpoint);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(bad), "port");
}

// The credential-vault proxy goes to the service with its network policy; osb-runtime has
// none and refuses the create rather than make a sandbox without it.
TEST_F(OsbdTest, TheCredentialProxyIsAskedOfTheService) {
  v1::CreateSandboxRequest request;
  request.set_image("host");
  request.set_credential_proxy(true);
  v1::Sandbox sandbox;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::Status status = sandboxes_->Create(&ctx, request, &sandbox);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(BadRequestField(status), "credential_proxy") << status.error_message();
  }
  request.mutable_network_policy()->set_default_action(v1::NETWORK_ACTION_DENY);
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::Status status = sandboxes_->Create(&ctx, request, &sandbox);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(ErrorReason(status), "SANDBOX::API_NOT_SUPPORTED") << status.error_message();
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListSandboxesRequest list;
  v1::ListSandboxesResponse listed;
  ASSERT_TRUE(sandboxes_->List(&ctx, list, &listed).ok());
  EXPECT_EQ(listed.sandboxes_size(), 0) << "nothing was created";
}

// A signed route is asked of the service, which decides: osb-runtime, like the official Docker
// server, has none and says so. Asked together with the server proxy, osbd refuses it itself.
TEST_F(OsbdTest, ASignedEndpointIsTheServicesToGive) {
  std::string id = NewSandbox();
  v1::GetEndpointRequest request;
  request.set_sandbox_id(id);
  request.set_port(8080);
  *request.mutable_expires() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  v1::Endpoint endpoint;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::Status status = sandboxes_->GetEndpoint(&ctx, request, &endpoint);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(ErrorReason(status), "SANDBOX::API_NOT_SUPPORTED") << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), "signed endpoints"))
        << status.error_message();
  }
  request.set_use_server_proxy(true);
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::Status status = sandboxes_->GetEndpoint(&ctx, request, &endpoint);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(BadRequestField(status), "expires") << status.error_message();
  }
}

}  // namespace
}  // namespace osb::test

namespace osb::test {
namespace {

TEST_F(OsbdTest, PauseHoldsCommandsAndResumeWaitsUntilReady) {
  std::string id = NewSandbox();
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::PauseSandboxRequest request;
    request.set_sandbox_id(id);
    request.set_wait(true);
    v1::PauseSandboxResponse response;
    grpc::Status status = sandboxes_->Pause(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.sandbox().status().state(), "Paused");
  }
  RunResult while_paused = Run(id, "echo should-not-run");
  EXPECT_EQ(while_paused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << while_paused.status.error_message();
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ResumeSandboxRequest request;
    request.set_sandbox_id(id);
    v1::ResumeSandboxResponse response;
    grpc::Status status = sandboxes_->Resume(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.sandbox().status().state(), "Running");
  }
  RunResult after = Run(id, "echo back");
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.Stdout(), std::vector<std::string>{"back"});
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ResumeSandboxRequest request;
    request.set_sandbox_id(id);
    v1::ResumeSandboxResponse response;
    EXPECT_EQ(sandboxes_->Resume(&ctx, request, &response).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION)
        << "resuming a running sandbox is a conflict";
  }
}

TEST_F(OsbdTest, SessionsKeepExportsAndDirectoryBetweenRuns) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  grpc::ClientContext create_ctx;
  SetDeadline(create_ctx);
  v1::CreateSessionRequest create;
  create.set_sandbox_id(id);
  create.set_cwd("/tmp");
  v1::Session session;
  grpc::Status created = commands_->CreateSession(&create_ctx, create, &session);
  ASSERT_TRUE(created.ok()) << created.error_message();
  ASSERT_FALSE(session.session_id().empty());

  RunResult first =
      RunInSession(id, session.session_id(), "pwd; export A=one; cd /usr; echo e >&2");
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ASSERT_FALSE(first.events.empty());
  EXPECT_EQ(first.events.front().started().command_id(), session.session_id());
  EXPECT_EQ(first.Stdout(), (std::vector<std::string>{"/tmp", "e"})) << "stderr merged";
  EXPECT_TRUE(first.Last()->has_completed());
  for (std::size_t i = 0; i < first.events.size(); ++i) EXPECT_EQ(first.events[i].seq(), i + 1);

  RunResult second = RunInSession(id, session.session_id(), "echo $A; pwd; exit 7");
  EXPECT_EQ(second.Stdout(), (std::vector<std::string>{"one", "/usr"}));
  ASSERT_NE(second.Last(), nullptr);
  ASSERT_TRUE(second.Last()->has_failed()) << second.Last()->DebugString();
  EXPECT_EQ(second.Last()->failed().exit_code(), 7);

  RunResult elsewhere = RunInSession(id, session.session_id(), "pwd", "/");
  EXPECT_EQ(elsewhere.Stdout(), std::vector<std::string>{"/"});
  RunResult timed_out =
      RunInSession(id, session.session_id(), "sleep 30", "", absl::Milliseconds(300));
  ASSERT_NE(timed_out.Last(), nullptr);
  EXPECT_TRUE(timed_out.Last()->has_failed()) << timed_out.Last()->DebugString();

  grpc::ClientContext delete_ctx;
  SetDeadline(delete_ctx);
  v1::DeleteSessionRequest del;
  del.set_sandbox_id(id);
  del.set_session_id(session.session_id());
  v1::DeleteSessionResponse deleted;
  grpc::Status status = commands_->DeleteSession(&delete_ctx, del, &deleted);
  EXPECT_TRUE(status.ok()) << status.error_message();
  grpc::ClientContext again_ctx;
  SetDeadline(again_ctx);
  status = commands_->DeleteSession(&again_ctx, del, &deleted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
}

TEST_F(OsbdTest, SessionBadInputIsRefused) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(RunInSession(id, "", "true").status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RunInSession(id, "s", "").status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  RunResult unknown = RunInSession(id, "no-such-session", "true");
  EXPECT_FALSE(unknown.status.ok());
  EXPECT_TRUE(unknown.events.empty()) << "refused before anything ran";
  EXPECT_TRUE(absl::StrContains(unknown.status.error_message(), "no-such-session"))
      << unknown.status.error_message();

  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::CreateSessionRequest create;
  create.set_sandbox_id(id);
  create.set_cwd("/no/such/dir");
  v1::Session session;
  grpc::Status status = commands_->CreateSession(&ctx, create, &session);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(Run(id, "echo still").Stdout(), std::vector<std::string>{"still"});
}

TEST_F(OsbdTest, MetricsOnceAndWatched) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetSandboxMetricsRequest request;
  request.set_sandbox_id(id);
  v1::SandboxMetrics metrics;
  grpc::Status status = sandboxes_->GetMetrics(&ctx, request, &metrics);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(metrics.cpu_count(), 0);
  EXPECT_GT(metrics.memory_total_mib(), 0);
  EXPECT_GT(metrics.memory_used_mib(), 0);
  EXPECT_LT(metrics.memory_used_mib(), metrics.memory_total_mib());
  EXPECT_GE(metrics.cpu_used_percent(), 0);
  EXPECT_LE(metrics.cpu_used_percent(), 100);
  EXPECT_LT(absl::AbsDuration(ToTime(metrics.time()) - absl::Now()), absl::Seconds(10));

  grpc::ClientContext watch_ctx;
  SetDeadline(watch_ctx);
  v1::WatchSandboxMetricsRequest watch;
  watch.set_sandbox_id(id);
  auto reader = sandboxes_->WatchMetrics(&watch_ctx, watch);
  std::vector<v1::SandboxMetrics> samples;
  v1::SandboxMetrics sample;
  while (samples.size() < 2 && reader->Read(&sample)) samples.push_back(sample);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_GT(ToTime(samples[1].time()), ToTime(samples[0].time()));
  watch_ctx.TryCancel();
  while (reader->Read(&sample)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  grpc::ClientContext unknown_ctx;
  SetDeadline(unknown_ctx);
  request.set_sandbox_id("no-such-sandbox-0000");
  status = sandboxes_->GetMetrics(&unknown_ctx, request, &metrics);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_EQ(Run(id, "echo after").Stdout(), std::vector<std::string>{"after"});
}

TEST_F(OsbdTest, RenewAndPatchMetadata) {
  v1::CreateSandboxRequest request;
  request.set_image("host");
  *request.mutable_timeout() = TimeUtil::SecondsToDuration(600);
  (*request.mutable_metadata())["team"] = "a";
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();

  grpc::ClientContext renew_ctx;
  SetDeadline(renew_ctx);
  v1::RenewSandboxRequest renew;
  renew.set_sandbox_id(sandbox.id());
  *renew.mutable_timeout() = TimeUtil::SecondsToDuration(3600);
  v1::RenewSandboxResponse renewed;
  status = sandboxes_->Renew(&renew_ctx, renew, &renewed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(absl::AbsDuration(ToTime(renewed.expires_at()) - (absl::Now() + absl::Hours(1))),
            absl::Seconds(10));
  v1::Sandbox got;
  ASSERT_TRUE(Get(sandbox.id(), &got).ok());
  EXPECT_EQ(ToTime(got.expires_at()), ToTime(renewed.expires_at()));

  grpc::ClientContext past_ctx;
  SetDeadline(past_ctx);
  *renew.mutable_expires_at() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - 60);
  status = sandboxes_->Renew(&past_ctx, renew, &renewed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  grpc::ClientContext patch_ctx;
  SetDeadline(patch_ctx);
  v1::PatchSandboxMetadataRequest patch;
  patch.set_sandbox_id(sandbox.id());
  (*patch.mutable_upsert())["owner"] = "ci";
  patch.add_remove("team");
  v1::Sandbox patched;
  status = sandboxes_->PatchMetadata(&patch_ctx, patch, &patched);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(patched.metadata().size(), 1u);
  EXPECT_EQ(patched.metadata().at("owner"), "ci");
}

// A process to hold a lease: `sleep 300`, killed and reaped by the destructor at the latest.
using Holder = SleepingChild;

TEST_F(OsbdTest, ALeasedSandboxDiesWithItsHolder) {
  Holder holder;
  ASSERT_GT(holder.pid(), 0);
  v1::CreateSandboxRequest request;
  request.set_image("host");
  request.set_lease(v1::LEASE_MODE_KILL_ON_EXIT);
  request.set_lease_pid(holder.pid());
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(sandbox.metadata().at("osbd.opensandbox.io/lease-pid"), std::to_string(holder.pid()));
  EXPECT_EQ(sandbox.metadata().at("osbd.opensandbox.io/lease-mode"), "kill-on-exit");
  absl::SleepFor(absl::Milliseconds(500));
  v1::Sandbox got;
  ASSERT_TRUE(Get(sandbox.id(), &got).ok()) << "alive while its holder lives";

  const absl::Time exited = absl::Now();
  holder.Exit();
  grpc::Status gone;
  do {
    absl::SleepFor(absl::Milliseconds(100));
    gone = Get(sandbox.id(), &got);
  } while (gone.ok() && absl::Now() - exited < absl::Seconds(10));
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND) << gone.error_message();
  std::printf("sandbox gone %.0f ms after its lease holder exited\n",
              absl::ToDoubleMilliseconds(absl::Now() - exited));
  EXPECT_LT(absl::Now() - exited, absl::Seconds(2)) << "issue 5: killed within 2 s";
}

TEST_F(OsbdTest, ARenewWhileAliveLeaseKeepsPushingTheExpiry) {
  Holder holder;
  v1::CreateSandboxRequest request;
  request.set_image("host");
  *request.mutable_timeout() = TimeUtil::SecondsToDuration(60);
  request.set_lease(v1::LEASE_MODE_RENEW_WHILE_ALIVE);
  request.set_lease_pid(holder.pid());
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const absl::Time first = ToTime(sandbox.expires_at());
  absl::SleepFor(absl::Seconds(12));  // renewals come every 10 s
  v1::Sandbox got;
  ASSERT_TRUE(Get(sandbox.id(), &got).ok());
  EXPECT_GT(ToTime(got.expires_at()), first + absl::Seconds(5)) << "the expiry was not renewed";
  holder.Exit();
  grpc::Status gone;
  const absl::Time exited = absl::Now();
  do {
    absl::SleepFor(absl::Milliseconds(100));
    gone = Get(sandbox.id(), &got);
  } while (gone.ok() && absl::Now() - exited < absl::Seconds(10));
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND) << gone.error_message();
}

TEST_F(OsbdTest, ABadLeaseIsRefusedBeforeAnythingIsMade) {
  Holder holder;
  struct Case {
    int pid;
    bool manual_cleanup;
    v1::LeaseMode mode;
  } cases[] = {{0, false, v1::LEASE_MODE_KILL_ON_EXIT},
               {-4, false, v1::LEASE_MODE_KILL_ON_EXIT},
               {999999999, false, v1::LEASE_MODE_KILL_ON_EXIT},
               {holder.pid(), true, v1::LEASE_MODE_RENEW_WHILE_ALIVE}};
  for (const auto& c : cases) {
    v1::CreateSandboxRequest request;
    request.set_image("host");
    request.set_lease(c.mode);
    request.set_lease_pid(c.pid);
    request.set_manual_cleanup(c.manual_cleanup);
    v1::Sandbox sandbox;
    grpc::Status status = Create(request, &sandbox);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.pid << ": " << status.error_message();
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListSandboxesRequest list;
  v1::ListSandboxesResponse listed;
  ASSERT_TRUE(sandboxes_->List(&ctx, list, &listed).ok());
  EXPECT_EQ(listed.sandboxes_size(), 0) << listed.DebugString();
}

}  // namespace
}  // namespace osb::test
