#include "runtime/agent/exit_notice.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "rest/sys/file_util.h"

namespace osb::agent {

absl::StatusOr<std::shared_ptr<ExitNotice>> ExitNotice::Make() {
  auto notice = std::make_shared<ExitNotice>();
  notice->event_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!notice->event_.valid()) return ErrnoStatus("eventfd", errno);
  return notice;
}

Reaper::OnExit ExitNotice::Hook(std::shared_ptr<ExitNotice> notice, Reaper::OnExit first) {
  return [notice = std::move(notice), first = std::move(first)](int status) {
    if (first) first(status);
    notice->wait_status_ = status;
    notice->exited_ = true;
    uint64_t one = 1;
    (void)!::write(notice->event_.get(), &one, sizeof one);
  };
}

}  // namespace osb::agent
