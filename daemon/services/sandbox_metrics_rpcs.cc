// Sandboxes.GetMetrics and WatchMetrics: the sandbox's execd GET /metrics and /metrics/watch.
// WatchMetrics runs until the client cancels; if the upstream stream ends first, the call ends
// UNAVAILABLE saying why.
#include <memory>
#include <string>

#include "daemon/convert.h"
#include "daemon/services/execd_call.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/unary_call.h"
#include "daemon/services/sandboxes_service.h"
#include "daemon/services/upstream_stream.h"
#include "nlohmann/json.hpp"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;

// Samples queued for a slow client before osbd stops reading (one arrives a second).
constexpr std::size_t kHighWater = 16;
constexpr std::size_t kLowWater = 4;

class WatchReactor final : public UpstreamStream<WatchReactor, v1::SandboxMetrics> {
 public:
  WatchReactor(DaemonContext& context, grpc::CallbackServerContext* ctx)
      : UpstreamStream(context, ctx, kHighWater, kLowWater) {}

  void Start(const Origin& origin, const std::string& sandbox_id) {
    context_.WithExecd(origin, sandbox_id, [link = link()](absl::StatusOr<ExecdEndpoint> endpoint) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() == nullptr) return;
      if (!endpoint.ok()) return link->reactor()->End(ToGrpcStatus(endpoint.status()));
      link->reactor()->StartWatchLocked(*endpoint);
    });
  }

 private:
  // Called with link()->mu held.
  void StartWatchLocked(const ExecdEndpoint& endpoint) {
    MetricsHandler handler;
    handler.on_metrics = [link = link()](rest::Metrics metrics) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() == nullptr) return DataAction::kAbort;
      return link->reactor()->OnMetrics(metrics);
    };
    handler.on_end = [link = link()](absl::Status status) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() != nullptr) link->reactor()->OnEnd(std::move(status));
    };
    absl::MutexLock lock(&mu_);
    SetTransferLocked(context_.execd().WatchMetrics(endpoint, std::move(handler)));
  }

  DataAction OnMetrics(const rest::Metrics& metrics) {
    absl::MutexLock lock(&mu_);
    return QueueLocked(ToProto(metrics));
  }

  void OnEnd(absl::Status status) {
    absl::MutexLock lock(&mu_);
    TransferEndedLocked();
    FinishAfterQueueLocked(ToGrpcStatus(status));
  }
};

}  // namespace

grpc::ServerUnaryReactor* SandboxesService::GetMetrics(grpc::CallbackServerContext* ctx,
                                                       const v1::GetSandboxMetricsRequest* request,
                                                       v1::SandboxMetrics* response) {
  auto* reactor = new UnaryCall;
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response](const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(
                         endpoint, "GET", "/metrics", "",
                         FinishFromExecd(reactor, [response](const HttpResult& r) -> absl::Status {
                           auto metrics =
                               rest::ParseMetrics(nlohmann::json::parse(r.body, nullptr, false));
                           if (!metrics.ok())
                             return absl::DataLossError(metrics.status().message());
                           *response = ToProto(*metrics);
                           return absl::OkStatus();
                         }));
                   }, ctx);
  return reactor;
}

grpc::ServerWriteReactor<v1::SandboxMetrics>* SandboxesService::WatchMetrics(
    grpc::CallbackServerContext* ctx, const v1::WatchSandboxMetricsRequest* request) {
  auto* reactor = new WatchReactor(context_, ctx);
  auto origin = context_.ResolveForSandbox(request->connection(), request->sandbox_id());
  if (!origin.ok()) {
    reactor->Finish(ToGrpcStatus(origin.status()));
    return reactor;
  }
  reactor->Start(*origin, request->sandbox_id());
  return reactor;
}

}  // namespace osb::daemon
