// The host side of one sandbox's init (osb-agent): a pidfd, so that signals and liveness checks
// can never reach another process that was given the same pid, and the process's start time, so
// that a restarted osb-runtime recognises the agents it launched before and re-adopts them.
//
//   auto agent = AgentProcess::Launched(pid);              // right after clone: our child
//   auto again = AgentProcess::Adopt(pid, start_ticks);    // after a restart: NotFound if gone
//   if (agent->Exited()) ...;
//   agent->Kill(); agent->Wait();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {

class AgentProcess {
 public:
  // The agent this process just cloned (its child, not yet reaped). Internal when the kernel
  // gives no pidfd.
  static absl::StatusOr<std::unique_ptr<AgentProcess>> Launched(pid_t pid);

  // An agent a previous run of osb-runtime launched: `pid` must still be the process that started
  // at `start_ticks` (/proc/<pid>/stat's starttime). NotFound when it has exited, or the pid now
  // names another process.
  static absl::StatusOr<std::unique_ptr<AgentProcess>> Adopt(pid_t pid, uint64_t start_ticks);

  // Closes the pidfd; the process runs on.
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint64_t start_ticks() const { return start_ticks_; }

  // Whether it has exited, without waiting; reaps it when it is this process's child.
  bool Exited();

  // SIGKILL: as the pid namespace's init, it takes every process of the sandbox with it.
  void Kill();

  // Waits until it has exited (and reaps it when it is this process's child).
  void Wait();

 private:
  AgentProcess(pid_t pid, uint64_t start_ticks, UniqueFd pidfd, bool child);
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
