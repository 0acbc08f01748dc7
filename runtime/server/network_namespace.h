// Doing things inside a sandbox's network namespace from the runtime: a short-lived thread enters
// the namespace of the sandbox's agent (setns affects only the calling thread) and runs the
// caller's function there. Sockets it creates stay in that namespace when the thread ends, so the
// runtime can use them as any other: a connection to a port inside, the sandbox's DNS socket, a
// netlink socket for its routes.
#pragma once

#include <sys/types.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace osb::runtime {

// Runs `fn` on a thread inside the network namespace of process `pid` and returns once it has.
// NotFound when the process is gone; FailedPrecondition when this runtime may not enter the
// namespace (it needs root); `fn` does not run then.
absl::Status InNetworkNamespace(pid_t pid, absl::FunctionRef<void()> fn);

}  // namespace osb::runtime
