#include "runtime/server/upgrade_tunnel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <thread>

#include "rest/sys/send_all.h"

namespace osb::runtime {
namespace {

constexpr std::size_t kPumpBuffer = 64 * 1024;

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

void Tunnel(int client, int upstream, absl::string_view to_client_first,
            absl::string_view to_upstream_first) {
  if (SendAll(client, std::string_view(to_client_first.data(), to_client_first.size())) &&
      SendAll(upstream, std::string_view(to_upstream_first.data(), to_upstream_first.size()))) {
    std::thread to_upstream([client, upstream] { Pump(client, upstream); });
    Pump(upstream, client);
    to_upstream.join();
  }
  ::shutdown(client, SHUT_RDWR);
}

}  // namespace osb::runtime
