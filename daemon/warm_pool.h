// WarmPool: one named pool of idle, ready sandboxes made from a template (Pools service). It
// keeps `min_idle` of them, creating up to `warmup_concurrency` at once and backing off while
// creates fail; Acquire hands one out at once (or creates one directly, or fails fast); Release
// kills a sandbox or returns it to the idle set. Idle members carry the metadata
// `osbd.opensandbox.io/pool=<name>`, which Acquire removes; Start adopts running sandboxes that
// still carry it (left by an earlier osbd). Thread-safe; the work runs on the upstream loop.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/services/daemon_context.h"
#include "daemon/services/provision.h"
#include "opensandbox/v1/pools.pb.h"
#include "rest/lifecycle.h"

namespace osb::daemon {

inline constexpr char kPoolLabel[] = "osbd.opensandbox.io/pool";

class WarmPool : public std::enable_shared_from_this<WarmPool> {
 public:
  // `definition` must be valid (see WarmPools::Define); `origin` is its connection resolved.
  WarmPool(DaemonContext& context, opensandbox::v1::Pool definition, Origin origin);

  const opensandbox::v1::Pool& definition() const { return definition_; }
  const Origin& origin() const { return origin_; }

  // Adopts tagged running sandboxes, starts refilling and the periodic upkeep.
  void Start();
  // Stops refilling; idle members are killed, or untagged and left running with `keep_idle`.
  // Creates still in flight are killed when they finish.
  void Drain(bool keep_idle);
  // Stops all work at once, touching nothing upstream (osbd is shutting down).
  void Stop();

  struct Acquired {
    rest::Sandbox sandbox;
    bool warm = false;
  };
  using AcquireDone = std::function<void(absl::StatusOr<Acquired>)>;
  // An idle member (untagged, renewed to now + `sandbox_timeout` when set), else per `policy`:
  // ResourceExhausted (OSBD::POOL_EMPTY) or a direct create from the template. The sandbox
  // handed out carries `labels` in its metadata (a lease's: LeaseKeeper::Labels).
  void Acquire(opensandbox::v1::AcquirePolicy policy,
               std::optional<absl::Duration> sandbox_timeout,
               std::map<std::string, std::string> labels, AcquireDone done);
  // Kills `sandbox_id`, or with `reuse` returns it to the idle set when there is room and it is
  // still Running; `done` receives whether it was reused.
  void Release(const std::string& sandbox_id, bool reuse,
               std::function<void(absl::StatusOr<bool>)> done);

  opensandbox::v1::PoolStats Stats() const;
  // Drops `sandbox_id` from the idle set, if it is there (killed by other means); the pool refills.
  void Forget(const std::string& sandbox_id);

 private:
  struct Member {
    std::string id;
    absl::Time idle_since;
    std::optional<absl::Time> expires_at;
  };

  void Refill();
  void CreateOne();
  void OnCreated(absl::StatusOr<rest::Sandbox> created);
  void Upkeep();
  void Kill(const std::string& id);
  // Takes the next usable idle member, killing those too close to their expiry.
  std::optional<Member> TakeIdleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandOut(Member member, std::optional<absl::Duration> sandbox_timeout,
               std::map<std::string, std::string> labels, AcquireDone done,
               opensandbox::v1::AcquirePolicy policy);
  void CreateDirect(std::optional<absl::Duration> sandbox_timeout,
                    std::map<std::string, std::string> labels, AcquireDone done);
  // How to make a member (tagged) or a direct create (untagged), from the template as it is now.
  absl::StatusOr<Provisioning> MemberProvisioning(bool tagged);
  // Renews `sandbox` to now + `timeout` when set, then hands it to `done`.
  void Deliver(rest::Sandbox sandbox, bool warm, std::optional<absl::Duration> timeout,
               AcquireDone done);
  static std::optional<absl::Time> ExpiryOf(const rest::Sandbox& sandbox);

  DaemonContext& context_;
  const opensandbox::v1::Pool definition_;
  const Origin origin_;
  const uint32_t max_idle_, concurrency_;
  const absl::Duration idle_timeout_, min_remaining_ttl_;

  mutable absl::Mutex mu_;
  std::deque<Member> idle_ ABSL_GUARDED_BY(mu_);
  uint32_t creating_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopped_ = false;
  int failures_in_row_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  opensandbox::v1::PoolStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::daemon
