// The shape every unary RPC that talks to a sandbox's execd shares: resolve the connection, find
// the sandbox's execd endpoint, make one execd call, and finish the gRPC call with its result or
// the first error on the way.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "daemon/services/daemon_context.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/unary_call.h"
#include "opensandbox/v1/common.pb.h"

namespace osb::daemon {

// Calls `use(endpoint)` once the endpoint is known; finishes `reactor` with the error otherwise.
// `use` runs on the calling thread or on the loop thread and must not block.
// `call`, when given, bounds the upstream requests by its deadline (DaemonContext::Resolve); the
// reactor's cancellation aborts them.
inline void WithSandboxExecd(DaemonContext& context, UnaryCall* reactor,
                             const opensandbox::v1::Connection& connection,
                             const std::string& sandbox_id,
                             std::function<void(const Origin&, const ExecdEndpoint&)> use,
                             const grpc::ServerContextBase* call = nullptr) {
  auto origin = context.ResolveForSandbox(connection, sandbox_id, call, reactor->cancel());
  if (!origin.ok()) return reactor->Finish(ToGrpcStatus(origin.status()));
  context.WithExecd(
      *origin, sandbox_id,
      [reactor, origin = *origin, use = std::move(use)](absl::StatusOr<ExecdEndpoint> endpoint) {
        if (!endpoint.ok()) return reactor->Finish(ToGrpcStatus(endpoint.status()));
        use(origin, *endpoint);
      });
}

// An execd call's callback that finishes `reactor`: with the error, or OK after `fill` has
// written the response from the answer (a `fill` that fails finishes with its status).
template <typename Fill>
std::function<void(absl::StatusOr<HttpResult>)> FinishFromExecd(grpc::ServerUnaryReactor* reactor,
                                                                Fill fill) {
  return [reactor, fill = std::move(fill)](absl::StatusOr<HttpResult> result) {
    if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
    reactor->Finish(ToGrpcStatus(fill(*result)));
  };
}

}  // namespace osb::daemon
