// The port the official code interpreter SDK checks before it calls a sandbox ready:
// `CodeInterpreter.create(sandbox)` runs `exec 3<>/dev/tcp/127.0.0.1/${JUPYTER_PORT:-44771}` in
// the sandbox and waits until it connects (upstream, Jupyter listens there). osb-agent's code
// interpreter needs no Jupyter, so the agent itself listens on that port of the sandbox's
// loopback while it serves, accepting and closing every connection.
#pragma once

#include "absl/status/status.h"

namespace osb::agent {

inline constexpr int kInterpreterReadinessPort = 44771;

// Binds 127.0.0.1:`port` in the calling process's network namespace and accepts on a thread of
// its own until the process ends. Unavailable when the port cannot be bound.
absl::Status ServeReadinessPort(int port = kInterpreterReadinessPort);

}  // namespace osb::agent
