// A process osb-runtime starts for a sandbox and must find again after its own restart: the
// sandbox's init (osb-agent) and its network helper (pasta). A pidfd, so that signals and liveness
// checks can never reach another process that was given the same pid, and the process's start
// time, so that a restarted runtime recognises the processes it started before and re-adopts them.
//
//   auto agent = TrackedProcess::Launched(pid);             // right after fork/clone: our child
//   auto again = TrackedProcess::Adopt(pid, start_ticks);   // after a restart: NotFound if gone
//   if (agent->Exited()) ...;
//   agent->Kill(); agent->Wait();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {

class TrackedProcess {
 public:
  // A process this one just started (its child, not yet reaped). Internal when the kernel gives
  // no pidfd.
  static absl::StatusOr<std::unique_ptr<TrackedProcess>> Launched(pid_t pid);

  // A process a previous run of osb-runtime started: `pid` must still be the process that started
  // at `start_ticks` (/proc/<pid>/stat's starttime). NotFound when it has exited, or the pid now
  // names another process.
  static absl::StatusOr<std::unique_ptr<TrackedProcess>> Adopt(pid_t pid, uint64_t start_ticks);

  // Closes the pidfd; the process runs on.
  ~TrackedProcess();
  TrackedProcess(const TrackedProcess&) = delete;
  TrackedProcess& operator=(const TrackedProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint64_t start_ticks() const { return start_ticks_; }

  // Whether it has exited, without waiting; reaps it when it is this process's child.
  bool Exited();

  // SIGKILL (an agent, as its pid namespace's init, takes every process of the sandbox with it).
  void Kill();

  // Waits until it has exited (and reaps it when it is this process's child).
  void Wait();

 private:
  TrackedProcess(pid_t pid, uint64_t start_ticks, UniqueFd pidfd, bool child);
  void Reap();

  pid_t pid_;
  uint64_t start_ticks_;
  UniqueFd pidfd_;
  bool child_;
  bool exited_ = false;
};

// /proc/<pid>/stat's starttime (clock ticks after boot): with the pid, it names one process for
// as long as the host runs. NotFound when there is no such process.
absl::StatusOr<uint64_t> ProcessStartTicks(pid_t pid);

}  // namespace osb::runtime
