// Reaching a TCP port inside a sandbox: the sandbox has its own network namespace with loopback
// only, so the runtime makes the connection from inside it (network_namespace.h): the socket is
// created there, connects to 127.0.0.1:<port>, and the caller uses it as any other.
#pragma once

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {

// A connected socket to 127.0.0.1:`port` in the network namespace of process `pid`.
// Unavailable when nothing listens there; FailedPrecondition when this runtime may not enter the
// namespace (it needs root); NotFound when the process is gone.
absl::StatusOr<UniqueFd> ConnectToSandboxPort(pid_t pid, int port);

}  // namespace osb::runtime
