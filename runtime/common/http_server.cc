#include "runtime/common/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "absl/strings/numbers.h"

namespace osb::runtime {
namespace {

constexpr std::size_t kReadBuffer = 128 * 1024;
// How often a connection waiting for its next request looks whether the server is stopping.
constexpr int kStopCheckMs = 100;

thread_local ServedConnection* current_connection = nullptr;

int Milliseconds(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

void SetTimeout(int fd, int option, time_t sec, time_t usec) {
  timeval tv{.tv_sec = sec, .tv_usec = static_cast<suseconds_t>(usec)};
  (void)::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

// The numeric host and port of a socket address; nothing for a Unix socket.
void HostAndPort(const sockaddr_storage& addr, socklen_t len, std::string& host, int& port) {
  if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6) return;
  char name[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, name, sizeof name, service,
                    sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) == 0 &&
      absl::SimpleAtoi(service, &port)) {
    host = name;
  }
}

class ConnectionStream final : public httplib::Stream, public ServedConnection {
 public:
  ConnectionStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd),
        buffer_(new char[kReadBuffer]),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms) {}

  bool HasBuffered() const { return begin_ < end_; }
  bool taken_over() const { return taken_over_; }

  // httplib::Stream
  bool is_readable() const override {
    if (HasBuffered()) return true;
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    return !taken_over_ && Poll(p, read_timeout_ms_) > 0;
  }

  // Writable within the write timeout and not closed by the peer: a streaming handler asks this
  // to learn that its client went away.
  bool is_writable() const override {
    if (taken_over_) return false;
    pollfd p{.fd = fd_, .events = POLLIN | POLLOUT, .revents = 0};
    if (Poll(p, write_timeout_ms_) <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      return false;
    }
    if ((p.revents & POLLIN) != 0) {
      char byte;
      if (::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) return false;  // the peer closed
    }
    if ((p.revents & POLLOUT) != 0) return true;
    // Woken by bytes the peer sent (a pipelined request) while there is no room to write yet:
    // the room alone is waited for now.
    pollfd out{.fd = fd_, .events = POLLOUT, .revents = 0};
    return Poll(out, write_timeout_ms_) > 0 && (out.revents & POLLOUT) != 0 &&
           (out.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0;
  }

  ssize_t read(char* ptr, std::size_t size) override {
    if (taken_over_) return -1;
    if (!HasBuffered()) {
      if (size >= kReadBuffer) return Recv(ptr, size);
      ssize_t n = Recv(buffer_.get(), kReadBuffer);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.get() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    if (taken_over_) return -1;
    for (;;) {
      ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      HostAndPort(addr, len, ip, port);
    }
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      HostAndPort(addr, len, ip, port);
    }
  }

  socket_t socket() const override { return fd_; }

  // ServedConnection
  int fd() const override { return fd_; }

  std::string TakeOver() override {
    std::string rest(buffer_.get() + begin_, end_ - begin_);
    begin_ = end_ = 0;
    taken_over_ = true;
    SetTimeout(fd_, SO_RCVTIMEO, 0, 0);
    SetTimeout(fd_, SO_SNDTIMEO, 0, 0);
    return rest;
  }

 private:
  static int Poll(pollfd& p, int timeout_ms) {
    for (;;) {
      int n = ::poll(&p, 1, timeout_ms);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  ssize_t Recv(char* into, std::size_t size) {
    for (;;) {
      ssize_t n = ::recv(fd_, into, size, 0);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  const int fd_;
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  const int read_timeout_ms_;
  const int write_timeout_ms_;
  bool taken_over_ = false;
};

}  // namespace

ServedConnection* CurrentConnection() { return current_connection; }

bool HttpServer::process_and_close_socket(socket_t sock) {
  // Blocking, with the server's timeouts as the socket's own: a read or write that waits longer
  // fails with EAGAIN.
  int flags = ::fcntl(sock, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) != 0) (void)::fcntl(sock, F_SETFL, flags & ~O_NONBLOCK);
  SetTimeout(sock, SO_RCVTIMEO, read_timeout_sec_, read_timeout_usec_);
  SetTimeout(sock, SO_SNDTIMEO, write_timeout_sec_, write_timeout_usec_);
  // Answers leave in several writes (head, body, chunks): with Nagle's algorithm each small one
  // would wait for the client's delayed ACK. (Fails harmlessly on a Unix socket.)
  int one = 1;
  (void)::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  ConnectionStream stream(sock, Milliseconds(read_timeout_sec_, read_timeout_usec_),
                          Milliseconds(write_timeout_sec_, write_timeout_usec_));
  current_connection = &stream;
  // The next request must begin within the keep-alive timeout; a stopping server ends the wait.
  auto next_request_begins = [&] {
    if (stream.HasBuffered()) return true;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
      pollfd p{.fd = sock, .events = POLLIN, .revents = 0};
      int n = ::poll(&p, 1, kStopCheckMs);
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return false;
  };
  bool ok = false;
  for (std::size_t left = keep_alive_max_count_; left > 0 && next_request_begins(); --left) {
    bool connection_closed = false;
    ok = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!ok || connection_closed || stream.taken_over()) break;
  }
  current_connection = nullptr;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace osb::runtime
