// The SDK's link to osbd: one gRPC channel to its socket, the stubs on it, and the per-request
// Connection message every call carries (from the Options the handle was made with).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/options.h"
#include "opensandbox/v1/code.grpc.pb.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/files.grpc.pb.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"

namespace opensandbox::internal {

namespace v1 = ::opensandbox::v1;

class DaemonConnection {
 public:
  // Connects to osbd as `options` say (SocketPathOption, DaemonBinaryOption; see options.h),
  // starting it when asked to and nothing answers. kUnavailable when no daemon can be reached.
  static absl::StatusOr<std::shared_ptr<DaemonConnection>> Open(const Options& options);

  v1::Sandboxes::Stub& sandboxes() { return *sandboxes_; }
  v1::Commands::Stub& commands() { return *commands_; }
  v1::Code::Stub& code() { return *code_; }
  v1::Files::Stub& files() { return *files_; }
  v1::Templates::Stub& templates() { return *templates_; }
  v1::Pools::Stub& pools() { return *pools_; }

  // The upstream service every request names.
  const v1::Connection& connection() const { return connection_; }

  // A context for a call that answers once: CallTimeoutOption's deadline.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;
  // A context for a stream of output: no deadline (the command's own timeout bounds it).
  std::unique_ptr<grpc::ClientContext> StreamContext() const;

  // Calls a unary RPC, with `request`'s connection set when it has one; the status converted for
  // the SDK.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(
      Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
      Request request) {
    if constexpr (requires { request.mutable_connection(); }) {
      *request.mutable_connection() = connection_;
    }
    Response response;
    auto ctx = UnaryContext();
    grpc::Status status = (stub.*method)(ctx.get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  // The SDK's status for a gRPC one: the same code and message, with osbd's ErrorInfo and
  // RetryInfo details kept as payloads for GetErrorDetails.
  static absl::Status FromGrpcStatus(const grpc::Status& status);

 private:
  DaemonConnection(std::shared_ptr<grpc::Channel> channel, const Options& options);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Sandboxes::Stub> sandboxes_;
  std::unique_ptr<v1::Commands::Stub> commands_;
  std::unique_ptr<v1::Code::Stub> code_;
  std::unique_ptr<v1::Files::Stub> files_;
  std::unique_ptr<v1::Templates::Stub> templates_;
  std::unique_ptr<v1::Pools::Stub> pools_;
  v1::Connection connection_;
  absl::Duration call_timeout_;
};

// The error of a call on a handle after its Close().
inline absl::Status HandleClosed() {
  return absl::FailedPreconditionError("the sandbox handle is closed");
}

}  // namespace opensandbox::internal
