// Warm pools kept by osbd: ready sandboxes made from a template, handed out at once.
//
//   opensandbox::PoolManager pools;
//   (void)pools.Define({.name = "py", .template_name = "python", .min_idle = 4});
//   auto sandbox = pools.Acquire("py");          // a ready Sandbox, usually in a few ms
//   ... sandbox->commands().Run(...) ...
//   (void)pools.Release("py", *sandbox);         // killed (or reused with `reuse`)
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/options.h"
#include "opensandbox/sandbox.h"

namespace opensandbox {
namespace internal {
class LazyDaemon;
}  // namespace internal

struct PoolSpec {
  // A DNS label.
  std::string name;
  // The template members are made from (required).
  std::string template_name;
  // Idle, ready sandboxes kept; most kept idle (0: min_idle); creates in flight at once (0: 4).
  std::uint32_t min_idle = 0;
  std::uint32_t max_idle = 0;
  std::uint32_t warmup_concurrency = 0;
  // Idle members older than this are replaced. Unset: 24 h.
  std::optional<absl::Duration> idle_timeout;
  // Acquire skips idle members expiring sooner than this. Unset: 60 s.
  std::optional<absl::Duration> acquire_min_remaining_ttl;
};

struct PoolStats {
  std::string name;
  // "running", "degraded" (creates failing; see last_error) or "draining".
  std::string state;
  std::uint32_t idle = 0, creating = 0;
  std::uint64_t warm_acquires = 0, direct_creates = 0, acquire_failures = 0;
  std::uint64_t create_failures = 0, reused = 0, discarded = 0;
  std::string last_error;
};

struct AcquireOptions {
  // With no idle sandbox: create one directly (false) or fail at once with kResourceExhausted
  // (true; GetErrorDetails(...).code == "OSBD::POOL_EMPTY").
  bool fail_fast = false;
  // Renew the acquired sandbox to expire this long from now. Unset: as made.
  std::optional<absl::Duration> sandbox_timeout;
  // Tie it to a process (0: this one), as SandboxSpec::lease.
  Lease lease = Lease::kNone;
  int lease_pid = 0;
};

class PoolManager {
 public:
  // Reaches osbd on first use; copies share the connection.
  explicit PoolManager(Options options = {});

  // Creates or replaces a pool and starts filling it. kNotFound for an unknown template.
  absl::Status Define(const PoolSpec& pool);
  // Kills its idle members (unless `keep_idle`) and forgets it. kNotFound when unknown.
  absl::Status Delete(const std::string& name, bool keep_idle = false);
  absl::StatusOr<std::vector<PoolSpec>> List();
  absl::StatusOr<PoolStats> GetStats(const std::string& name);
  std::future<absl::StatusOr<PoolStats>> GetStatsAsync(std::string name);
  // A ready sandbox from the pool; it is the caller's from now on.
  absl::StatusOr<Sandbox> Acquire(const std::string& name, const AcquireOptions& options = {});
  std::future<absl::StatusOr<Sandbox>> AcquireAsync(std::string name, AcquireOptions options = {});
  // Kills the sandbox, or with `reuse` returns it to the idle set (when there is room and it is
  // still running; the caller vouches it is clean). Returns whether it was reused.
  absl::StatusOr<bool> Release(const std::string& name, const Sandbox& sandbox,
                               bool reuse = false);
  std::future<absl::StatusOr<bool>> ReleaseAsync(std::string name, Sandbox sandbox,
                                                 bool reuse = false);

 private:
  std::shared_ptr<internal::LazyDaemon> daemon_;
};

}  // namespace opensandbox
