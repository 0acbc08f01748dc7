// How a process spawned through the Reaper tells the thread streaming its output that it ended:
// the reaper thread records the wait status, then makes an eventfd readable, which the streaming
// thread polls beside the process's pipes. Shared by ForegroundCommand and CodeKernel.
#pragma once

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class ExitNotice {
 public:
  static absl::StatusOr<std::shared_ptr<ExitNotice>> Make();

  // The Reaper::OnExit to spawn with: calls `first` (when set), then records the status and
  // wakes the poller, so that whoever `first` tells knows of the exit by the time the stream,
  // woken by the event, reports it.
  static Reaper::OnExit Hook(std::shared_ptr<ExitNotice> notice, Reaper::OnExit first = nullptr);

  // Readable once the process has been reaped (an eventfd; never read, so it stays readable).
  int fd() const { return event_.get(); }
  bool exited() const { return exited_; }
  int wait_status() const { return wait_status_; }

 private:
  UniqueFd event_;
  std::atomic<bool> exited_{false};
  std::atomic<int> wait_status_{0};
};

}  // namespace osb::agent
