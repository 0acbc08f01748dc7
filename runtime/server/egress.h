// A sandbox's way out: every sandbox has a private network namespace with loopback only; one
// whose networkPolicy allows egress also gets pasta (passt's user-mode network stack), which gives
// the namespace an interface (10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3 forwarded to the host's
// resolver) and carries its TCP, UDP and ICMP out through ordinary host sockets. The host's own
// loopback stays unreachable: no gateway mapping (--no-map-gw), no port forwarding in either
// direction (-t/-u/-T/-U none).
//
//   auto allowed = EgressAllowed(request.network_policy);  // 400 / 501 for what cannot be honoured
//   auto pasta = StartEgress(helper, agent_pid, log_path);  // once the agent runs
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace osb::runtime {

// The nameserver a sandbox with egress uses (forwarded by pasta to the host's first resolver).
inline constexpr char kSandboxDns[] = "10.0.2.3";

// Whether `policy` lets the sandbox out. No policy (absent or null): no (loopback only, the safe
// default). An empty object: yes, as the official egress sidecar starts allow-all. Otherwise
// `defaultAction` (default "deny"), which every egress rule must agree with: per-destination
// rules are Unimplemented (SANDBOX::API_NOT_SUPPORTED), since osb-runtime cannot filter by
// destination; members of the wrong type are InvalidArgument (SANDBOX::INVALID_PARAMETER).
absl::StatusOr<bool> EgressAllowed(const std::optional<nlohmann::json>& policy);

// The pasta binary on PATH (or in /usr/bin, /usr/sbin); "" when there is none.
std::string FindPasta();

// Starts pasta for the network namespace of `agent_pid` (host pid), logging to `log_path`, and
// returns its pid (the caller's child, to reap) once the namespace has its default route.
// Unavailable when it exits or does not finish within `timeout` (it is killed then), with its log.
absl::StatusOr<pid_t> StartEgress(const std::string& pasta, pid_t agent_pid,
                                  const std::string& log_path,
                                  absl::Duration timeout = absl::Seconds(5));

}  // namespace osb::runtime
