// Starting one `bash -c <command>` of execd's POST /command, foreground or background (or, for
// an empty command, a `bash` reading its stdin: a PTY session's shell): the request's cwd, envs
// (on top of the agent's environment and the sandbox's env file, env_file.h; nothing else carries
// over between commands), gid and uid, in a new session so that the command and everything it
// starts form one process group that can be signalled together.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "rest/execd.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

// The descriptors that become the command's stdin, stdout and stderr, and optionally its fds 3
// and 4 (a code context's control pipes: kernel_drivers.h).
struct ShellStdio {
  int in = -1;
  int out = -1;
  int err = -1;
  int fd3 = -1;  // both or neither
  int fd4 = -1;
  // in, out and err are a terminal's slave side, which becomes the command's controlling terminal
  // (a PTY session's shell).
  bool terminal = false;
};

struct SpawnedShell {
  pid_t pid = -1;          // also the process group id
  std::string exec_error;  // non-empty when the command could not be started (it exited 127)
};

// Checks the request (cwd must be an existing directory: InvalidArgument), then forks through
// `reaper` (`on_exit` gets the wait status) and waits until the child has exec'd bash or failed.
absl::StatusOr<SpawnedShell> SpawnShell(Reaper& reaper, const rest::RunCommandRequest& request,
                                        ShellStdio stdio, Reaper::OnExit on_exit);

// SIGKILL to the whole process group of `pid`.
void KillProcessGroup(pid_t pid);

}  // namespace osb::agent
