#include "client/src/daemon_connection.h"
#include "client/src/lazy_daemon.h"
#include "client/src/proto_convert.h"
#include "opensandbox/async.h"
#include "opensandbox/pools.h"

namespace opensandbox {

namespace v1 = ::opensandbox::v1;

namespace {

PoolSpec FromProto(const v1::Pool& in) {
  PoolSpec out;
  out.name = in.name();
  out.template_name = in.template_();
  out.min_idle = in.min_idle();
  out.max_idle = in.max_idle();
  out.warmup_concurrency = in.warmup_concurrency();
  if (in.has_idle_timeout()) out.idle_timeout = internal::DurationFromProto(in.idle_timeout());
  if (in.has_acquire_min_remaining_ttl()) {
    out.acquire_min_remaining_ttl = internal::DurationFromProto(in.acquire_min_remaining_ttl());
  }
  return out;
}

std::string StateName(v1::PoolState state) {
  switch (state) {
    case v1::POOL_STATE_RUNNING:
      return "running";
    case v1::POOL_STATE_DEGRADED:
      return "degraded";
    case v1::POOL_STATE_DRAINING:
      return "draining";
    default:
      return "unknown";
  }
}

}  // namespace

PoolManager::PoolManager(Options options)
    : daemon_(std::make_shared<internal::LazyDaemon>(std::move(options))) {}

absl::Status PoolManager::Define(const PoolSpec& pool) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::DefinePoolRequest request;
  v1::Pool* p = request.mutable_pool();
  p->set_name(pool.name);
  *p->mutable_connection() = (*daemon)->connection();
  p->set_template_(pool.template_name);
  p->set_min_idle(pool.min_idle);
  p->set_max_idle(pool.max_idle);
  p->set_warmup_concurrency(pool.warmup_concurrency);
  if (pool.idle_timeout.has_value()) {
    *p->mutable_idle_timeout() = internal::DurationToProto(*pool.idle_timeout);
  }
  if (pool.acquire_min_remaining_ttl.has_value()) {
    *p->mutable_acquire_min_remaining_ttl() =
        internal::DurationToProto(*pool.acquire_min_remaining_ttl);
  }
  return (*daemon)->Call((*daemon)->pools(), &v1::Pools::Stub::Define, request).status();
}

absl::Status PoolManager::Delete(const std::string& name, bool keep_idle) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::DeletePoolRequest request;
  request.set_name(name);
  request.set_keep_idle(keep_idle);
  return (*daemon)->Call((*daemon)->pools(), &v1::Pools::Stub::Delete, request).status();
}

absl::StatusOr<std::vector<PoolSpec>> PoolManager::List() {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  auto list = (*daemon)->Call((*daemon)->pools(), &v1::Pools::Stub::List, v1::ListPoolsRequest());
  if (!list.ok()) return list.status();
  std::vector<PoolSpec> out;
  for (const auto& pool : list->pools()) out.push_back(FromProto(pool));
  return out;
}

absl::StatusOr<PoolStats> PoolManager::GetStats(const std::string& name) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::GetPoolStatsRequest request;
  request.set_name(name);
  auto s = (*daemon)->Call((*daemon)->pools(), &v1::Pools::Stub::GetStats, request);
  if (!s.ok()) return s.status();
  return PoolStats{s->name(),           StateName(s->state()), s->idle(),
                   s->creating(),       s->warm_acquires(),    s->direct_creates(),
                   s->acquire_failures(), s->create_failures(), s->reused(),
                   s->discarded(),      s->last_error()};
}

absl::StatusOr<Sandbox> PoolManager::Acquire(const std::string& name,
                                             const AcquireOptions& options) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::AcquireSandboxRequest request;
  request.set_pool_name(name);
  request.set_policy(options.fail_fast ? v1::ACQUIRE_POLICY_FAIL_FAST
                                       : v1::ACQUIRE_POLICY_DIRECT_CREATE);
  if (options.sandbox_timeout.has_value()) {
    *request.mutable_sandbox_timeout() = internal::DurationToProto(*options.sandbox_timeout);
  }
  if (options.lease != Lease::kNone) {
    request.set_lease(internal::LeaseModeOf(options.lease));
    request.set_lease_pid(internal::LeaseHolder(options.lease_pid));
  }
  auto acquired = (*daemon)->Call((*daemon)->pools(), &v1::Pools::Stub::Acquire, request);
  if (!acquired.ok()) return acquired.status();
  return Sandbox(*daemon, acquired->sandbox().id());
}

absl::StatusOr<bool> PoolManager::Release(const std::string& name, const Sandbox& sandbox,
                                          bool reuse) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::ReleaseSandboxRequest request;
  request.set_pool_name(name);
  request.set_sandbox_id(sandbox.id());
  request.set_reuse(reuse);
  auto released = (*daemon)->Call((*daemon)->pools(), &v1::Pools::Stub::Release, request);
  if (!released.ok()) return released.status();
  return released->reused();
}

std::future<absl::StatusOr<Sandbox>> PoolManager::AcquireAsync(std::string name,
                                                               AcquireOptions options) {
  return internal::RunAsync(
      [self = *this, name = std::move(name), options = std::move(options)]() mutable {
        return self.Acquire(name, options);
      });
}

std::future<absl::StatusOr<bool>> PoolManager::ReleaseAsync(std::string name, Sandbox sandbox,
                                                            bool reuse) {
  return internal::RunAsync([self = *this, name = std::move(name), sandbox = std::move(sandbox),
                             reuse]() mutable { return self.Release(name, sandbox, reuse); });
}

std::future<absl::StatusOr<PoolStats>> PoolManager::GetStatsAsync(std::string name) {
  return internal::RunAsync(
      [self = *this, name = std::move(name)]() mutable { return self.GetStats(name); });
}

}  // namespace opensandbox
