// Daemon: version handshake, statistics (per gRPC method, from CallStats; pools, leases and
// journals as gauges) and shutdown.
#pragma once

#include <functional>

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/daemon.grpc.pb.h"

namespace osb::daemon {

// What Daemon.GetStats answers and the Prometheus endpoint shows.
opensandbox::v1::DaemonStats CollectDaemonStats(DaemonContext& context);

class DaemonService final : public opensandbox::v1::Daemon::CallbackService {
 public:
  // `shutdown` is called once Shutdown has answered, with the grace and whether the embedded
  // runtime is to be stopped too; it must not block.
  using ShutdownFn = std::function<void(absl::Duration grace, bool stop_embedded_runtime)>;
  DaemonService(DaemonContext& context, ShutdownFn shutdown)
      : context_(context), shutdown_(std::move(shutdown)) {}

  grpc::ServerUnaryReactor* GetVersion(grpc::CallbackServerContext* ctx,
                                       const opensandbox::v1::GetVersionRequest* request,
                                       opensandbox::v1::GetVersionResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx,
                                     const opensandbox::v1::GetDaemonStatsRequest* request,
                                     opensandbox::v1::DaemonStats* response) override;
  grpc::ServerUnaryReactor* Shutdown(grpc::CallbackServerContext* ctx,
                                     const opensandbox::v1::ShutdownRequest* request,
                                     opensandbox::v1::ShutdownResponse* response) override;

 private:
  DaemonContext& context_;
  ShutdownFn shutdown_;
};

}  // namespace osb::daemon
