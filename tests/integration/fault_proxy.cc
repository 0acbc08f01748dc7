#include "tests/integration/fault_proxy.h"

#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/integration/http_relay.h"

namespace osb::test {
namespace {

// Waits out `delay` unless the client leaves (or the connection is shut down) first.
bool ClientStaysFor(int fd, absl::Duration delay) {
  const absl::Time until = absl::Now() + delay;
  for (absl::Time now = absl::Now(); now < until; now = absl::Now()) {
    pollfd p{.fd = fd, .events = static_cast<short>(POLLIN | POLLRDHUP), .revents = 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(until - now)) + 1;
    if (::poll(&p, 1, ms) <= 0) continue;
    if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return false;
    char byte;
    if (::recv(fd, &byte, 1, MSG_PEEK) <= 0) return false;
    absl::SleepFor(until - absl::Now());  // a pipelined request: it waits its turn
  }
  return true;
}

bool MatchesRequest(const FaultProxy::Match& m, const std::string& method,
                    const std::string& path) {
  return (m.method.empty() || m.method == method) && absl::StartsWith(path, m.path_prefix);
}

}  // namespace

struct FaultProxy::Fault {
  Match match;
  int remaining = 1;  // -1: until ClearFaults
  enum Kind { kAnswer, kCut, kDelay } kind = kAnswer;
  std::string answer;  // kAnswer: the whole response
  std::size_t cut_after = 0;
  absl::Duration delay;
};

// Fields are guarded by the proxy's mu_; the fds are used without it by the serving thread only,
// and closed under it, so that GoDown never shuts down a number that was reused.
struct FaultProxy::Connection {
  enum Stale { kFresh, kStaleDrop, kStaleForwardThenDrop };
  int client = -1;
  int upstream = -1;
  bool idle = false;  // between requests, after at least one
  int served = 0;
  Stale stale = kFresh;
};

struct FaultProxy::Plan {
  std::size_t seen_index = 0;
  std::string answer;  // not empty: send this instead of forwarding
  uint64_t budget = kUnlimited;
  absl::Duration delay;
  Connection::Stale stale = Connection::kFresh;
};

FaultProxy::FaultProxy(std::string upstream) : upstream_(std::move(upstream)) {}

std::unique_ptr<FaultProxy> FaultProxy::Start(const std::string& upstream) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy(upstream));
  if (!proxy->Listen()) return nullptr;
  return proxy;
}

FaultProxy::~FaultProxy() { GoDown(); }

std::string FaultProxy::address() const {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("127.0.0.1:", port_);
}

bool FaultProxy::Listen() {
  absl::MutexLock lock(&mu_);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "the fault proxy cannot listen on port " << port_ << ": "
                  << std::strerror(errno);
    ::close(fd);
    return false;
  }
  port_ = ntohs(addr.sin_port);
  listener_ = fd;
  down_ = false;
  acceptor_ = std::thread([this, fd] { Accept(fd); });
  return true;
}

void FaultProxy::Accept(int listener) {
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
    if (fd < 0) return;  // GoDown shut the listener down
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    absl::MutexLock lock(&mu_);
    if (down_) {
      ::close(fd);
      return;
    }
    auto c = std::make_shared<Connection>();
    c->client = fd;
    ++accepted_;
    connections_.push_back(c);
    servers_.emplace_back([this, c] { Serve(c); });
  }
}

void FaultProxy::GoDown() {
  {
    absl::MutexLock lock(&mu_);
    if (down_) return;
    down_ = true;
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
  }
  acceptor_.join();
  std::vector<std::thread> servers;
  {
    absl::MutexLock lock(&mu_);
    ::close(listener_);
    listener_ = -1;
    for (const auto& c : connections_) {
      if (c->client >= 0) ::shutdown(c->client, SHUT_RDWR);
      if (c->upstream >= 0) ::shutdown(c->upstream, SHUT_RDWR);
    }
    servers.swap(servers_);
  }
  for (auto& t : servers) t.join();
}

bool FaultProxy::ComeBack() {
  {
    absl::MutexLock lock(&mu_);
    if (!down_) return true;
  }
  return Listen();
}

int FaultProxy::ConnectUpstream(Connection& c) {
  const std::size_t colon = upstream_.rfind(':');
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (colon == std::string::npos ||
      ::getaddrinfo(upstream_.substr(0, colon).c_str(), upstream_.substr(colon + 1).c_str(),
                    &hints, &found) != 0) {
    return -1;
  }
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  absl::MutexLock lock(&mu_);
  c.upstream = fd;
  if (down_) ::shutdown(fd, SHUT_RDWR);  // GoDown swept while this connected
  return fd;
}

void FaultProxy::Serve(const std::shared_ptr<Connection>& c) {
  const int client = c->client;
  SocketReader from_client(client);
  std::unique_ptr<SocketReader> from_upstream;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      c->idle = c->served > 0;
    }
    HttpHead request;
    if (!ReadHead(from_client, &request)) break;
    std::vector<std::string> parts = absl::StrSplit(request.start, ' ');
    const std::string method = parts[0];
    const std::string target = parts.size() > 1 ? parts[1] : "";
    const std::string path = target.substr(0, target.find('?'));
    const Plan plan = PlanFor(*c, method, path);
    const BodyFraming request_body = RequestFraming(request);
    if (plan.stale == Connection::kStaleDrop) break;
    uint64_t unlimited = kUnlimited;
    if (!plan.answer.empty()) {
      if (!RelayBody(from_client, -1, request_body, &unlimited) || !SendAll(client, plan.answer)) {
        break;
      }
      continue;
    }
    if (plan.delay > absl::ZeroDuration() && !ClientStaysFor(client, plan.delay)) break;
    if (from_upstream == nullptr) {
      const int fd = ConnectUpstream(*c);
      if (fd < 0) break;  // the client sees the connection close unanswered
      from_upstream = std::make_unique<SocketReader>(fd);
    }
    const int upstream = c->upstream;
    if (!SendAll(upstream, request.raw)) break;
    MarkForwarded(plan.seen_index);
    if (!RelayBody(from_client, upstream, request_body, &unlimited)) break;
    HttpHead response;
    bool answered = ReadHead(*from_upstream, &response);
    while (answered && response.Status() / 100 == 1) {  // 100 Continue and the like
      answered = SendAll(client, response.raw) && ReadHead(*from_upstream, &response);
    }
    if (!answered || plan.stale == Connection::kStaleForwardThenDrop) break;
    const BodyFraming response_body = ResponseFraming(response, method);
    uint64_t budget = plan.budget;
    if (!SendAll(client, response.raw) ||
        !RelayBody(*from_upstream, client, response_body, &budget) ||
        response_body.kind == BodyFraming::kUntilClose || request.HasToken("Connection", "close") ||
        response.HasToken("Connection", "close")) {
      break;
    }
  }
  absl::MutexLock lock(&mu_);
  ::close(c->client);
  c->client = -1;
  if (c->upstream >= 0) ::close(c->upstream);
  c->upstream = -1;
  c->idle = false;
  connections_.erase(std::find(connections_.begin(), connections_.end(), c));
}

FaultProxy::Plan FaultProxy::PlanFor(Connection& c, const std::string& method,
                                     const std::string& path) {
  absl::MutexLock lock(&mu_);
  Plan plan;
  plan.seen_index = seen_.size();
  seen_.push_back({method, path, false});
  c.idle = false;
  ++c.served;
  plan.stale = std::exchange(c.stale, Connection::kFresh);
  if (plan.stale != Connection::kFresh) return plan;
  for (Fault& f : faults_) {
    if (f.remaining == 0 || !MatchesRequest(f.match, method, path)) continue;
    if (f.remaining > 0) --f.remaining;
    switch (f.kind) {
      case Fault::kAnswer:
        plan.answer = f.answer;
        break;
      case Fault::kCut:
        plan.budget = f.cut_after;
        break;
      case Fault::kDelay:
        plan.delay = f.delay;
        break;
    }
  }
  faults_.erase(std::remove_if(faults_.begin(), faults_.end(),
                               [](const Fault& f) { return f.remaining == 0; }),
                faults_.end());
  return plan;
}

void FaultProxy::MarkForwarded(std::size_t seen_index) {
  absl::MutexLock lock(&mu_);
  seen_[seen_index].forwarded = true;
}

void FaultProxy::AnswerNext(const Match& match, int count, int status, const Headers& headers,
                            const std::string& body) {
  std::string answer = absl::StrCat("HTTP/1.1 ", status, " Fault\r\nContent-Length: ",
                                    body.size(), "\r\n");
  if (!body.empty()) absl::StrAppend(&answer, "Content-Type: application/json\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&answer, k, ": ", v, "\r\n");
  absl::StrAppend(&answer, "\r\n", body);
  absl::MutexLock lock(&mu_);
  faults_.push_back({.match = match, .remaining = count, .kind = Fault::kAnswer,
                     .answer = std::move(answer)});
}

void FaultProxy::CutNextResponse(const Match& match, std::size_t body_bytes) {
  absl::MutexLock lock(&mu_);
  faults_.push_back({.match = match, .remaining = 1, .kind = Fault::kCut,
                     .cut_after = body_bytes});
}

void FaultProxy::DelayRequests(const Match& match, absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  faults_.push_back({.match = match, .remaining = -1, .kind = Fault::kDelay, .delay = delay});
}

int FaultProxy::StaleIdleConnections(bool forward_first) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& c : connections_) {
    if (!c->idle) continue;
    c->stale = forward_first ? Connection::kStaleForwardThenDrop : Connection::kStaleDrop;
    ++n;
  }
  return n;
}

int FaultProxy::CloseIdleConnections() {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& c : connections_) {
    if (!c->idle) continue;
    ::shutdown(c->client, SHUT_RDWR);
    ++n;
  }
  return n;
}

bool FaultProxy::WaitUntilIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto all_idle = [this] {
    return std::all_of(connections_.begin(), connections_.end(),
                       [](const std::shared_ptr<Connection>& c) { return c->idle; });
  };
  return mu_.AwaitWithTimeout(absl::Condition(&all_idle), timeout);
}

void FaultProxy::ClearFaults() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
  for (const auto& c : connections_) c->stale = Connection::kFresh;
}

int FaultProxy::CountSeen(const Match& match, bool forwarded_only) const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(std::count_if(seen_.begin(), seen_.end(), [&](const Seen& s) {
    return (s.forwarded || !forwarded_only) && MatchesRequest(match, s.method, s.path);
  }));
}

int FaultProxy::RequestsSeen(const Match& match) const { return CountSeen(match, false); }

int FaultProxy::RequestsForwarded(const Match& match) const { return CountSeen(match, true); }

int FaultProxy::ConnectionsAccepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

}  // namespace osb::test
