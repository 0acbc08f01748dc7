// Pools: warm pools of ready sandboxes kept by osbd (WarmPools). Define, Delete, List and
// GetStats answer at once; Acquire hands out an idle member (or creates one, or fails fast) and
// can put a lease on it as Sandboxes.Create does; Release kills or reuses a sandbox.
#pragma once

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/pools.grpc.pb.h"

namespace osb::daemon {

class PoolsService final : public opensandbox::v1::Pools::CallbackService {
 public:
  explicit PoolsService(DaemonContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* Define(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::DefinePoolRequest* request,
                                   opensandbox::v1::Pool* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::DeletePoolRequest* request,
                                   opensandbox::v1::DeletePoolResponse* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const opensandbox::v1::ListPoolsRequest* request,
                                 opensandbox::v1::ListPoolsResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx,
                                     const opensandbox::v1::GetPoolStatsRequest* request,
                                     opensandbox::v1::PoolStats* response) override;
  grpc::ServerUnaryReactor* Acquire(grpc::CallbackServerContext* ctx,
                                    const opensandbox::v1::AcquireSandboxRequest* request,
                                    opensandbox::v1::AcquireSandboxResponse* response) override;
  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* ctx,
                                    const opensandbox::v1::ReleaseSandboxRequest* request,
                                    opensandbox::v1::ReleaseSandboxResponse* response) override;

 private:
  DaemonContext& context_;
};

}  // namespace osb::daemon
