// Waiting until a sandbox is usable, as the official SDKs do after create and resume: GET the
// sandbox until it is Running (servers that provision asynchronously answer Pending first), resolve
// its execd endpoint (remembered in the endpoint cache), then probe it (health_probe.h: execd
// /ping unless the request names another probe) until the probe passes.
#pragma once

#include <functional>

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/services/daemon_context.h"
#include "daemon/services/health_probe.h"
#include "rest/lifecycle.h"

namespace osb::daemon {

// Calls `done` on the loop thread with the sandbox as last read, or: FailedPrecondition when it
// turned Failed or Terminated, DeadlineExceeded (with the SDKs' explanation) when `timeout` passes
// first, Cancelled when `ctx` is cancelled, or the upstream error.
void WaitUntilReady(DaemonContext& context, const grpc::CallbackServerContext* ctx, Origin origin,
                    rest::Sandbox sandbox, absl::Duration timeout,
                    std::function<void(absl::StatusOr<rest::Sandbox>)> done,
                    HealthProbe probe = {});

// The same for work no call waits on (warm pools): it ends by `deadline` at the latest, and is
// cancelled when `cancelled` says so.
void WaitUntilReady(DaemonContext& context, Origin origin, rest::Sandbox sandbox,
                    absl::Duration timeout, absl::Time deadline, std::function<bool()> cancelled,
                    std::function<void(absl::StatusOr<rest::Sandbox>)> done,
                    HealthProbe probe = {});

// The time left before the call's deadline (effectively infinite without one).
absl::Duration RemainingTime(const grpc::CallbackServerContext* ctx);

}  // namespace osb::daemon
