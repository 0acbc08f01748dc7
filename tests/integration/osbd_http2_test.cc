// osbd against an HTTP/2 origin: osb-runtime behind nghttpx, a TLS-terminating HTTP/2 proxy
// with a certificate of the test's own CA. osbd trusts it through --ca-file, negotiates h2 by
// ALPN, and carries lifecycle calls, a command stream, an upload and a download as streams
// multiplexed over its connection; without the CA it refuses the origin.
#include <arpa/inet.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/daemon.grpc.pb.h"
#include "opensandbox/v1/files.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "tests/integration/harness.h"
#include "tests/integration/osbd_process.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

std::string FindNghttpx() {
  for (const char* path : {"/usr/sbin/nghttpx", "/usr/bin/nghttpx", "/usr/local/bin/nghttpx"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

// A loopback port nothing listens on now.
int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return -1;
  }
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

class OsbdHttp2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string nghttpx = FindNghttpx();
    if (nghttpx.empty()) GTEST_SKIP() << "nghttpx (Debian nghttp2-proxy) is not installed";
    runtime_ = RuntimeProcess::Start();
    ASSERT_NE(runtime_, nullptr);
    cert_ = dir_.path() + "/cert.pem";
    const std::string key = dir_.path() + "/key.pem";
    ProcessResult made = RunProcess(
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert_,
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::vector<std::string> backend = absl::StrSplit(runtime_->address(), ':');
    ASSERT_EQ(backend.size(), 2u);
    access_log_ = dir_.path() + "/access.log";
    proxy_log_ = dir_.path() + "/nghttpx.log";
    // The free port may be taken before nghttpx binds it (by another test's connection, on a
    // busy machine): nghttpx then exits, and gets another.
    for (int attempt = 0; attempt < 5 && proxy_pid_ < 0; ++attempt) {
      port_ = FreePort();
      ASSERT_GT(port_, 0);
      // --conf=/dev/null: Debian's /etc/nghttpx/nghttpx.conf adds a frontend on port 3000, which
      // two of these tests at once would both bind.
      const pid_t pid = Spawn({nghttpx, "--conf=/dev/null",
                               absl::StrCat("--frontend=127.0.0.1,", port_),
                               absl::StrCat("--backend=", backend[0], ",", backend[1]),
                               "--workers=1", "--accesslog-file=" + access_log_,
                               "--accesslog-format=$alpn $request $status",
                               "--errorlog-file=" + proxy_log_, "--no-ocsp", key, cert_},
                              dir_.path() + "/nghttpx.out");
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      bool exited = false;
      while (!Accepts(port_) && !exited && absl::Now() < deadline) {
        exited = ::waitpid(pid, nullptr, WNOHANG) == pid;
        absl::SleepFor(absl::Milliseconds(20));
      }
      if (exited) continue;
      proxy_pid_ = pid;
    }
    ASSERT_GT(proxy_pid_, 0) << "nghttpx did not come up";
    ASSERT_TRUE(Accepts(port_)) << "nghttpx did not come up";
  }

  void TearDown() override {
    if (proxy_pid_ > 0) StopProcess(proxy_pid_, true);
    PrintLogsIfFailed({dir_.path() + "/nghttpx.out", proxy_log_, access_log_});
  }

  std::string Domain() const { return absl::StrCat("https://127.0.0.1:", port_); }

  TempDir dir_;
  std::unique_ptr<RuntimeProcess> runtime_;
  std::string cert_, access_log_, proxy_log_;
  int port_ = -1;
  pid_t proxy_pid_ = -1;
};

TEST_F(OsbdHttp2Test, EveryKindOfCallTravelsAsHttp2StreamsOnSharedConnections) {
  auto osbd = OsbdProcess::Start(Domain(), runtime_->api_key(), {"--ca-file", cert_});
  ASSERT_NE(osbd, nullptr);
  auto sandboxes = v1::Sandboxes::NewStub(osbd->channel());
  auto commands = v1::Commands::NewStub(osbd->channel());
  auto files = v1::Files::NewStub(osbd->channel());

  v1::Sandbox sandbox;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSandboxRequest request;
    request.set_image("host");
    grpc::Status status = sandboxes->Create(&ctx, request, &sandbox);
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  }

  // A command stream stays open while other calls go out beside it.
  std::string output;
  grpc::Status run_status;
  std::thread run([&] {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::RunCommandRequest request;
    request.set_sandbox_id(sandbox.id());
    request.set_command("echo first; sleep 1; echo second");
    auto reader = commands->Run(&ctx, request);
    v1::CommandEvent event;
    while (reader->Read(&event)) {
      if (event.has_stdout()) absl::StrAppend(&output, event.stdout().data(), "\n");
    }
    run_status = reader->Finish();
  });
  std::vector<std::thread> gets;
  std::vector<grpc::Status> get_status(4);
  for (int i = 0; i < 4; ++i) {
    gets.emplace_back([&, i] {
      grpc::ClientContext ctx;
      SetDeadline(ctx);
      v1::GetSandboxRequest request;
      request.set_sandbox_id(sandbox.id());
      v1::Sandbox got;
      get_status[i] = sandboxes->Get(&ctx, request, &got);
    });
  }
  for (auto& t : gets) t.join();
  for (const auto& s : get_status) EXPECT_TRUE(s.ok()) << s.error_message();

  // An upload and a download (multipart and a streamed body over h2).
  const std::string content(300000, 'z');
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::WriteFileResponse written;
    auto writer = files->Write(&ctx, &written);
    v1::WriteFileRequest header;
    header.mutable_header()->set_sandbox_id(sandbox.id());
    header.mutable_header()->set_path("/tmp/h2.txt");
    ASSERT_TRUE(writer->Write(header));
    v1::WriteFileRequest data;
    data.set_data(content);
    ASSERT_TRUE(writer->Write(data));
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(written.bytes_written(), static_cast<int64_t>(content.size()));
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ReadFileRequest request;
    request.set_sandbox_id(sandbox.id());
    request.set_path("/tmp/h2.txt");
    auto reader = files->Read(&ctx, request);
    std::string read;
    v1::FileChunk chunk;
    while (reader->Read(&chunk)) read += chunk.data();
    grpc::Status status = reader->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(read, content);
  }
  run.join();
  EXPECT_TRUE(run_status.ok()) << run_status.error_message();
  EXPECT_EQ(output, "first\nsecond\n");

  // Every request nghttpx saw came as HTTP/2 (ALPN h2), lifecycle and execd alike.
  auto log = ReadFile(access_log_);
  ASSERT_TRUE(log.ok());
  int lines = 0, execd = 0;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    ++lines;
    EXPECT_TRUE(absl::StartsWith(line, "h2 ")) << line;
    EXPECT_TRUE(absl::StrContains(line, " HTTP/2 ")) << line;
    if (absl::StrContains(line, "/proxy/44772/")) ++execd;
  }
  EXPECT_GE(lines, 10);
  EXPECT_GE(execd, 4) << "ping, command, upload, download";

  // ...and, concurrent as some were, they shared one connection.
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::DaemonStats stats;
  ASSERT_TRUE(v1::Daemon::NewStub(osbd->channel())
                  ->GetStats(&ctx, v1::GetDaemonStatsRequest(), &stats)
                  .ok());
  bool found = false;
  for (const auto& origin : stats.origins()) {
    if (origin.origin() != Domain()) continue;
    found = true;
    EXPECT_GE(origin.requests(), static_cast<uint64_t>(lines));
    EXPECT_EQ(origin.connections_opened(), 1u) << origin.requests() << " requests";
  }
  EXPECT_TRUE(found) << stats.DebugString();

  grpc::ClientContext kill_ctx;
  SetDeadline(kill_ctx);
  v1::KillSandboxRequest kill;
  kill.set_sandbox_id(sandbox.id());
  v1::KillSandboxResponse killed;
  EXPECT_TRUE(sandboxes->Kill(&kill_ctx, kill, &killed).ok());
}

TEST_F(OsbdHttp2Test, AnOriginWhoseCertificateIsNotTrustedIsRefused) {
  auto osbd = OsbdProcess::Start(Domain(), runtime_->api_key());
  ASSERT_NE(osbd, nullptr);
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListSandboxesRequest request;
  v1::ListSandboxesResponse response;
  grpc::Status status =
      v1::Sandboxes::NewStub(osbd->channel())->List(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(status.error_message()), "certificate"))
      << status.error_message();
}

TEST_F(OsbdHttp2Test, AnUnreadableCaFileStopsOsbdAtStart) {
  const std::string missing = dir_.path() + "/no-such-ca.pem";
  ProcessResult r = RunProcess({BinDir() + "/osbd", "--socket", dir_.path() + "/osbd.sock",
                                "--state-dir", dir_.path() + "/state", "--domain", Domain(),
                                "--ca-file", missing});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.out + r.err, missing)) << r.out << r.err;
}

}  // namespace
}  // namespace osb::test
