// TcpListenScript, the TCP health probe's check, run by the shells a sandbox image may have:
// it passes while a socket listens on the port (IPv4 or IPv6) and fails otherwise, never on the
// /proc/net/tcp header line.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "daemon/services/health_probe.h"
#include "rest/sys/process.h"

namespace osb::daemon {
namespace {

// A socket bound to a free loopback port; listening only once Listen() is called.
class BoundSocket {
 public:
  explicit BoundSocket(int family) : fd_(::socket(family, SOCK_STREAM, 0)) {
    if (family == AF_INET6) {
      sockaddr_in6 a{.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
      ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
      socklen_t n = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
      port_ = ntohs(a.sin6_port);
    } else {
      sockaddr_in a{.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
      ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
      socklen_t n = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
      port_ = ntohs(a.sin_port);
    }
  }
  ~BoundSocket() { ::close(fd_); }
  void Listen() { ASSERT_EQ(::listen(fd_, 1), 0); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

int ExitOf(const std::string& shell, int port) {
  return RunToCompletion({shell, "-c", TcpListenScript(port)}).exit_code;
}

TEST(TcpListenScript, PassesOnlyWhileTheShellSeesAListeningSocket) {
  for (const std::string shell : {"/bin/sh", "bash"}) {
    for (int family : {AF_INET, AF_INET6}) {
      BoundSocket socket(family);
      ASSERT_NE(socket.port(), 0);
      EXPECT_EQ(ExitOf(shell, socket.port()), 1) << shell << ": bound, not listening";
      socket.Listen();
      EXPECT_EQ(ExitOf(shell, socket.port()), 0) << shell << ": listening, family " << family;
    }
  }
}

}  // namespace
}  // namespace osb::daemon
