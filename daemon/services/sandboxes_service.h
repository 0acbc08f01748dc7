// Sandboxes: the lifecycle RPCs over the OpenSandbox lifecycle API. Create and Resume wait until
// the sandbox answers execd /ping (or skip that when asked); a sandbox whose creation fails or is
// cancelled after the server made it is killed, so no caller is left owning a sandbox it never
// heard of. A Create with a lease hands the sandbox to the LeaseKeeper once it is ready; Kill ends
// the lease. CreateSnapshot can wait until the snapshot is Ready or Failed. RPCs not listed here
// answer UNIMPLEMENTED (the generated base class does).
#pragma once

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"

namespace osb::daemon {

class SandboxesService final : public opensandbox::v1::Sandboxes::CallbackService {
 public:
  explicit SandboxesService(DaemonContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::CreateSandboxRequest* request,
                                   opensandbox::v1::Sandbox* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx,
                                const opensandbox::v1::GetSandboxRequest* request,
                                opensandbox::v1::Sandbox* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const opensandbox::v1::ListSandboxesRequest* request,
                                 opensandbox::v1::ListSandboxesResponse* response) override;
  grpc::ServerUnaryReactor* Kill(grpc::CallbackServerContext* ctx,
                                 const opensandbox::v1::KillSandboxRequest* request,
                                 opensandbox::v1::KillSandboxResponse* response) override;
  grpc::ServerUnaryReactor* Pause(grpc::CallbackServerContext* ctx,
                                  const opensandbox::v1::PauseSandboxRequest* request,
                                  opensandbox::v1::PauseSandboxResponse* response) override;
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::ResumeSandboxRequest* request,
                                   opensandbox::v1::ResumeSandboxResponse* response) override;
  grpc::ServerUnaryReactor* Renew(grpc::CallbackServerContext* ctx,
                                  const opensandbox::v1::RenewSandboxRequest* request,
                                  opensandbox::v1::RenewSandboxResponse* response) override;
  grpc::ServerUnaryReactor* PatchMetadata(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::PatchSandboxMetadataRequest* request,
      opensandbox::v1::Sandbox* response) override;
  grpc::ServerUnaryReactor* CreateSnapshot(grpc::CallbackServerContext* ctx,
                                           const opensandbox::v1::CreateSnapshotRequest* request,
                                           opensandbox::v1::Snapshot* response) override;
  grpc::ServerUnaryReactor* GetSnapshot(grpc::CallbackServerContext* ctx,
                                        const opensandbox::v1::GetSnapshotRequest* request,
                                        opensandbox::v1::Snapshot* response) override;
  grpc::ServerUnaryReactor* ListSnapshots(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::ListSnapshotsRequest* request,
      opensandbox::v1::ListSnapshotsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteSnapshot(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::DeleteSnapshotRequest* request,
      opensandbox::v1::DeleteSnapshotResponse* response) override;
  grpc::ServerUnaryReactor* GetEndpoint(grpc::CallbackServerContext* ctx,
                                        const opensandbox::v1::GetEndpointRequest* request,
                                        opensandbox::v1::Endpoint* response) override;

  // In sandbox_metrics_rpcs.cc: execd GET /metrics and /metrics/watch.
  grpc::ServerUnaryReactor* GetMetrics(grpc::CallbackServerContext* ctx,
                                       const opensandbox::v1::GetSandboxMetricsRequest* request,
                                       opensandbox::v1::SandboxMetrics* response) override;
  grpc::ServerWriteReactor<opensandbox::v1::SandboxMetrics>* WatchMetrics(
      grpc::CallbackServerContext* ctx,
      const opensandbox::v1::WatchSandboxMetricsRequest* request) override;

 private:
  DaemonContext& context_;
};

}  // namespace osb::daemon
