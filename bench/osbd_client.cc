#include "bench/osbd_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "absl/time/clock.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/daemon.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"

namespace osb::bench {
namespace {

namespace v1 = opensandbox::v1;

absl::Status ToAbsl(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace

struct OsbdClient::Stubs {
  std::unique_ptr<v1::Sandboxes::Stub> sandboxes;
  std::unique_ptr<v1::Commands::Stub> commands;
  std::unique_ptr<v1::Daemon::Stub> daemon;
};

std::shared_ptr<grpc::Channel> ConnectOsbd(const std::string& socket_path, bool own_connection) {
  grpc::ChannelArguments args;
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Large command outputs arrive as many small messages; no message comes near the default cap.
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

OsbdClient::OsbdClient(std::shared_ptr<grpc::Channel> channel)
    : stubs_(new Stubs{v1::Sandboxes::NewStub(channel), v1::Commands::NewStub(channel),
                       v1::Daemon::NewStub(channel)}) {}

OsbdClient::~OsbdClient() = default;

absl::StatusOr<std::string> OsbdClient::Create() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::CreateSandboxRequest request;
  request.set_image("host");
  v1::Sandbox sandbox;
  grpc::Status s = stubs_->sandboxes->Create(&ctx, request, &sandbox);
  if (!s.ok()) return ToAbsl(s);
  return sandbox.id();
}

absl::Status OsbdClient::Kill(const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::KillSandboxRequest request;
  request.set_sandbox_id(id);
  v1::KillSandboxResponse response;
  return ToAbsl(stubs_->sandboxes->Kill(&ctx, request, &response));
}

absl::Status OsbdClient::Get(const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetSandboxRequest request;
  request.set_sandbox_id(id);
  v1::Sandbox sandbox;
  return ToAbsl(stubs_->sandboxes->Get(&ctx, request, &sandbox));
}

absl::Status OsbdClient::Version() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetVersionRequest request;
  v1::GetVersionResponse response;
  return ToAbsl(stubs_->daemon->GetVersion(&ctx, request, &response));
}

absl::StatusOr<OsbdClient::Upstream> OsbdClient::UpstreamPool() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetDaemonStatsRequest request;
  v1::DaemonStats stats;
  if (grpc::Status s = stubs_->daemon->GetStats(&ctx, request, &stats); !s.ok()) return ToAbsl(s);
  Upstream pool;
  for (const auto& origin : stats.origins()) {
    pool.requests += origin.requests();
    pool.connections_opened += origin.connections_opened();
    pool.open_connections += origin.open_connections();
  }
  return pool;
}

absl::StatusOr<RunResult> OsbdClient::Run(const std::string& id, const std::string& command,
                                          const std::function<void()>& on_first_stdout,
                                          absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::RunCommandRequest request;
  request.set_sandbox_id(id);
  request.set_command(command);
  auto reader = stubs_->commands->Run(&ctx, request);
  v1::CommandEvent event;
  RunResult result;
  bool terminal = false;
  while (reader->Read(&event)) {
    switch (event.kind_case()) {
      case v1::CommandEvent::kStdout:
        if (result.stdout_lines++ == 0 && on_first_stdout) on_first_stdout();
        result.stdout_bytes += event.stdout().data().size();
        break;
      case v1::CommandEvent::kCompleted:
        result.exit_code = 0;
        terminal = true;
        break;
      case v1::CommandEvent::kFailed:
        result.exit_code = event.failed().has_exit_code() ? event.failed().exit_code() : -1;
        terminal = true;
        break;
      case v1::CommandEvent::kBroken:
        return absl::DataLossError("stream broken: " + event.broken().reason());
      default:
        break;
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return ToAbsl(s);
  if (!terminal) return absl::DataLossError("command stream ended without a terminal event");
  return result;
}

}  // namespace osb::bench
