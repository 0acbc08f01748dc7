// Making a sandbox as the official SDKs do: POST /sandboxes, then (unless skipped) the readiness
// wait. If anything fails after the POST, or the requester gives up, the new sandbox is deleted
// (best effort): no one is left holding a sandbox they were never given. Used by
// Sandboxes.Create and by warm pools.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/services/daemon_context.h"
#include "daemon/services/health_probe.h"
#include "opensandbox/v1/sandboxes.pb.h"
#include "rest/lifecycle.h"

namespace osb::daemon {

// The SDKs' ready timeout, when a request names none.
inline constexpr absl::Duration kDefaultReadyTimeout = absl::Seconds(30);

struct Provisioning {
  Origin origin;
  rest::CreateSandboxRequest request;
  absl::Duration ready_timeout = kDefaultReadyTimeout;
  bool skip_health_check = false;
  HealthProbe probe;  // the request's health_check; execd /ping by default
  // The requester's own deadline, when it has one.
  absl::Time deadline = absl::InfiniteFuture();
  // Whether the requester gave up (checked while waiting and once the sandbox is ready).
  std::function<bool()> cancelled = [] { return false; };
};

// How to make a sandbox from `request` on `origin`: the request converted and checked (the
// errors of ToRest, and ToHealthProbe's), its ready timeout (default 30 s), health check and
// skip_health_check. The template, if any, must have been applied.
absl::StatusOr<Provisioning> ProvisioningFor(const Origin& origin,
                                             const opensandbox::v1::CreateSandboxRequest& request);

// Calls `done` (on the loop thread, or at once) with the ready sandbox, or the error.
void ProvisionSandbox(DaemonContext& context, Provisioning provisioning,
                      std::function<void(absl::StatusOr<rest::Sandbox>)> done);

}  // namespace osb::daemon
