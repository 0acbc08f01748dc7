// A sandbox's way out: every sandbox has a private network namespace with loopback only; one
// whose networkPolicy allows egress also gets pasta (passt's user-mode network stack), which gives
// the namespace an interface (10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3 forwarded to the host's
// resolver) and carries its TCP, UDP and ICMP out through ordinary host sockets. The host's own
// loopback stays unreachable: no gateway mapping (--no-map-gw), no port forwarding in either
// direction (-t/-u/-T/-U none).
//
// What may leave is the sandbox's EgressPolicy (egress_policy.h); a policy that decides by name
// gets an IPv4-only helper without its DNS forwarder (the runtime's DNS filter answers instead).
//
//   auto pasta = StartEgress(helper, agent_pid, log_path, by_name);  // once the agent runs
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace osb::runtime {

// The nameserver a sandbox with egress uses (forwarded by pasta to the host's first resolver).
inline constexpr char kSandboxDns[] = "10.0.2.3";
// The sandbox's gateway: pasta's side of its interface.
inline constexpr char kSandboxGateway[] = "10.0.2.2";

// The interface of the default route in the network namespace of `pid` ("" when it has none).
std::string DefaultRouteInterface(pid_t pid);

// The pasta binary on PATH (or in /usr/bin, /usr/sbin); "" when there is none.
std::string FindPasta();

// Starts pasta for the network namespace of `agent_pid` (host pid), logging to `log_path`, and
// returns its pid (the caller's child, to reap) once the namespace has its default route. With
// `by_name`, IPv4 only and no DNS forwarder.
// Unavailable when it exits or does not finish within `timeout` (it is killed then), with its log.
absl::StatusOr<pid_t> StartEgress(const std::string& pasta, pid_t agent_pid,
                                  const std::string& log_path, bool by_name,
                                  absl::Duration timeout = absl::Seconds(5));

}  // namespace osb::runtime
