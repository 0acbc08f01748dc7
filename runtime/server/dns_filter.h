// The DNS server of sandboxes whose egress policy decides by name (egress_policy.h). One thread
// of osb-runtime serves them all: each such sandbox gets a UDP socket on 127.0.0.53:53 inside its
// own network namespace (its resolv.conf names it), made from outside (network_namespace.h), so
// nothing in the sandbox can change what it answers.
//
// A query for a denied name is answered NXDOMAIN at once. A query for an allowed name goes to the
// upstream server (the host's resolver) from a socket of its own; when the sandbox denies by
// default, the IPv4 addresses in the answer are routed (egress_routes.h) before the answer is
// passed on, so the connection that follows finds its way, and AAAA queries get an empty answer
// (such a sandbox has IPv4 only). No answer within 4 s: SERVFAIL. At most 64 queries of a sandbox
// wait at once (more are dropped, as a busy server does), and at most 4096 addresses are routed
// per sandbox.
//
// While osb-runtime is down, these sandboxes resolve nothing; their routes stay. A restarted
// runtime adds them again.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rest/sys/unique_fd.h"
#include "runtime/server/egress_policy.h"

namespace osb::runtime {

// Where a filtered sandbox's resolv.conf points.
inline constexpr char kFilterDns[] = "127.0.0.53";

class DnsFilter {
 public:
  // `upstream`: an IP address, IPv4 with an optional ":PORT" (53 by default); "" for the first
  // nameserver of /etc/resolv.conf (none, or not an address: 127.0.0.1). InvalidArgument for an
  // unusable `upstream`.
  static absl::StatusOr<std::unique_ptr<DnsFilter>> Start(const std::string& upstream);
  ~DnsFilter();

  // Starts answering the sandbox `id` whose agent is `agent_pid`, by `policy`. Replaces what
  // answered it before. Unavailable (with the reason) when its socket cannot be made.
  absl::Status Add(const std::string& id, pid_t agent_pid, const EgressPolicy& policy);
  // Stops answering `id` (nothing when it was not served).
  void Remove(const std::string& id);
  // Answers `id` by `policy` from now on (the egress API changed its rules; the default action
  // stays). When it denies by default, the routes to addresses no allowed name led to go as
  // well (those an allowed name led to stay, so live connections go on). Returns once it
  // applies, with `*applied` set: an error with `*applied` true is a route that could not be
  // removed (its address stays reachable); NotFound when `id` is not served.
  absl::Status SetPolicy(const std::string& id, const EgressPolicy& policy, bool* applied);

  // The upstream server, for the runtime's banner.
  std::string upstream() const;

 private:
  struct Sandbox;
  struct Pending;
  struct PolicyChange;
  void Apply(const std::vector<std::shared_ptr<Sandbox>>& served, PolicyChange& change);
  DnsFilter(sockaddr_storage upstream, socklen_t upstream_size, UniqueFd wake);
  void Loop();
  void Serve(const std::shared_ptr<Sandbox>& sandbox);
  void Forward(const std::shared_ptr<Sandbox>& sandbox, const std::string& packet,
               uint16_t id, bool route, const sockaddr_storage& client, socklen_t client_size);
  void Finish(Pending& pending);

  const sockaddr_storage upstream_;
  const socklen_t upstream_size_;
  UniqueFd wake_;  // an eventfd: the sandboxes changed, or the filter stops
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Sandbox>> sandboxes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<PolicyChange>> changes_ ABSL_GUARDED_BY(mu_);  // for the loop
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<int, std::unique_ptr<Pending>> pending_;  // by upstream socket; the loop's own
  std::thread loop_;
};

}  // namespace osb::runtime
