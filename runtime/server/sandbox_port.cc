#include "runtime/server/sandbox_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/server/network_namespace.h"

namespace osb::runtime {

absl::StatusOr<UniqueFd> ConnectToSandboxPort(pid_t pid, int port) {
  UniqueFd socket;
  int connect_errno = 0;
  absl::Status entered = InNetworkNamespace(pid, [&] {
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
  });
  if (!entered.ok()) {
    return absl::Status(entered.code(), absl::StrCat("cannot reach port ", port, ": ",
                                                     entered.message()));
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
