// How osbd tells that a sandbox is ready (common.proto HealthCheck): execd GET /ping answering
// 2xx (the default, as every official SDK does), a command that must exit 0, an HTTP GET to a
// port inside the sandbox, through the sandbox's endpoint and its headers, answering an expected
// status, or a TCP port listening inside the sandbox (a sh script osbd runs through execd).
//
//   auto probe = ToHealthProbe(request.health_check());       // InvalidArgument for bad fields
//   RunHealthProbe(context, origin, id, execd, *probe, timeout, [](absl::Status healthy) {});
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/common.pb.h"

namespace osb::daemon {

struct HealthProbe {
  enum class Kind { kPing, kCommand, kHttp, kTcp };
  Kind kind = Kind::kPing;
  std::string command;                                // kCommand; kTcp: the script
  absl::Duration command_timeout = absl::Seconds(5);  // kCommand, kTcp: one run's limit
  int port = 0;                                       // kHttp, kTcp
  std::string path = "/";                             // kHttp
  std::vector<int> expected_status;                   // kHttp; empty: any 2xx
  // A fixed pause between probes; nullopt: from 2 ms doubling up to 200 ms.
  std::optional<absl::Duration> interval;
  absl::Duration initial_delay = absl::ZeroDuration();  // after Running, before the first probe
};

// The sh script that exits 0 when a socket listens on TCP `port` in its network namespace, 1
// when none does (/proc/net/tcp and tcp6, state 0A: LISTEN).
std::string TcpListenScript(int port);

// The probe a HealthCheck describes. InvalidArgument for an empty command, a port outside
// 1..65535, a path not starting with '/', an expected status outside 100..599, or a negative
// interval or delay.
absl::StatusOr<HealthProbe> ToHealthProbe(const opensandbox::v1::HealthCheck& check);

// Probes once, within `timeout`: OK when healthy, else why not (Unavailable with what the probe
// saw, or the transport's error). `execd` is the sandbox's resolved execd endpoint.
void RunHealthProbe(DaemonContext& context, const Origin& origin, const std::string& sandbox_id,
                    const ExecdEndpoint& execd, const HealthProbe& probe, absl::Duration timeout,
                    std::function<void(absl::Status)> done);

}  // namespace osb::daemon
