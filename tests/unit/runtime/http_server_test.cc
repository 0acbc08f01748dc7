// HttpServer's listening socket: a burst of connections finds room in its backlog.
#include "runtime/common/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {
namespace {

// A non-blocking connect to 127.0.0.1:port, in progress or done.
UniqueFd StartConnect(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  return fd;
}

bool Connected(int fd) {
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  int error = 0;
  socklen_t len = sizeof error;
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0;
}

TEST(HttpServer, ABurstOfConnectionsIsQueuedWhileNoneIsAcceptedYet) {
  // Bound and listening, but nothing accepts: every connection the kernel completes waits in
  // the backlog. cpp-httplib's own backlog of 5 completed 6 and left the rest to SYN retries
  // (1 s, then 3 s).
  HttpServer server;
  const int port = server.BindToAnyPort("127.0.0.1");
  ASSERT_GT(port, 0);
  constexpr int kBurst = 64;
  std::vector<UniqueFd> clients;
  for (int i = 0; i < kBurst; ++i) clients.push_back(StartConnect(port));
  int connected = 0;
  for (int tries = 0; tries < 50 && connected < kBurst; ++tries) {
    ::usleep(10'000);
    connected = 0;
    for (const auto& c : clients) connected += Connected(c.get()) ? 1 : 0;
  }
  EXPECT_EQ(connected, kBurst);
}

TEST(HttpServer, BindReportsAPortAlreadyTaken) {
  HttpServer first;
  const int port = first.BindToAnyPort("127.0.0.1");
  ASSERT_GT(port, 0);
  HttpServer second;
  EXPECT_FALSE(second.Bind("127.0.0.1", port));
}

}  // namespace
}  // namespace osb::runtime
