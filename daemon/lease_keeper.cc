#include "daemon/lease_keeper.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "daemon/convert.h"
#include "daemon/owner_id.h"
#include "daemon/peer_listener.h"
#include "daemon/services/field_error.h"
#include "rest/error.h"
#include "rest/sys/file_util.h"
#include "spdlog/spdlog.h"

namespace osb::daemon {
namespace {

constexpr absl::Duration kMaxRenewalPeriod = absl::Seconds(10);

absl::Duration RenewalPeriod(absl::Duration ttl) { return std::min(ttl / 2, kMaxRenewalPeriod); }

}  // namespace

LeaseKeeper::LeaseKeeper(LifecycleClient& lifecycle, std::optional<gid_t> access_group)
    : lifecycle_(lifecycle),
      access_group_(access_group),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { Loop(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
}

absl::StatusOr<UniqueFd> LeaseKeeper::OpenProcess(pid_t pid) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) {
    return InvalidField("lease_pid", absl::StrCat(pid, " is not a live process (",
                                                  std::strerror(errno), ")"));
  }
  return fd;
}

absl::StatusOr<UniqueFd> LeaseKeeper::OpenHolder(pid_t pid) const {
  if (pid <= 0) {
    return InvalidField("lease_pid",
                        "is required with a lease: osbd cannot see the calling process over "
                        "gRPC, so pass your own pid");
  }
  absl::StatusOr<UniqueFd> fd = OpenProcess(pid);
  if (!fd.ok()) return fd.status();
  if (!ProcessAllowed(pid, ::geteuid(), access_group_)) {
    return rest::MakeError(
        absl::StatusCode::kPermissionDenied, "OSBD::LEASE_HOLDER_REFUSED",
        absl::StrCat("lease_pid ", pid,
                     " belongs to a user who may not use this osbd (only root, osbd's user",
                     access_group_.has_value() ? " and the access group's members" : "", ")"));
  }
  return fd;
}

std::string LeaseKeeper::StartTimeOf(pid_t pid) {
  auto stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return "";
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const std::size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return "";
  std::vector<std::string> fields = absl::StrSplit(stat->substr(paren + 2), ' ');
  // After ')' come field 3 (state) onwards: field 22 is at index 19.
  return fields.size() > 19 ? fields[19] : "";
}

std::map<std::string, std::string> LeaseKeeper::Labels(const std::string& owner, pid_t pid,
                                                       Mode mode, absl::Duration ttl) {
  return {{std::string(kOwnerLabel), owner},
          {std::string(kLeasePidLabel), absl::StrCat(pid)},
          {std::string(kLeaseModeLabel),
           mode == Mode::kKillOnExit ? "kill-on-exit" : "renew-while-alive"},
          {std::string(kLeaseStartLabel), StartTimeOf(pid)},
          {std::string(kLeaseTtlLabel), absl::StrCat(absl::ToInt64Seconds(ttl))}};
}

void LeaseKeeper::Add(const Origin& origin, const std::string& sandbox_id, UniqueFd holder,
                      Mode mode, absl::Duration ttl) {
  {
    absl::MutexLock lock(&mu_);
    leases_[sandbox_id] =
        Lease{origin.Detached(), std::move(holder), mode, ttl, absl::Now() + RenewalPeriod(ttl)};
  }
  Wake();
}

void LeaseKeeper::Forget(const std::string& sandbox_id) {
  {
    absl::MutexLock lock(&mu_);
    if (leases_.erase(sandbox_id) == 0) return;
  }
  Wake();
}

std::size_t LeaseKeeper::size() const {
  absl::MutexLock lock(&mu_);
  return leases_.size();
}

void LeaseKeeper::Wake() {
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void LeaseKeeper::Loop() {
  for (;;) {
    std::vector<pollfd> fds = {{wake_.get(), POLLIN, 0}};
    std::vector<std::string> ids;
    absl::Duration wait = absl::Seconds(1);
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      const absl::Time now = absl::Now();
      for (auto& [id, lease] : leases_) {
        fds.push_back({lease.holder.get(), POLLIN, 0});
        ids.push_back(id);
        if (lease.mode == Mode::kRenewWhileAlive) {
          if (lease.next_renewal <= now) {
            lease.next_renewal = now + RenewalPeriod(lease.ttl);
            lifecycle_.Renew(lease.origin, id, now + lease.ttl,
                             [id](absl::StatusOr<std::string> renewed) {
                               if (!renewed.ok()) {
                                 spdlog::warn("lease: cannot renew sandbox {}: {}", id,
                                              renewed.status().ToString());
                               }
                             });
          }
          wait = std::min(wait, lease.next_renewal - now);
        }
      }
    }
    const int64_t wait_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(wait)) + 1;
    ::poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (fds[0].revents & POLLIN) {
      uint64_t count = 0;
      (void)!::read(wake_.get(), &count, sizeof count);
    }
    absl::MutexLock lock(&mu_);
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      auto it = leases_.find(ids[i - 1]);
      // The fd belongs to this lease only if the lease was not replaced meanwhile.
      if (it == leases_.end() || it->second.holder.get() != fds[i].fd) continue;
      const std::string id = it->first;
      spdlog::info("lease: the holder of sandbox {} exited; killing it", id);
      lifecycle_.Delete(it->second.origin, id, [id](absl::Status s) {
        if (!s.ok() && !absl::IsNotFound(s)) {
          spdlog::warn("lease: cannot kill sandbox {}: {}", id, s.ToString());
        }
      });
      leases_.erase(it);
    }
  }
}

}  // namespace osb::daemon
