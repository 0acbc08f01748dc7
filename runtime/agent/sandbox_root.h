// Builds the sandbox's filesystem from inside its fresh mount namespace and moves into it:
//
//   /            overlay: lower = the runtime's skeleton (minimal /etc, symlinks, mount points),
//                upper = the sandbox's private directory, so writes land there and vanish on kill
//   /usr (+ /bin, /lib... when they are not symlinks)   the host's, bound read-only (host base;
//                an image's rootfs brings its own)
//   /proc        the sandbox's own pid namespace
//   /dev         tmpfs with null, zero, full, random, urandom, tty bound from the host, devpts, shm
//   /tmp         private tmpfs
//   volumes      host directories or files bound at their mount paths, read-only where asked
//
// Runs as root of the sandbox's user namespace (osb-agent before it serves), before any command
// or the entrypoint is started.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/common/volume_mount.h"

namespace osb::agent {

struct SandboxRootSpec {
  std::string sandbox_dir;  // holds upper/, work/, rootfs/ (created by osb-runtime)
  std::string base_dir;        // the overlay's lower layer: the host base or an image's rootfs
  bool bind_host_dirs = true;  // bind the host's /usr, /bin, /lib... read-only (host base only)
  std::string hostname;
  std::vector<runtime::VolumeMount> volumes;
  // The size of /tmp, a tmpfs whose pages count against the sandbox's memory; nullopt: the
  // kernel's default (half the host's memory).
  std::optional<int64_t> tmp_bytes;
};

// Mounts everything under <sandbox_dir>/rootfs, calls `before_pivot` (the last moment host paths
// are visible: the agent binds its socket there), then pivots into the new root and detaches the
// host's tree.
absl::Status EnterSandboxRoot(const SandboxRootSpec& spec,
                              const std::function<absl::Status()>& before_pivot);

// Brings the loopback interface of the current network namespace up.
absl::Status BringUpLoopback();

}  // namespace osb::agent
