// Health checks on create and resume: osbd returns a sandbox only once its probe passes (a command
// exiting 0, an HTTP GET to a port inside it), gives up at the ready timeout with the last probe
// error and deletes the sandbox, and refuses a malformed probe; a sandbox that fails while it is
// awaited is reported unhealthy.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/integration/osbd_process.h"
#include "tests/integration/osbd_fixture.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

class OsbdHealthTest : public OsbdFixture {
 protected:
  grpc::Status Create(v1::CreateSandboxRequest request, v1::Sandbox* sandbox) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    request.set_image("host");
    return sandboxes_->Create(&ctx, request, sandbox);
  }

  // 0 when `command` run in the sandbox exits 0, 1 when it fails, -1 when the call failed.
  int ExitCodeOf(const std::string& id, const std::string& command) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::RunCommandRequest request;
    request.set_sandbox_id(id);
    request.set_command(command);
    auto reader = commands_->Run(&ctx, request);
    v1::CommandEvent event;
    int code = -1;
    while (reader->Read(&event)) {
      if (event.has_completed()) code = 0;
      if (event.has_failed()) code = 1;
    }
    return reader->Finish().ok() ? code : -1;
  }

  int SandboxCount() {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListSandboxesRequest request;
    v1::ListSandboxesResponse list;
    EXPECT_TRUE(sandboxes_->List(&ctx, request, &list).ok());
    return list.sandboxes_size();
  }
};

TEST_F(OsbdHealthTest, ACommandProbeHoldsCreateUntilItPasses) {
  v1::CreateSandboxRequest request;
  request.add_entrypoint("bash");
  request.add_entrypoint("-c");
  request.add_entrypoint("sleep 1; touch /tmp/ready; sleep infinity");
  request.mutable_health_check()->mutable_command()->set_command("test -f /tmp/ready");
  *request.mutable_health_check()->mutable_polling_interval() =
      TimeUtil::MillisecondsToDuration(50);
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ExitCodeOf(sandbox.id(), "test -f /tmp/ready"), 0);
}

TEST_F(OsbdHealthTest, AnHttpProbeWaitsForTheSandboxsServer) {
  v1::CreateSandboxRequest request;
  request.add_entrypoint("bash");
  request.add_entrypoint("-c");
  request.add_entrypoint("sleep 1; cd /tmp && exec python3 -m http.server 8000");
  v1::HttpProbe* http = request.mutable_health_check()->mutable_http();
  http->set_port(8000);
  http->set_path("/");
  http->add_expected_status(200);
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ExitCodeOf(sandbox.id(), "exec 3<>/dev/tcp/127.0.0.1/8000"), 0);
}

TEST_F(OsbdHealthTest, ATcpProbeWaitsForAListeningSocket) {
  v1::CreateSandboxRequest request;
  request.add_entrypoint("bash");
  request.add_entrypoint("-c");
  // Not HTTP: the probe asks only that something listens.
  request.add_entrypoint(
      "sleep 1; exec python3 -c 'import socket,time; s=socket.socket(); "
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\", 7001)); "
      "s.listen(); time.sleep(3600)'");
  request.mutable_health_check()->mutable_tcp()->set_port(7001);
  *request.mutable_health_check()->mutable_polling_interval() =
      TimeUtil::MillisecondsToDuration(50);
  const absl::Time start = absl::Now();
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(absl::Now() - start, absl::Seconds(1)) << "ready only once the port listens";
  EXPECT_EQ(ExitCodeOf(sandbox.id(), "exec 3<>/dev/tcp/127.0.0.1/7001"), 0);
}

TEST_F(OsbdHealthTest, ATcpProbeOnAPortNobodyListensOnTimesOutSayingSo) {
  v1::CreateSandboxRequest request;
  request.mutable_health_check()->mutable_tcp()->set_port(7002);
  *request.mutable_ready_timeout() = TimeUtil::SecondsToDuration(2);
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_NE(status.error_message().find("TCP port 7002"), std::string::npos)
      << status.error_message();
}

TEST_F(OsbdHealthTest, AProbeThatNeverPassesTimesOutAndLeavesNoSandbox) {
  v1::CreateSandboxRequest request;
  request.mutable_health_check()->mutable_command()->set_command("exit 3");
  *request.mutable_ready_timeout() = TimeUtil::SecondsToDuration(2);
  v1::Sandbox sandbox;
  grpc::Status status = Create(request, &sandbox);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_NE(status.error_message().find("exit 3"), std::string::npos) << status.error_message();
  // osbd deletes the sandbox it gave up on right after answering.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (SandboxCount() != 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(SandboxCount(), 0);
}

TEST_F(OsbdHealthTest, MalformedProbesAreRefused) {
  for (int i = 0; i < 5; ++i) {
    v1::CreateSandboxRequest request;
    if (i == 0) request.mutable_health_check()->mutable_http()->set_port(0);
    if (i == 1) request.mutable_health_check()->mutable_http()->set_port(70000);
    if (i == 2) request.mutable_health_check()->mutable_command();
    if (i == 3) request.mutable_health_check()->mutable_tcp()->set_port(0);
    if (i == 4) request.mutable_health_check()->mutable_tcp()->set_port(65536);
    v1::Sandbox sandbox;
    EXPECT_EQ(Create(request, &sandbox).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
  }
  v1::CreateSandboxRequest bad_path;
  bad_path.mutable_health_check()->mutable_http()->set_port(80);
  bad_path.mutable_health_check()->mutable_http()->set_path("no-slash");
  v1::Sandbox sandbox;
  EXPECT_EQ(Create(bad_path, &sandbox).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SandboxCount(), 0);
}

TEST_F(OsbdHealthTest, ResumeProbesToo) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::PauseSandboxRequest request;
    request.set_sandbox_id(id);
    request.set_wait(true);
    v1::PauseSandboxResponse paused;
    grpc::Status status = sandboxes_->Pause(&ctx, request, &paused);
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) GTEST_SKIP() << "no freezer";
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ResumeSandboxRequest request;
  request.set_sandbox_id(id);
  request.mutable_health_check()->mutable_command()->set_command("echo ok");
  v1::ResumeSandboxResponse resumed;
  grpc::Status status = sandboxes_->Resume(&ctx, request, &resumed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resumed.sandbox().status().state(), "Running");
}

// A sandbox as a lifecycle service describes it: in `state`, with `message` as its status's.
std::string SandboxJson(const char* state, const char* message) {
  return absl::StrCat(R"({"id":"sb-1","image":{"uri":"debian"},"entrypoint":["sleep"],)",
                      R"("metadata":{},"createdAt":"2026-01-01T00:00:00Z","status":{"state":")",
                      state, R"(","reason":"EXITED","message":")", message, R"("}})");
}

// osbd in front of a lifecycle service of one sandbox, sb-1: a create answers it in the state
// the test names, every later GET says it Failed, each of its ports leads where nothing listens
// (a probe never passes), and DELETEs are counted.
class OsbdUnhealthyTest : public ::testing::Test {
 protected:
  // Starts the service and osbd; `why` is the message of the Failed state.
  void Start(const char* created_state, const char* why) {
    upstream_.Post("/v1/sandboxes", [created_state](const httplib::Request&,
                                                    httplib::Response& res) {
      res.status = 202;
      res.set_content(SandboxJson(created_state, ""), "application/json");
    });
    upstream_.Get("/v1/sandboxes/sb-1", [why](const httplib::Request&, httplib::Response& res) {
      res.set_content(SandboxJson("Failed", why), "application/json");
    });
    upstream_.Get(R"(/v1/sandboxes/sb-1/endpoints/(\d+))",
                  [](const httplib::Request&, httplib::Response& res) {
                    res.set_content(R"({"endpoint":"127.0.0.1:9"})", "application/json");
                  });
    upstream_.Delete("/v1/sandboxes/sb-1", [this](const httplib::Request&,
                                                  httplib::Response& res) {
      ++deletes_;
      res.status = 204;
    });
    const int port = upstream_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port, 0);
    serving_ = std::thread([this] { upstream_.listen_after_bind(); });
    osbd_ = OsbdProcess::Start(absl::StrCat("127.0.0.1:", port), "key");
    ASSERT_NE(osbd_, nullptr);
    sandboxes_ = v1::Sandboxes::NewStub(osbd_->channel());
  }

  void TearDown() override {
    // The client's channel goes before osbd stops: with it (and a call's context) alive, gRPC
    // 1.51 holds osbd's shutdown until the grace period ends.
    sandboxes_.reset();
    osbd_.reset();
    upstream_.stop();
    if (serving_.joinable()) serving_.join();
  }

  grpc::Status Create(v1::CreateSandboxRequest request) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    request.set_image("debian");
    v1::Sandbox sandbox;
    return sandboxes_->Create(&ctx, request, &sandbox);
  }

  // `status` is osbd's word for a sandbox that failed while it was awaited: FAILED_PRECONDITION
  // with what the service said (`said`) and the ErrorInfo reason OSBD::SANDBOX_UNHEALTHY.
  static void ExpectUnhealthy(const grpc::Status& status, const std::string& said) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << status.error_message();
    EXPECT_NE(status.error_message().find(said), std::string::npos) << status.error_message();
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(status.error_details())) << "no google.rpc.Status";
    ASSERT_GE(details.details_size(), 1);
    google::rpc::ErrorInfo info;
    ASSERT_TRUE(details.details(0).UnpackTo(&info)) << details.details(0).type_url();
    EXPECT_EQ(info.reason(), "OSBD::SANDBOX_UNHEALTHY");
  }

  // Waits up to 10 s for the one DELETE of the failed sandbox.
  void ExpectDeleted() {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (deletes_ == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    EXPECT_EQ(deletes_, 1) << "the failed sandbox is deleted";
  }

 private:
  httplib::Server upstream_;
  std::thread serving_;
  std::atomic<int> deletes_ = 0;
  std::unique_ptr<OsbdProcess> osbd_;
  std::unique_ptr<v1::Sandboxes::Stub> sandboxes_;
};

// A new sandbox Pending at first and then Failed, as a service reports one whose entrypoint died:
// osbd stops waiting at once, says the sandbox is unhealthy (with the service's reason), and
// deletes it.
TEST_F(OsbdUnhealthyTest, ASandboxThatFailsWhileAwaitedIsUnhealthyAndDeleted) {
  ASSERT_NO_FATAL_FAILURE(Start("Pending", "it exited 1"));
  ExpectUnhealthy(Create({}), "Failed: it exited 1");
  ExpectDeleted();
}

// A sandbox that is Running, whose health probe never passes, and that fails meanwhile: osbd
// says it is unhealthy as soon as it looks at its state again (every half second of failed
// probes), not a ready timeout at the deadline.
TEST_F(OsbdUnhealthyTest, ASandboxThatFailsWhileItsProbeFailsIsUnhealthy) {
  ASSERT_NO_FATAL_FAILURE(Start("Running", "it died"));
  v1::CreateSandboxRequest request;
  request.mutable_health_check()->mutable_http()->set_port(8999);
  *request.mutable_ready_timeout() = TimeUtil::SecondsToDuration(20);
  const absl::Time start = absl::Now();
  grpc::Status status = Create(request);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << "waited for the ready timeout";
  ExpectUnhealthy(status, "Failed: it died");
  ExpectDeleted();
}

}  // namespace
}  // namespace osb::test
