#include "runtime/server/tracked_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rest/sys/file_util.h"

namespace osb::runtime {
namespace {

absl::StatusOr<UniqueFd> OpenPidfd(pid_t pid) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) {
    if (errno == ESRCH) return absl::NotFoundError(absl::StrCat("process ", pid, " has exited"));
    return ErrnoStatus(absl::StrCat("pidfd_open ", pid), errno);
  }
  return fd;
}

}  // namespace

absl::StatusOr<uint64_t> ProcessStartTicks(pid_t pid) {
  auto stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return absl::NotFoundError(absl::StrCat("no process ", pid));
  // The command name in parentheses may hold spaces and ')': the fields start after the last ')'.
  const std::size_t close = stat->rfind(')');
  if (close == std::string::npos) return absl::InternalError("unreadable /proc stat");
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is the state (field 3); starttime is field 22.
  uint64_t ticks = 0;
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &ticks)) {
    return absl::InternalError(absl::StrCat("unreadable /proc/", pid, "/stat"));
  }
  return ticks;
}

TrackedProcess::TrackedProcess(pid_t pid, uint64_t start_ticks, UniqueFd pidfd, bool child)
    : pid_(pid), start_ticks_(start_ticks), pidfd_(std::move(pidfd)), child_(child) {}

TrackedProcess::~TrackedProcess() = default;

absl::StatusOr<std::unique_ptr<TrackedProcess>> TrackedProcess::Launched(pid_t pid) {
  // A child is never reaped behind this process's back, so the pid cannot have been reused.
  auto fd = OpenPidfd(pid);
  if (!fd.ok()) return fd.status();
  auto ticks = ProcessStartTicks(pid);
  if (!ticks.ok()) return ticks.status();
  return std::unique_ptr<TrackedProcess>(new TrackedProcess(pid, *ticks, std::move(*fd), true));
}

absl::StatusOr<std::unique_ptr<TrackedProcess>> TrackedProcess::Adopt(pid_t pid,
                                                                   uint64_t start_ticks) {
  auto fd = OpenPidfd(pid);
  if (!fd.ok()) return fd.status();
  // Checked after the pidfd is open: from here on the pidfd holds this very process. An exited
  // one not yet reaped by its new parent still has its start time, so its pidfd is asked too.
  auto ticks = ProcessStartTicks(pid);
  pollfd exited{fd->get(), POLLIN, 0};
  if (!ticks.ok() || *ticks != start_ticks || ::poll(&exited, 1, 0) == 1) {
    return absl::NotFoundError(absl::StrCat("process ", pid, " has exited"));
  }
  return std::unique_ptr<TrackedProcess>(
      new TrackedProcess(pid, start_ticks, std::move(*fd), false));
}

void TrackedProcess::Reap() {
  exited_ = true;
  if (!child_) return;  // its parent now is the host's init or subreaper
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool TrackedProcess::Exited() {
  if (exited_) return true;
  pollfd p{pidfd_.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) == 1) Reap();
  return exited_;
}

void TrackedProcess::Kill() {
  if (!exited_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

void TrackedProcess::Wait() {
  if (exited_) return;
  pollfd p{pidfd_.get(), POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  Reap();
}

}  // namespace osb::runtime
