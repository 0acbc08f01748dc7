#include "runtime/server/network_namespace.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {

absl::Status InNetworkNamespace(pid_t pid, absl::FunctionRef<void()> fn) {
  const std::string ns_path = absl::StrCat("/proc/", pid, "/ns/net");
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    return absl::NotFoundError(absl::StrCat("the sandbox's network namespace is gone (", ns_path,
                                            ": ", std::strerror(errno), ")"));
  }
  int setns_errno = 0;
  std::thread([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      setns_errno = errno;
      return;
    }
    fn();
  }).join();
  if (setns_errno != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("osb-runtime cannot enter the sandbox's network namespace (",
                     std::strerror(setns_errno), "; it needs root)"));
  }
  return absl::OkStatus();
}

}  // namespace osb::runtime
