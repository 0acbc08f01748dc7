// osbd's statistics in the Prometheus text exposition format (version 0.0.4), for the optional
// metrics endpoint: per gRPC method call counts by code and a latency histogram, upstream origins,
// warm pools, and the daemon's gauges.
#pragma once

#include <cstdint>
#include <string>

#include "opensandbox/v1/daemon.pb.h"

namespace osb::daemon {

// `refused_connections`: Unix socket connections refused for their peer credentials.
std::string PrometheusText(const opensandbox::v1::DaemonStats& stats,
                           uint64_t refused_connections);

}  // namespace osb::daemon
