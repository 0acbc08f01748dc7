// Facts about other processes, read from /proc.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace osb {

// True while `pid` exists and has not exited. A zombie (exited, not yet reaped by a parent that
// is not us) counts as exited.
bool ProcessRunning(pid_t pid);

// The pids listed under `proc_root` (a procfs mount), in directory order.
std::vector<pid_t> ProcessIds(const std::string& proc_root = "/proc");

// Starts `argv` (argv[0] a path) as a daemon: in a new session, as a grandchild so it is nobody's
// zombie and outlives the caller, stdin /dev/null, stdout and stderr appended to `log_path`, no
// signal blocked. Returns its pid once it is forked (not once it is ready).
absl::StatusOr<pid_t> SpawnDetached(const std::vector<std::string>& argv,
                                    const std::string& log_path);

// What a program run by RunToCompletion did.
struct ChildResult {
  int exit_code = -1;    // -1: it did not exit normally (killed, or the timeout struck)
  std::string out, err;  // all it wrote
  absl::Duration wall;   // from just before the fork to its reaping
};

// Runs `argv` (argv[0] a path, or a name looked up in PATH) with stdin /dev/null and `extra_env`
// ("K=V") added to our environment, collecting stdout and stderr, and waits for it. It runs in a
// process group of its own, which is killed when it outlasts `timeout`.
ChildResult RunToCompletion(const std::vector<std::string>& argv,
                            const std::vector<std::string>& extra_env = {},
                            absl::Duration timeout = absl::Minutes(5));

}  // namespace osb
