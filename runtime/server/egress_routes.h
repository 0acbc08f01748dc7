// The routes of a sandbox whose policy denies egress by default but allows some names: its
// network namespace routes nowhere except to the addresses its allowed names resolved to.
//
//   EgressRoutes::Close(agent_pid);        // before the network helper starts
//   (the helper configures 10.0.2.15/24 and the default route via 10.0.2.2)
//   EgressRoutes::OpenGateway(agent_pid);  // after: the gateway alone, the rest of 10.0.2/24 shut
//   auto routes = EgressRoutes::Open(agent_pid);
//   routes->Allow(address);                // address/32 via the gateway, for each A answer
//
// "prohibit" routes for 0.0.0.0/1 and 128.0.0.0/1 are more specific than the helper's default
// route, so they win over it and every packet to an address without its own /32 route fails at
// once with EACCES. The sandbox cannot change its routes: it has no CAP_NET_ADMIN. IPv4 only: the
// helper of such a sandbox configures no IPv6 (egress.h). The routes live in the namespace, so
// they outlive a restart of osb-runtime.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <set>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {

class EgressRoutes {
 public:
  static absl::Status Close(pid_t agent_pid);
  static absl::Status OpenGateway(pid_t agent_pid);
  // A netlink socket in the sandbox's namespace, for Allow.
  static absl::StatusOr<EgressRoutes> Open(pid_t agent_pid);

  // Routes `address` via the gateway (replacing a route it had). Thread-compatible.
  absl::Status Allow(in_addr address);
  // Removes every route Allow made, as the kernel lists them (those of the runtime before a
  // restart included), except those to `keep`. Thread-compatible.
  absl::Status ForgetAllBut(const std::set<in_addr_t>& keep);

 private:
  EgressRoutes(UniqueFd netlink, int link) : netlink_(std::move(netlink)), link_(link) {}
  UniqueFd netlink_;
  int link_;  // the helper's interface
  uint32_t seq_ = 0;
};

}  // namespace osb::runtime
