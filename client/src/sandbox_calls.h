// The calls on a sandbox by id that Sandbox and SandboxManager both offer.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/src/daemon_connection.h"
#include "opensandbox/sandbox_info.h"

namespace opensandbox::internal {

absl::StatusOr<SandboxPage> ListSandboxes(DaemonConnection& daemon, const SandboxFilter& filter);
absl::StatusOr<SandboxInfo> GetSandbox(DaemonConnection& daemon, const std::string& id);
absl::Status KillSandbox(DaemonConnection& daemon, const std::string& id);
absl::Status PauseSandbox(DaemonConnection& daemon, const std::string& id);
// Resumes and waits until the sandbox answers, at most `ready_timeout`.
absl::Status ResumeSandbox(DaemonConnection& daemon, const std::string& id,
                           absl::Duration ready_timeout);
// Moves the expiry to now + `timeout`; returns the new expiry.
absl::StatusOr<absl::Time> RenewSandbox(DaemonConnection& daemon, const std::string& id,
                                        absl::Duration timeout);
// Captures the sandbox's files; with `wait`, returns once the snapshot is Ready or Failed.
absl::StatusOr<SnapshotInfo> CreateSnapshot(DaemonConnection& daemon, const std::string& id,
                                            const std::string& name, bool wait);

}  // namespace opensandbox::internal
