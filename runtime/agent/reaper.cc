#include "runtime/agent/reaper.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "rest/sys/file_util.h"

namespace osb::agent {

void Reaper::BlockSigchld() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Reaper::Reaper() : thread_([this] { Run(); }) {}

Reaper::~Reaper() {
  // The reaper lives as long as the agent process; it is never joined.
  thread_.detach();
}

absl::StatusOr<pid_t> Reaper::Spawn(const std::function<void()>& child, OnExit on_exit) {
  absl::MutexLock lock(&mu_);
  // vfork: the child borrows the agent's memory until it execs, so nothing is copied (fork copied
  // the page tables and then made the agent take a copy-on-write fault for every page it touched
  // next, a cost paid by every command).
  pid_t pid = ::vfork();
  if (pid < 0) return ErrnoStatus("vfork", errno);
  if (pid == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, nullptr);
    signal(SIGPIPE, SIG_DFL);
    child();
    _exit(127);
  }
  waiters_.emplace(pid, std::move(on_exit));
  return pid;
}

void Reaper::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (;;) {
    // A timeout bounds the cost of a SIGCHLD coalesced with one that arrived while reaping.
    timespec timeout{1, 0};
    sigtimedwait(&set, nullptr, &timeout);
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      OnExit on_exit;
      {
        absl::MutexLock lock(&mu_);
        auto it = waiters_.find(pid);
        if (it == waiters_.end()) continue;  // an orphan: reaping it is all PID 1 owes it
        on_exit = std::move(it->second);
        waiters_.erase(it);
      }
      on_exit(status);
    }
  }
}

}  // namespace osb::agent
