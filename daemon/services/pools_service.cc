#include "daemon/services/pools_service.h"

#include <memory>

#include "daemon/convert.h"
#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/warm_pools.h"
#include "google/protobuf/util/time_util.h"

namespace osb::daemon {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

namespace {

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* PoolsService::Define(grpc::CallbackServerContext* ctx,
                                               const v1::DefinePoolRequest* request,
                                               v1::Pool* response) {
  auto pool = context_.pools().Define(request->pool());
  if (pool.ok()) *response = *std::move(pool);
  return Answer(ctx, pool.status());
}

grpc::ServerUnaryReactor* PoolsService::Delete(grpc::CallbackServerContext* ctx,
                                               const v1::DeletePoolRequest* request,
                                               v1::DeletePoolResponse*) {
  if (auto s = RequiredField(request->name(), "name"); !s.ok()) return Answer(ctx, s);
  return Answer(ctx, context_.pools().Delete(request->name(), request->keep_idle()));
}

grpc::ServerUnaryReactor* PoolsService::List(grpc::CallbackServerContext* ctx,
                                             const v1::ListPoolsRequest*,
                                             v1::ListPoolsResponse* response) {
  for (auto& pool : context_.pools().List()) *response->add_pools() = std::move(pool);
  return Answer(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* PoolsService::GetStats(grpc::CallbackServerContext* ctx,
                                                 const v1::GetPoolStatsRequest* request,
                                                 v1::PoolStats* response) {
  if (auto s = RequiredField(request->name(), "name"); !s.ok()) return Answer(ctx, s);
  auto pool = context_.pools().Find(request->name());
  if (pool == nullptr) return Answer(ctx, NoSuchPool(request->name()));
  *response = pool->Stats();
  return Answer(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* PoolsService::Acquire(grpc::CallbackServerContext* ctx,
                                                const v1::AcquireSandboxRequest* request,
                                                v1::AcquireSandboxResponse* response) {
  if (auto s = RequiredField(request->pool_name(), "pool_name"); !s.ok()) return Answer(ctx, s);
  auto pool = context_.pools().Find(request->pool_name());
  if (pool == nullptr) return Answer(ctx, NoSuchPool(request->pool_name()));
  std::optional<absl::Duration> timeout;
  if (request->has_sandbox_timeout()) {
    timeout = ToAbsl(request->sandbox_timeout());
    if (*timeout < absl::Seconds(60)) {
      return Answer(ctx, InvalidField("sandbox_timeout", "must be at least 60 s"));
    }
  }
  // The lease holder is checked before anything is handed out, and held from then on.
  std::shared_ptr<UniqueFd> holder;
  if (request->lease() != v1::LEASE_MODE_UNSPECIFIED) {
    auto opened = context_.leases().OpenHolder(request->lease_pid());
    if (!opened.ok()) return Answer(ctx, opened.status());
    holder = std::make_shared<UniqueFd>(*std::move(opened));
  }
  const LeaseKeeper::Mode mode = request->lease() == v1::LEASE_MODE_RENEW_WHILE_ALIVE
                                     ? LeaseKeeper::Mode::kRenewWhileAlive
                                     : LeaseKeeper::Mode::kKillOnExit;
  // The renewal step of a renew-while-alive lease: the sandbox's timeout, else the default's.
  const absl::Duration lease_ttl = timeout.value_or(absl::Minutes(10));
  std::map<std::string, std::string> labels;
  if (holder != nullptr) {
    labels = LeaseKeeper::Labels(context_.info().owner, request->lease_pid(), mode, lease_ttl);
  }
  auto* reactor = ctx->DefaultReactor();
  DaemonContext& context = context_;
  pool->Acquire(request->policy(), timeout, std::move(labels),
                [reactor, response, holder, mode, lease_ttl, pool,
                 &context](absl::StatusOr<WarmPool::Acquired> acquired) {
                  if (!acquired.ok()) return reactor->Finish(ToGrpcStatus(acquired.status()));
                  if (holder != nullptr) {
                    context.leases().Add(pool->origin(), acquired->sandbox.id, std::move(*holder),
                                         mode, lease_ttl);
                  }
                  *response->mutable_sandbox() = ToProto(acquired->sandbox);
                  response->set_warm(acquired->warm);
                  reactor->Finish(grpc::Status::OK);
                });
  return reactor;
}

grpc::ServerUnaryReactor* PoolsService::Release(grpc::CallbackServerContext* ctx,
                                                const v1::ReleaseSandboxRequest* request,
                                                v1::ReleaseSandboxResponse* response) {
  if (auto s = RequiredField(request->pool_name(), "pool_name"); !s.ok()) return Answer(ctx, s);
  auto pool = context_.pools().Find(request->pool_name());
  if (pool == nullptr) return Answer(ctx, NoSuchPool(request->pool_name()));
  if (auto s = RequiredField(request->sandbox_id(), "sandbox_id"); !s.ok()) {
    return Answer(ctx, s);
  }
  context_.leases().Forget(request->sandbox_id());
  auto* reactor = ctx->DefaultReactor();
  pool->Release(request->sandbox_id(), request->reuse(),
                [reactor, response](absl::StatusOr<bool> reused) {
                  if (reused.ok()) response->set_reused(*reused);
                  reactor->Finish(ToGrpcStatus(reused.status()));
                });
  return reactor;
}

}  // namespace osb::daemon
