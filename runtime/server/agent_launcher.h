// Starts a sandbox: osb-agent as PID 1 of new user, mount, pid, uts, ipc, net and cgroup
// namespaces, its user namespace mapping root to unprivileged host ids. The cgroup namespace is
// made after `before_start` ran, so it is rooted at the sandbox's own cgroup. The agent then builds
// the sandbox's root filesystem itself (runtime/agent/sandbox_root.h).
//
// In two steps, so that the slow one can happen before anyone waits for it: SpawnAgent makes the
// namespaces, moves the agent into its cgroup and execs it (about 20 ms here: the cgroup move
// waits for an RCU grace period, and the exec loads ~40 shared libraries); the agent then waits
// for its configuration, which ConfigureAgent sends (its arguments and environment, as JSON on a
// pipe). Until it is configured, the agent dies with the runtime
// thread that spawned it (PR_SET_PDEATHSIG): a spare never outlives its runtime.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"
#include "runtime/common/volume_mount.h"

namespace osb::runtime {

// Host ids that uid/gid 0..count-1 inside a sandbox map to.
struct IdMapping {
  uid_t host_uid = 0;
  gid_t host_gid = 0;
  uint32_t count = 1;
};

// The ids this process can give sandboxes: as root a 65536-id range starting at `first_id`
// (subordinate ids no host account uses); otherwise only its own uid and gid, one id each.
IdMapping DefaultIdMapping(uid_t first_id);

struct AgentSpawn {
  std::string agent_binary;  // absolute path of osb-agent
  std::string sandbox_dir;   // on its command line from the start: `ps` shows whose agent it is
  std::string log_path;      // the agent's and entrypoint's stdout and stderr
  IdMapping ids;
  // Called with the agent's host pid while it is stopped before its first instruction of its
  // own (its id maps are written, it waits on a pipe): the place to move it into its cgroup, so
  // the agent and all it forks are limited from the start. An error abandons the launch.
  std::function<absl::Status(pid_t)> before_start;
};

// An agent waiting for its configuration. Closing `config` unconfigured makes it exit.
struct SpawnedAgent {
  pid_t pid = -1;
  UniqueFd config;
};

// What ConfigureAgent tells an agent: its sandbox. Its directory and log came with the spawn.
struct AgentLaunch {
  std::string base_dir;       // the overlay's lower layer: the host base or an image's rootfs
  bool bind_host_dirs = true;  // the host base's /usr (and /bin, /lib...) are bound in; not for
                               // an image's rootfs, which has its own
  std::string socket_path;
  std::string hostname;
  std::vector<std::string> entrypoint;
  std::vector<std::string> env;  // KEY=VALUE, the sandbox's environment
  // Limits the runtime enforces, passed on for the agent's metrics.
  std::optional<double> cpus;
  std::optional<int64_t> memory_bytes;
  std::vector<VolumeMount> volumes;  // bound by the agent into the sandbox's root
};

// Clones and execs the agent. Returns once the exec has succeeded. The caller is the agent's
// parent and must reap it.
absl::StatusOr<SpawnedAgent> SpawnAgent(const AgentSpawn& spawn);

// Sends the agent its sandbox and closes its pipe. The agent may still fail later while building
// the root: it then exits, and its log says why.
absl::Status ConfigureAgent(SpawnedAgent& agent, const AgentLaunch& launch);

}  // namespace osb::runtime
