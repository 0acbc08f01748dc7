// With no OpenSandbox domain configured, osbd uses an osb-runtime of its own: the one it started
// before (recorded in <state>/runtime/ready.json and answering /health), or a new one. The runtime
// runs detached, in its own session, so it and its sandboxes outlive osbd; its API key is
// generated once into <state>/runtime/api-key (mode 0600).
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace osb::daemon {

struct EmbeddedRuntimeOptions {
  std::string state_dir;       // osbd's; the runtime's lives in <state_dir>/runtime
  std::string runtime_binary;  // osb-runtime
  // HOST:PORT for a new runtime; empty: 127.0.0.1:8080 when that port is free, else any port.
  std::string listen;
  absl::Duration start_timeout = absl::Seconds(15);
};

struct EmbeddedRuntime {
  std::string address;  // host:port
  std::string api_key;
  pid_t pid = 0;
  bool started = false;  // false: an already running one was found
};

absl::StatusOr<EmbeddedRuntime> FindOrStartRuntime(const EmbeddedRuntimeOptions& options);

// Stops the runtime `pid` as a service manager would (SIGTERM: it finishes what it was doing and
// leaves its sandboxes running, for the next start to find) and waits until it has exited.
// DeadlineExceeded when it is still running after `timeout`; OK when it was already gone.
absl::Status StopRuntime(pid_t pid, absl::Duration timeout = absl::Seconds(30));

}  // namespace osb::daemon
