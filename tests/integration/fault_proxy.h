// FaultProxy: an HTTP/1.1 forwarding proxy on 127.0.0.1:<ephemeral> in front of one upstream,
// which a test drives to produce what a real network and server do to a client: answers the
// upstream never gave (429 with Retry-After), a response cut mid-body, a slow upstream, an
// upstream that goes away and comes back on the same port, and keep-alive connections the server
// closed while the client still pools them. Otherwise bytes pass unchanged, the Host header
// included: osb-runtime names execd endpoints after it, so execd traffic comes back through the
// proxy too.
//
// Each client connection gets an upstream connection of its own, opened at its first forwarded
// request, so keep-alive on one side is keep-alive on the other; one thread serves each. HTTP is
// parsed only as far as message boundaries (http_relay.h).
//
//   auto proxy = osb::test::FaultProxy::Start(runtime->address());
//   proxy->AnswerNext({"GET", "/v1/sandboxes/"}, 1, 429, {{"Retry-After", "1"}});
//   ... the client talks to proxy->address() ...
//   EXPECT_EQ(proxy->RequestsForwarded({"GET", "/v1/sandboxes/"}), 1);
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace osb::test {

class FaultProxy {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // Which requests a fault or a count is about; an empty field matches anything.
  struct Match {
    std::string method;       // e.g. "GET"
    std::string path_prefix;  // compared with the request target up to its '?'
  };

  // Listens and forwards to `upstream` ("host:port"). nullptr, with a test failure, when it
  // cannot listen.
  static std::unique_ptr<FaultProxy> Start(const std::string& upstream);
  // GoDown: every connection closed, every thread joined.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "127.0.0.1:PORT", the same across GoDown and ComeBack.
  std::string address() const;

  // --- Faults. Each is about requests whose head arrives after it is set. ---

  // The proxy answers the next `count` matching requests itself, with `status`, `headers` and
  // `body` (sent as application/json when not empty); the upstream never sees them.
  void AnswerNext(const Match& match, int count, int status, const Headers& headers = {},
                  const std::string& body = "");
  // The next matching request is forwarded; once its response head and `body_bytes` bytes of
  // its body (as sent, chunk framing included) have reached the client, both of its connections
  // are closed.
  void CutNextResponse(const Match& match, std::size_t body_bytes);
  // Every matching request is held for `delay` before it is forwarded, until ClearFaults. A
  // request whose client leaves meanwhile is never forwarded.
  void DelayRequests(const Match& match, absl::Duration delay);
  // The connections now idle between requests go stale without the client knowing: the next
  // request on each is met with a close and no answer, as when a server's keep-alive close
  // crosses the client's reuse. With `forward_first`, that request reaches the upstream, and
  // is acted on, before the close. Returns how many connections.
  int StaleIdleConnections(bool forward_first);
  // Closes the connections now idle between requests, from the server side and without a word,
  // as a server's keep-alive timeout does. Returns how many.
  int CloseIdleConnections();
  // Waits until every open connection is idle between requests (its client has nothing in
  // flight), so that the two calls above reach all of them. False after `timeout`.
  bool WaitUntilIdle(absl::Duration timeout) const;
  // Forgets the faults not used yet, stale connections included.
  void ClearFaults();

  // The upstream goes away: the proxy stops listening (connects are refused) and closes every
  // open connection, those in the middle of a response included.
  void GoDown();
  // ...and comes back on the same port. False, with a test failure, when it cannot listen.
  bool ComeBack();

  // --- What the proxy saw. ---

  // Requests whose head arrived, whatever became of them.
  int RequestsSeen(const Match& match = {}) const;
  // Requests sent on to the upstream.
  int RequestsForwarded(const Match& match = {}) const;
  // Connections accepted from clients.
  int ConnectionsAccepted() const;

 private:
  struct Fault;
  struct Connection;
  struct Plan;
  struct Seen {
    std::string method, path;
    bool forwarded = false;
  };

  explicit FaultProxy(std::string upstream);
  // Listens on port_ (any port while it is 0) and starts accepting.
  bool Listen();
  void Accept(int listener);
  void Serve(const std::shared_ptr<Connection>& c);
  // What to do with the request just read on `c`: records it and spends the faults it meets.
  Plan PlanFor(Connection& c, const std::string& method, const std::string& path);
  void MarkForwarded(std::size_t seen_index);
  // Opens the upstream connection of `c`; -1 when the upstream cannot be reached.
  int ConnectUpstream(Connection& c);
  int CountSeen(const Match& match, bool forwarded_only) const;

  const std::string upstream_;
  mutable absl::Mutex mu_;
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  int listener_ ABSL_GUARDED_BY(mu_) = -1;
  bool down_ ABSL_GUARDED_BY(mu_) = true;
  std::thread acceptor_;  // touched only by Listen and GoDown, which the test thread calls
  std::vector<std::shared_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> servers_ ABSL_GUARDED_BY(mu_);
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace osb::test
