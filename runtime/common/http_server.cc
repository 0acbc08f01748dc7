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

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rest/error.h"
#include "rest/sys/send_all.h"
#include "runtime/common/http_response.h"

namespace osb::runtime {
namespace {

constexpr std::size_t kReadBuffer = 128 * 1024;
static_assert(HttpServer::kMaxRequestHead < kReadBuffer, "a whole head fits the read buffer");
constexpr std::size_t kNoLimit = static_cast<std::size_t>(-1);
// How long, and for how many bytes, a connection closed on a request not read whole keeps
// reading (and dropping) what its client still sends: closing a socket with unread bytes resets
// the connection, and the client could lose the answer before reading it.
constexpr int kLingerMs = 1000;
constexpr std::size_t kLingerBytes = 16 << 20;
// How often a connection waiting for its next request looks whether the server is stopping.
constexpr int kStopCheckMs = 100;

class ConnectionStream;
thread_local ConnectionStream* current_connection = nullptr;

int Milliseconds(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

// What is left until `deadline`, in whole milliseconds for poll(); 0 or less once it has passed.
int MillisecondsUntil(std::chrono::steady_clock::time_point deadline) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count());
}

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
  bool closes_after_response() const { return close_after_response_; }
  int refusal_status() const { return refusal_status_; }

  enum class Head { kComplete, kEnded, kRefused };

  // Reads until the buffer holds the next request's whole head (request line and headers, to the
  // blank line), left there for cpp-httplib to parse: kEnded when the connection ends or the
  // read timeout passes first; kRefused (refusal_status, head_refusal) when it is too large.
  Head AwaitHead() {
    request_read_ = 0;
    head_size_ = 0;
    body_limit_ = kNoLimit;
    body_over_limit_ = false;
    routed_ = false;
    if (begin_ > 0) {  // the head is gathered from the buffer's start
      std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(read_timeout_ms_);
    std::size_t line_start = 0;
    bool request_line = true;
    for (std::size_t pos = 0;; ++pos) {
      if (pos == end_) {
        if (TooLarge(end_ - line_start, end_, request_line)) return Head::kRefused;
        const int left = MillisecondsUntil(deadline);
        pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
        if (left <= 0 || Poll(p, left) <= 0) {
          if (end_ == 0) return Head::kEnded;
          Refuse(408, absl::StrCat("the request line and headers did not arrive within ",
                                   read_timeout_ms_, " ms"));
          return Head::kRefused;
        }
        ssize_t n = Recv(buffer_.get() + end_, kReadBuffer - end_);
        if (n <= 0) return Head::kEnded;
        end_ += static_cast<std::size_t>(n);
      }
      if (buffer_[pos] != '\n') continue;
      const std::size_t line = pos + 1 - line_start;  // with its line ending, as httplib counts
      if (TooLarge(line, pos + 1, request_line)) return Head::kRefused;
      // A blank line (CRLF, as httplib reads lines: it skips a bare LF one) ends the head. (A
      // blank first line is the request line, which httplib refuses as such.)
      if (!request_line && line == 2 && buffer_[line_start] == '\r') {
        head_size_ = pos + 1;
        return Head::kComplete;
      }
      request_line = false;
      line_start = pos + 1;
    }
  }

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
    if (body_limit_ != kNoLimit) {
      const std::size_t allowed = head_size_ + body_limit_;
      if (request_read_ >= allowed) {
        body_over_limit_ = true;
        return -1;
      }
      size = std::min(size, allowed - request_read_);
    }
    ssize_t n = ReadBuffered(ptr, size);
    if (n > 0) request_read_ += static_cast<std::size_t>(n);
    return n;
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

  // Ends the connection once the current response is written (CloseConnectionAfter).
  void CloseAfterResponse() { close_after_response_ = true; }
  // Reads of the current request's body fail past `bytes` (LimitJsonBody).
  void LimitBody(std::size_t bytes) { body_limit_ = bytes; }
  bool body_over_limit() const { return body_over_limit_; }
  std::size_t body_limit() const { return body_limit_; }
  // Why the current request's head was refused before parsing; "" when it was not.
  const std::string& head_refusal() const { return head_refusal_; }
  // Whether a route took the current request (HttpServer's route methods).
  bool routed() const { return routed_; }
  void MarkRouted() { routed_ = true; }

 private:
  // Whether a line of `length` bytes so far, in a head of `head_length` so far, breaks a limit;
  // refuses the head if so.
  bool TooLarge(std::size_t length, std::size_t head_length, bool request_line) {
    if (request_line && length > HttpServer::kMaxRequestLine) {
      return Refuse(414, absl::StrCat("the request line is longer than ",
                                      HttpServer::kMaxRequestLine, " bytes"));
    }
    if (!request_line && length > HttpServer::kMaxHeaderLine) {
      return Refuse(431, absl::StrCat("a request header line is longer than ",
                                      HttpServer::kMaxHeaderLine, " bytes"));
    }
    if (head_length > HttpServer::kMaxRequestHead) {
      return Refuse(431, absl::StrCat("the request line and headers are longer than ",
                                      HttpServer::kMaxRequestHead, " bytes"));
    }
    return false;
  }

  bool Refuse(int status, std::string why) {
    refusal_status_ = status;
    head_refusal_ = std::move(why);
    return true;
  }

  ssize_t ReadBuffered(char* ptr, std::size_t size) {
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
  bool close_after_response_ = false;
  // The current request: its bytes read so far (head included), its head's size, its body's
  // limit, and why its head was refused.
  std::size_t request_read_ = 0;
  std::size_t head_size_ = 0;
  std::size_t body_limit_ = kNoLimit;
  bool body_over_limit_ = false;
  bool routed_ = false;
  int refusal_status_ = 0;
  std::string head_refusal_;
};

// `res` as an HTTP/1.1 response that closes its connection.
std::string Serialize(const httplib::Response& res) {
  const char* reason = res.status == 408   ? "Request Timeout"
                       : res.status == 414 ? "URI Too Long"
                       : res.status == 431 ? "Request Header Fields Too Large"
                                           : "Bad Request";
  std::string out = absl::StrCat("HTTP/1.1 ", res.status, " ", reason, "\r\n");
  for (const auto& [name, value] : res.headers) {
    if (absl::EqualsIgnoreCase(name, "Connection") ||
        absl::EqualsIgnoreCase(name, "Content-Length")) {
      continue;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&out, "Content-Length: ", res.body.size(), "\r\nConnection: close\r\n\r\n",
                  res.body);
  return out;
}

// Closes a connection whose client may still be sending: our side is shut first, then what
// arrives is dropped for a while (kLingerMs, kLingerBytes), so that the answer is not lost to a
// reset.
void LingeringClose(int fd) {
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLingerMs);
  char scratch[16 * 1024];
  for (std::size_t dropped = 0; dropped < kLingerBytes;) {
    const int left = MillisecondsUntil(deadline);
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (left <= 0 || ::poll(&p, 1, left) <= 0) break;
    ssize_t n = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    if (n > 0) dropped += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

}  // namespace

ServedConnection* CurrentConnection() { return current_connection; }

void CloseConnectionAfter(httplib::Response& res) {
  res.set_header("Connection", "close");
  if (current_connection != nullptr) current_connection->CloseAfterResponse();
}

bool DeclaresBody(const httplib::Request& req) {
  const std::string length = req.get_header_value("Content-Length");
  return (!length.empty() && length != "0") || req.has_header("Transfer-Encoding");
}

void AnswerUnhandledError(const httplib::Request& req, httplib::Response& res,
                          std::string_view code) {
  const ConnectionStream* connection = current_connection;
  if (connection != nullptr && connection->routed()) return;  // the route's own answer
  if (!res.body.empty()) return;
  // httplib answers these without reading a body the request may have: it would be taken for
  // the next request.
  if (DeclaresBody(req)) CloseConnectionAfter(res);
  if (res.status == 404) {
    return ReplyError(res, 404, rest::kNotFound,
                      absl::StrCat("no route for ", req.method, " ", req.path));
  }
  if (res.status == 416) {
    // httplib refuses an unparsable Range before routing; execd words it so (COMPAT.md §2.6).
    return ReplyError(res, 416, rest::kUnknown, "the Range header cannot be parsed");
  }
  // Everything else is httplib's refusal of a request it may not have read whole: an unknown
  // method, a malformed request line, header or body, a body over its route's limit.
  CloseConnectionAfter(res);
  if (connection != nullptr && !connection->head_refusal().empty()) {
    ReplyError(res, res.status, code, connection->head_refusal());
  } else if (connection != nullptr && connection->body_over_limit()) {
    ReplyError(res, 413, code,
               absl::StrCat("the request body is larger than this route's limit: more than ",
                            connection->body_limit(), " bytes of it were sent"));
  } else if (res.status == 400) {
    ReplyError(res, 400, code,
               req.path.empty()
                   ? "the request line cannot be parsed"
                   : absl::StrCat("the request ", req.method, " ", req.path,
                                  " cannot be read: a malformed header or body, an unknown "
                                  "method, or a connection that ended early"));
  } else {
    ReplyError(res, res.status, code, "the request cannot be served");
  }
}

httplib::Server::HandlerResponse LimitJsonBody(const httplib::Request& req, httplib::Response& res,
                                               std::size_t bytes, std::string_view code) {
  if (current_connection != nullptr) current_connection->LimitBody(bytes);
  const std::string encoding = req.get_header_value("Content-Encoding");
  if (encoding.empty() || absl::EqualsIgnoreCase(encoding, "identity")) {
    return httplib::Server::HandlerResponse::Unhandled;
  }
  CloseConnectionAfter(res);
  ReplyError(res, 415, code,
             absl::StrCat("a compressed request body (Content-Encoding: ", encoding,
                          ") is not accepted here; send it as it is"));
  return httplib::Server::HandlerResponse::Handled;
}

namespace {

// `handler`, marking its request as routed before it runs.
template <typename Fn>
Fn Routed(Fn handler) {
  return [handler = std::move(handler)](auto&&... args) {
    if (current_connection != nullptr) current_connection->MarkRouted();
    handler(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace

#define OSB_HTTP_ROUTE(Method, HandlerType)                                              \
  HttpServer& HttpServer::Method(const std::string& pattern, HandlerType handler) {     \
    httplib::Server::Method(pattern, Routed(std::move(handler)));                        \
    return *this;                                                                        \
  }
OSB_HTTP_ROUTE(Get, Handler)
OSB_HTTP_ROUTE(Post, Handler)
OSB_HTTP_ROUTE(Post, HandlerWithContentReader)
OSB_HTTP_ROUTE(Put, Handler)
OSB_HTTP_ROUTE(Put, HandlerWithContentReader)
OSB_HTTP_ROUTE(Patch, Handler)
OSB_HTTP_ROUTE(Patch, HandlerWithContentReader)
OSB_HTTP_ROUTE(Delete, Handler)
OSB_HTTP_ROUTE(Delete, HandlerWithContentReader)
OSB_HTTP_ROUTE(Options, Handler)
#undef OSB_HTTP_ROUTE

HttpServer::HttpServer() {
  // SO_REUSEADDR (a restarted server binds over its old connections in TIME_WAIT), not the
  // library's SO_REUSEPORT, with which a second server bound the same port as the first and
  // took half its connections.
  set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listener_ = sock;
  });
}

bool HttpServer::Bind(const std::string& host, int port) {
  return bind_to_port(host, port) && RaiseBacklog();
}

int HttpServer::BindToAnyPort(const std::string& host) {
  const int port = bind_to_any_port(host);
  return port > 0 && RaiseBacklog() ? port : -1;
}

bool HttpServer::RaiseBacklog() {
  // listen() on a listening socket changes its backlog (and the kernel caps it at somaxconn).
  return ::listen(listener_, SOMAXCONN) == 0;
}

HttpServer& HttpServer::set_error_handler(Handler handler) {
  error_handler_ = handler;
  httplib::Server::set_error_handler(std::move(handler));
  return *this;
}

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
    const ConnectionStream::Head head = stream.AwaitHead();
    if (head == ConnectionStream::Head::kEnded) break;
    if (head == ConnectionStream::Head::kRefused) {
      // Answered as the server answers httplib's own refusals, without the request it could not
      // parse.
      httplib::Request req;
      httplib::Response res;
      res.status = stream.refusal_status();
      if (error_handler_) error_handler_(req, res);
      if (res.body.empty()) ReplyError(res, res.status, rest::kUnknown, stream.head_refusal());
      ok = SendAll(sock, Serialize(res));
      stream.CloseAfterResponse();
      break;
    }
    bool connection_closed = false;
    ok = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!ok || connection_closed || stream.taken_over() || stream.closes_after_response()) break;
  }
  current_connection = nullptr;
  if (stream.closes_after_response()) {
    LingeringClose(sock);
  } else {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
  return ok;
}

}  // namespace osb::runtime
