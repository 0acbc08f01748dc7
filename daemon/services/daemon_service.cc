#include "daemon/services/daemon_service.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/warm_pools.h"
#include "google/protobuf/util/time_util.h"
#include "rest/error.h"

namespace osb::daemon {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

grpc::ServerUnaryReactor* DaemonService::GetVersion(grpc::CallbackServerContext* ctx,
                                                    const v1::GetVersionRequest*,
                                                    v1::GetVersionResponse* response) {
  const DaemonInfo& info = context_.info();
  response->set_daemon_version(info.version);
  response->set_api_version("v1");
  response->set_default_domain(context_.default_origin().authority);
  response->set_embedded_runtime_address(info.embedded_runtime_address);
  *response->mutable_started_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(info.started_at));
  response->set_pid(static_cast<int32_t>(::getpid()));
  response->set_state_dir(info.state_dir);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

v1::DaemonStats CollectDaemonStats(DaemonContext& context) {
  v1::DaemonStats stats;
  const DaemonInfo& info = context.info();
  *stats.mutable_started_at() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(info.started_at));
  *stats.mutable_uptime() =
      TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(absl::Now() - info.started_at));
  for (auto& op : context.call_stats().Operations()) *stats.add_operations() = std::move(op);
  for (const auto& pool : context.pools().List()) {
    auto warm = context.pools().Find(pool.name());
    if (warm == nullptr) continue;
    v1::PoolStats pool_stats = warm->Stats();
    v1::PoolGauge* gauge = stats.add_pools();
    gauge->set_name(pool.name());
    gauge->set_idle(pool_stats.idle());
    gauge->set_creating(pool_stats.creating());
  }
  for (const auto& [name, o] : context.loop().stats().origins) {
    v1::OriginStats* origin = stats.add_origins();
    origin->set_origin(name);
    origin->set_requests(o.requests);
    origin->set_errors(o.errors);
    origin->set_open_connections(o.open_connections);
    // Busy connections carry a transfer each (HTTP/1.1; with HTTP/2 several share one).
    origin->set_idle_connections(o.open_connections > o.in_flight ? o.open_connections - o.in_flight
                                                                   : 0);
    origin->set_connections_opened(o.connections_opened);
    origin->set_bytes_sent(o.bytes_sent);
    origin->set_bytes_received(o.bytes_received);
  }
  stats.set_active_calls(context.call_stats().active());
  auto [journals, bytes] = context.journals().Size();
  stats.set_journalled_commands(journals);
  stats.set_journal_bytes(bytes);
  stats.set_leases(context.leases().size());
  return stats;
}

grpc::ServerUnaryReactor* DaemonService::GetStats(grpc::CallbackServerContext* ctx,
                                                  const v1::GetDaemonStatsRequest*,
                                                  v1::DaemonStats* response) {
  *response = CollectDaemonStats(context_);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* DaemonService::Shutdown(grpc::CallbackServerContext* ctx,
                                                  const v1::ShutdownRequest* request,
                                                  v1::ShutdownResponse*) {
  auto* reactor = ctx->DefaultReactor();
  if (request->stop_embedded_runtime() && context_.info().embedded_runtime_address.empty()) {
    reactor->Finish(ToGrpcStatus(rest::MakeError(
        absl::StatusCode::kFailedPrecondition, "OSBD::RUNTIME_NOT_EMBEDDED",
        absl::StrCat("stop_embedded_runtime: osbd uses the service at ",
                     context_.default_origin().authority,
                     ", not an embedded osb-runtime; osbd keeps running"))));
    return reactor;
  }
  if (request->has_grace() && ToAbsl(request->grace()) < absl::ZeroDuration()) {
    reactor->Finish(ToGrpcStatus(InvalidField("grace", "must not be negative")));
    return reactor;
  }
  const absl::Duration grace = request->has_grace() ? ToAbsl(request->grace()) : absl::Seconds(10);
  reactor->Finish(grpc::Status::OK);
  shutdown_(grace, request->stop_embedded_runtime());
  return reactor;
}

}  // namespace osb::daemon
