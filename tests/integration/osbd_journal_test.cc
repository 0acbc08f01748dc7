// osbd's command journal through the gRPC API: a run outlives the client that started it,
// Attach resumes it from the last event seen (or replays it whole), and a stream that breaks
// ends with `broken` and UNAVAILABLE, never with a success osbd did not see.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "tests/integration/osbd_fixture.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

// "seq:kind:text" for each event, e.g. "2:stdout:one", "5:failed:4", "6:broken:<command id>".
std::string Describe(const v1::CommandEvent& e) {
  std::string head = std::to_string(e.seq()) + ":";
  switch (e.kind_case()) {
    case v1::CommandEvent::kStarted:
      return head + "started";
    case v1::CommandEvent::kStdout:
      return head + "stdout:" + e.stdout().data();
    case v1::CommandEvent::kStderr:
      return head + "stderr:" + e.stderr().data();
    case v1::CommandEvent::kCompleted:
      return head + "completed";
    case v1::CommandEvent::kFailed:
      return head + "failed:" + e.failed().value();
    case v1::CommandEvent::kBroken:
      return head + "broken:" + e.broken().command_id();
    default:
      return head + "?";
  }
}

class OsbdJournalTest : public OsbdFixture {
 protected:
  void SetUp() override {
    OsbdFixture::SetUp();
    if (stack_ != nullptr) sandbox_id_ = NewSandbox();
  }

  // Starts `command` in the fixture's sandbox on `ctx` (given a deadline here).
  std::unique_ptr<grpc::ClientReader<v1::CommandEvent>> StartRun(grpc::ClientContext& ctx,
                                                                 const std::string& command) {
    SetDeadline(ctx);
    v1::RunCommandRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_command(command);
    return commands_->Run(&ctx, request);
  }

  // Attach's events as Describe strings, and how the call ended.
  std::pair<std::vector<std::string>, grpc::Status> Attach(const std::string& command_id,
                                                           uint64_t after_seq) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AttachCommandRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_command_id(command_id);
    request.set_after_seq(after_seq);
    auto reader = commands_->Attach(&ctx, request);
    std::vector<std::string> events;
    v1::CommandEvent event;
    while (reader->Read(&event)) events.push_back(Describe(event));
    return {events, reader->Finish()};
  }

  std::string sandbox_id_;
};

TEST_F(OsbdJournalTest, ARunOutlivesItsClientAndAttachResumesWhereItLeft) {
  std::string command_id;
  {
    grpc::ClientContext ctx;
    auto reader = StartRun(ctx, "echo one; sleep 1; echo two; touch /tmp/finished; exit 4");
    v1::CommandEvent event;
    ASSERT_TRUE(reader->Read(&event));
    ASSERT_TRUE(event.has_started());
    command_id = event.started().command_id();
    ASSERT_TRUE(reader->Read(&event));
    ASSERT_EQ(Describe(event), "2:stdout:one");
    ctx.TryCancel();  // the client goes away in the middle of the run
    while (reader->Read(&event)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }

  auto [rest, status] = Attach(command_id, 2);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rest, (std::vector<std::string>{"3:stdout:two", "4:failed:4"}));

  // The command ran to its end although its first client left.
  grpc::ClientContext ctx;
  auto reader = StartRun(ctx, "test -e /tmp/finished");
  v1::CommandEvent event, last;
  while (reader->Read(&event)) last = event;
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(last.has_completed()) << last.DebugString();

  // After the end the journal still replays the whole run.
  auto [all, again] = Attach(command_id, 0);
  EXPECT_TRUE(again.ok()) << again.error_message();
  EXPECT_EQ(all, (std::vector<std::string>{"1:started", "2:stdout:one", "3:stdout:two",
                                           "4:failed:4"}));
}

TEST_F(OsbdJournalTest, AttachFollowsARunningCommandLive) {
  grpc::ClientContext run_ctx;
  auto run = StartRun(run_ctx, "echo a; sleep 0.5; echo b");
  v1::CommandEvent event;
  ASSERT_TRUE(run->Read(&event));
  const std::string command_id = event.started().command_id();

  // A second reader joins while the command runs and sees everything, then the end.
  auto [events, status] = Attach(command_id, 0);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(events, (std::vector<std::string>{"1:started", "2:stdout:a", "3:stdout:b",
                                              "4:completed"}));
  while (run->Read(&event)) {
  }
  EXPECT_TRUE(run->Finish().ok());
}

TEST_F(OsbdJournalTest, AttachRefusesWhatItCannotServe) {
  auto [none, unknown] = Attach("0123456789abcdef0123456789abcdef", 0);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND) << unknown.error_message();
  EXPECT_TRUE(none.empty());
  auto [nothing, missing] = Attach("", 0);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext ctx;
  auto run = StartRun(ctx, "true");
  v1::CommandEvent event;
  ASSERT_TRUE(run->Read(&event));
  const std::string command_id = event.started().command_id();
  while (run->Read(&event)) {
  }
  ASSERT_TRUE(run->Finish().ok());
  auto [beyond, too_far] = Attach(command_id, 99);
  EXPECT_EQ(too_far.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << too_far.error_message();
}

TEST_F(OsbdJournalTest, AttachToEventsTheBoundedJournalDroppedSaysWhereItStarts) {
  grpc::ClientContext ctx;
  auto run = StartRun(ctx, "seq 1 40000");  // more events than the journal keeps
  v1::CommandEvent event;
  std::string command_id;
  uint64_t count = 0;
  while (run->Read(&event)) {
    if (event.has_started()) command_id = event.started().command_id();
    ++count;
  }
  ASSERT_TRUE(run->Finish().ok());
  ASSERT_EQ(count, 40002u);

  grpc::ClientContext attach_ctx;
  SetDeadline(attach_ctx);
  v1::AttachCommandRequest attach;
  attach.set_sandbox_id(sandbox_id_);
  attach.set_command_id(command_id);
  auto reader = commands_->Attach(&attach_ctx, attach);
  while (reader->Read(&event)) {
  }
  grpc::Status status = reader->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE) << status.error_message();
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "OSBD::JOURNAL_EVENTS_DROPPED");
  const uint64_t first_seq = std::stoull(info.metadata().at("first_seq"));
  EXPECT_GT(first_seq, 1u);

  // Accepting the gap: everything from the oldest kept event to the end.
  auto [kept, ok] = Attach(command_id, first_seq - 1);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(kept.size(), count - first_seq + 1);
  EXPECT_EQ(kept.back(), std::to_string(count) + ":completed");
}

TEST_F(OsbdJournalTest, AStreamThatBreaksSaysSoWithTheCommandId) {
  grpc::ClientContext ctx;
  auto run = StartRun(ctx, "echo up; sleep 60");
  v1::CommandEvent event;
  ASSERT_TRUE(run->Read(&event));
  const std::string command_id = event.started().command_id();
  ASSERT_TRUE(run->Read(&event));
  ASSERT_EQ(Describe(event), "2:stdout:up");

  {
    grpc::ClientContext kill_ctx;
    SetDeadline(kill_ctx);
    v1::KillSandboxRequest kill;
    kill.set_sandbox_id(sandbox_id_);
    v1::KillSandboxResponse killed;
    ASSERT_TRUE(sandboxes_->Kill(&kill_ctx, kill, &killed).ok());
  }
  std::vector<std::string> rest;
  while (run->Read(&event)) rest.push_back(Describe(event));
  grpc::Status status = run->Finish();
  EXPECT_EQ(rest, std::vector<std::string>{"3:broken:" + command_id});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(status.error_message(), command_id)) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "outcome is unknown"))
      << status.error_message();
}

}  // namespace
}  // namespace osb::test
