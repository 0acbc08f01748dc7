#include "client/src/daemon_connection.h"

#include <chrono>
#include <cstdlib>

#include "client/src/daemon_channel.h"
#include "client/src/error_payloads.h"
#include "google/protobuf/util/time_util.h"
#include "rest/sys/default_paths.h"

namespace opensandbox::internal {
namespace {

constexpr absl::Duration kDefaultCallTimeout = absl::Minutes(5);

// Option T when set, else the environment variable `env`, else "".
template <typename T>
std::string OptionOrEnv(const Options& options, const char* env) {
  if (options.has<T>()) return options.get<T>();
  return osb::GetEnv(env);
}

}  // namespace

absl::StatusOr<std::shared_ptr<DaemonConnection>> DaemonConnection::Open(const Options& options) {
  std::string socket = OptionOrEnv<SocketPathOption>(options, "OSBD_SOCKET");
  if (socket.empty()) socket = osb::DefaultSocketPath();
  const std::string binary = OptionOrEnv<DaemonBinaryOption>(options, "OSBD_BINARY");
  auto channel = binary.empty() ? ConnectToDaemon(socket, absl::Seconds(2))
                                : ConnectOrStartDaemon(socket, binary);
  if (!channel.ok()) {
    if (binary.empty()) {
      return absl::UnavailableError(absl::StrCat(
          channel.status().message(),
          " (start osbd, or name an osbd binary in DaemonBinaryOption or OSBD_BINARY)"));
    }
    return channel.status();
  }
  return std::shared_ptr<DaemonConnection>(new DaemonConnection(*std::move(channel), options));
}

DaemonConnection::DaemonConnection(std::shared_ptr<grpc::Channel> channel, const Options& options)
    : channel_(std::move(channel)),
      sandboxes_(v1::Sandboxes::NewStub(channel_)),
      commands_(v1::Commands::NewStub(channel_)),
      code_(v1::Code::NewStub(channel_)),
      files_(v1::Files::NewStub(channel_)),
      templates_(v1::Templates::NewStub(channel_)),
      pools_(v1::Pools::NewStub(channel_)),
      call_timeout_(options.get_or<CallTimeoutOption>(kDefaultCallTimeout)) {
  connection_.set_domain(OptionOrEnv<DomainOption>(options, "OPEN_SANDBOX_DOMAIN"));
  connection_.set_api_key(OptionOrEnv<ApiKeyOption>(options, "OPEN_SANDBOX_API_KEY"));
  connection_.set_protocol(OptionOrEnv<ProtocolOption>(options, "OPEN_SANDBOX_PROTOCOL"));
  for (const auto& [name, value] : options.get<HeadersOption>()) {
    (*connection_.mutable_headers())[name] = value;
  }
  connection_.set_use_server_proxy(options.get<UseServerProxyOption>());
  if (options.has<RequestTimeoutOption>()) {
    *connection_.mutable_request_timeout() =
        google::protobuf::util::TimeUtil::MillisecondsToDuration(
            absl::ToInt64Milliseconds(options.get<RequestTimeoutOption>()));
  }
  connection_.set_profile(options.get<ProfileOption>());
}

std::unique_ptr<grpc::ClientContext> DaemonConnection::UnaryContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(call_timeout_));
  return ctx;
}

std::unique_ptr<grpc::ClientContext> DaemonConnection::StreamContext() const {
  return std::make_unique<grpc::ClientContext>();
}

absl::Status DaemonConnection::FromGrpcStatus(const grpc::Status& status) {
  // absl and gRPC share the canonical code numbering.
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  AttachDetails(status.error_details(), out);
  return out;
}

}  // namespace opensandbox::internal
