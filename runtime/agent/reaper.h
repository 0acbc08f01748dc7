// osb-agent is PID 1 of its sandbox, so every orphan in the sandbox becomes its child. The Reaper
// owns waitpid(): it reaps every child and hands the exit status of the ones it was asked about
// to their owners, and silently collects the rest.
//
// Contract: SIGCHLD must be blocked in every thread before any thread starts (call
// Reaper::BlockSigchld() first thing in main), and spawning goes through Spawn so that a child
// that exits at once is never reaped before its owner is registered.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace osb::agent {

class Reaper {
 public:
  // Called on the reaper thread with the raw wait status once the child has been reaped.
  using OnExit = std::function<void(int wait_status)>;

  // Blocks SIGCHLD in the calling thread (and every thread it later creates).
  static void BlockSigchld();

  Reaper();
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // Starts a child with vfork and runs `child` in it, with SIGCHLD unblocked and SIGPIPE reset;
  // the calling thread waits until the child execs or exits. `child` shares the agent's memory:
  // it must only make system calls (no allocation, no locks, no stdio), must change credentials
  // with raw syscalls (glibc's setuid & co. would signal the agent's threads), and must exec or
  // _exit. In the parent registers `on_exit` for the new pid before any reaping of it can
  // happen. Returns the pid.
  absl::StatusOr<pid_t> Spawn(const std::function<void()>& child, OnExit on_exit);

 private:
  void Run();

  absl::Mutex mu_;
  std::map<pid_t, OnExit> waiters_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace osb::agent
