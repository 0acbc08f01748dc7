#include "runtime/server/sandbox_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace osb::runtime {

absl::StatusOr<UniqueFd> ConnectToSandboxPort(pid_t pid, int port) {
  const std::string ns_path = absl::StrCat("/proc/", pid, "/ns/net");
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    return absl::NotFoundError(absl::StrCat("the sandbox's network namespace is gone (", ns_path,
                                            ": ", std::strerror(errno), ")"));
  }
  UniqueFd socket;
  int setns_errno = 0, connect_errno = 0;
  std::thread([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      setns_errno = errno;
      return;
    }
    socket.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid()) {
      connect_errno = errno;
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Loopback answers at once: a connection is accepted or refused, never left pending.
    if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      connect_errno = errno;
      socket.Reset();
    }
  }).join();
  if (setns_errno != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("osb-runtime cannot enter the sandbox's network namespace to reach port ",
                     port, " (", std::strerror(setns_errno), "; it needs root)"));
  }
  if (connect_errno == ECONNREFUSED) {
    return absl::UnavailableError(
        absl::StrCat("nothing listens on port ", port, " inside the sandbox"));
  }
  if (connect_errno != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to port ", port, " inside the sandbox: ", std::strerror(connect_errno)));
  }
  return socket;
}

}  // namespace osb::runtime
