// Leases (Sandboxes.Create `lease`): a sandbox tied to a local process, its holder. When the
// holder exits, osbd kills the sandbox (within a second: the holder is watched through a pidfd);
// with LEASE_MODE_RENEW_WHILE_ALIVE osbd also renews the sandbox's expiry while the holder lives,
// so a long job never outlives its TTL and a crashed one never leaks its sandbox.
//
// The holder is named by pid: gRPC does not tell osbd which process is calling (no peer
// credentials over its Unix socket), so callers pass their own pid. It must be a live process of
// osbd's user (any process when osbd runs as root). A leased sandbox carries the holder's pid and
// start time in its metadata, so that a restarted osbd can take the lease over (lease_adoption).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/upstream/lifecycle_client.h"
#include "daemon/upstream/origin.h"
#include "rest/sys/unique_fd.h"

namespace osb::daemon {

class LeaseKeeper {
 public:
  enum class Mode { kKillOnExit, kRenewWhileAlive };

  // Members of `access_group` may hold leases too, as they may connect (peer_listener.h).
  LeaseKeeper(LifecycleClient& lifecycle, std::optional<gid_t> access_group);
  ~LeaseKeeper();  // stops watching; sandboxes are left as they are

  // A handle on the would-be holder: InvalidArgument when `pid` is not a live process,
  // PermissionDenied when its user could not connect to osbd (neither root, osbd's user nor a
  // member of the access group). Checked before the sandbox is made.
  absl::StatusOr<UniqueFd> OpenHolder(pid_t pid) const;
  // A handle on the live process `pid`, whoever runs it: InvalidArgument when there is none.
  // For a lease already granted (lease_adoption), whose holder was checked when it was made.
  static absl::StatusOr<UniqueFd> OpenProcess(pid_t pid);
  // The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), which tells
  // it apart from a later process given the same pid; "" when it cannot be read.
  static std::string StartTimeOf(pid_t pid);
  // The metadata of a sandbox leased to `pid` by the osbd whose id is `owner`: what a later osbd
  // needs to take the lease over (lease_adoption), and whose it is.
  static std::map<std::string, std::string> Labels(const std::string& owner, pid_t pid,
                                                   Mode mode, absl::Duration ttl);

  // Starts the lease. For kRenewWhileAlive, `ttl` is how far ahead each renewal moves the
  // expiry (the sandbox's timeout); renewals come every min(ttl / 2, 10 s).
  void Add(const Origin& origin, const std::string& sandbox_id, UniqueFd holder, Mode mode,
           absl::Duration ttl);
  // Ends the lease of a sandbox killed by other means; nothing when it has none.
  void Forget(const std::string& sandbox_id);

  std::size_t size() const;

 private:
  struct Lease {
    Origin origin;
    UniqueFd holder;
    Mode mode;
    absl::Duration ttl;
    absl::Time next_renewal;
  };
  void Loop();
  void Wake();

  LifecycleClient& lifecycle_;
  const std::optional<gid_t> access_group_;
  UniqueFd wake_;  // eventfd: the lease set changed, or stop
  mutable absl::Mutex mu_;
  std::map<std::string, Lease> leases_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace osb::daemon
