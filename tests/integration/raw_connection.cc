#include "tests/integration/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

namespace osb::test {

std::pair<std::string, int> SplitHostPort(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

namespace {

void SetReadTimeout(int fd) {
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

}  // namespace

RawConnection::RawConnection(const std::string& host, int port)
    : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  SetReadTimeout(fd_);
  ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawConnection::RawConnection(const std::string& unix_socket_path)
    : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (unix_socket_path.size() >= sizeof addr.sun_path) return;
  unix_socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  SetReadTimeout(fd_);
  ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConnection::Send(const std::string& bytes) {
  (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

std::string RawConnection::Read(std::size_t n) {
  while (buffer_.size() < n && Fill()) {
  }
  std::string bytes = buffer_.substr(0, n);
  buffer_.erase(0, bytes.size());
  return bytes;
}

std::string RawConnection::ReadSome() {
  if (buffer_.empty()) Fill();
  return std::exchange(buffer_, "");
}

std::string RawConnection::ReadResponseHead(std::string* body) {
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill()) return "";
  }
  std::string head = buffer_.substr(0, end + 4);
  buffer_.erase(0, end + 4);
  std::size_t length = 0;
  std::smatch m;
  if (std::regex_search(head, m, std::regex("Content-Length: (\\d+)", std::regex::icase))) {
    length = std::stoul(m[1]);
  }
  while (buffer_.size() < length && Fill()) {
  }
  const std::size_t taken = std::min(length, buffer_.size());
  if (body != nullptr) *body = buffer_.substr(0, taken);
  buffer_.erase(0, taken);
  return head;
}

bool RawConnection::Fill() {
  char chunk[4096];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

}  // namespace osb::test
