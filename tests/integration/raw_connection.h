// One TCP connection written and read byte for byte, for what an HTTP client library would hide
// (an upgrade to a WebSocket, a request cut short).
#pragma once

#include <string>
#include <utility>

namespace osb::test {

// "host:port" split.
std::pair<std::string, int> SplitHostPort(const std::string& address);

class RawConnection {
 public:
  // Connects to an IPv4 `host`; reads time out after 10 s.
  RawConnection(const std::string& host, int port);
  // Connects to a Unix socket; reads time out after 10 s.
  explicit RawConnection(const std::string& unix_socket_path);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return ok_; }
  int fd() const { return fd_; }
  void Send(const std::string& bytes);
  // The next `n` bytes, or fewer when the connection ends first.
  std::string Read(std::size_t n);
  // Whatever is buffered, or else what the next read brings; "" at the end.
  std::string ReadSome();
  // The next response's status line and headers; its body (by Content-Length) goes to `body`
  // when given, and is dropped otherwise. "" at the end.
  std::string ReadResponseHead(std::string* body = nullptr);

 private:
  bool Fill();

  int fd_;
  bool ok_ = false;
  std::string buffer_;
};

}  // namespace osb::test
