#include "runtime/server/upgrade_tunnel.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rest/sys/send_all.h"

namespace osb::runtime {
namespace {

constexpr std::size_t kPumpBuffer = 64 * 1024;

// The numeric host and port of a socket address, as cpp-httplib reports a request's peer.
bool HostAndPort(const sockaddr_storage& addr, socklen_t len, std::string& host, int& port) {
  if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6) return false;
  char name[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, name, sizeof name, service,
                    sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  host = name;
  return absl::SimpleAtoi(service, &port);
}

// Copies `from` to `to` until `from` ends, and passes the end on as a half close. On a failure
// both connections are shut down, which also ends the other direction's read.
void Pump(int from, int to) {
  std::unique_ptr<char[]> buffer(new char[kPumpBuffer]);
  for (;;) {
    ssize_t n = ::read(from, buffer.get(), kPumpBuffer);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      ::shutdown(to, SHUT_WR);
      return;
    }
    if (n < 0 || !SendAll(to, std::string_view(buffer.get(), static_cast<std::size_t>(n)))) {
      ::shutdown(from, SHUT_RDWR);
      ::shutdown(to, SHUT_RDWR);
      return;
    }
  }
}

}  // namespace

absl::StatusOr<int> ClientSocketOf(const std::string& remote_addr, int remote_port,
                                   int local_port) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), ::closedir);
  if (dir == nullptr) return absl::InternalError("cannot list /proc/self/fd");
  while (const dirent* entry = ::readdir(dir.get())) {
    int fd = -1;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == ::dirfd(dir.get())) continue;
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    std::string host, peer_host;
    int port = 0, peer_port = 0;
    // Anything but a connected TCP socket fails one of these.
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        !HostAndPort(local, local_len, host, port) || port != local_port ||
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
        !HostAndPort(peer, peer_len, peer_host, peer_port)) {
      continue;
    }
    if (peer_port == remote_port && peer_host == remote_addr) return fd;
  }
  return absl::NotFoundError(
      absl::StrCat("no connection from ", remote_addr, ":", remote_port, " to port ", local_port));
}

void Tunnel(int client, int upstream, absl::string_view to_client_first) {
  timeval none{};
  (void)::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  (void)::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  int flags = ::fcntl(client, F_GETFL);
  if (flags >= 0) (void)::fcntl(client, F_SETFL, flags & ~O_NONBLOCK);
  if (SendAll(client, std::string_view(to_client_first.data(), to_client_first.size()))) {
    std::thread to_upstream([client, upstream] { Pump(client, upstream); });
    Pump(upstream, client);
    to_upstream.join();
  }
  ::shutdown(client, SHUT_RDWR);
}

}  // namespace osb::runtime
