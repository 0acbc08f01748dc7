// A create request's `volumes`, checked and turned into the bind mounts the agent makes:
//
//   host  a host path under one of the config's allowed_host_paths (symlinks resolved first, so
//         a link cannot lead out of them); the sandbox reaches it with its own ids, so a host
//         directory it may write must be writable by them
//   pvc   a named directory <state>/volumes/<claimName>, owned by the sandbox's root, shared by
//         every sandbox that names it; createIfNotExists (default true) and
//         deleteOnSandboxTermination (default false) as the official server has them
//
// `readOnly` and `subPath` apply to both; ossfs is refused as not supported.
//
//   auto plan = PlanVolumes(*request.volumes, options);   // 4xx/501 statuses with VOLUME:: codes
//   ... every other check of the request ...
//   PrepareVolumes(*plan, options);                       // pvc directories made
//   for (const VolumeMount& m : plan->mounts) args.push_back(EncodeVolumeMount(m));
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/common/volume_mount.h"

namespace osb::runtime {

struct VolumePlan {
  std::vector<VolumeMount> mounts;
  std::vector<std::string> delete_on_kill;  // pvc directories the sandbox's kill removes
  std::vector<std::string> to_create;       // pvc directories (and subPaths) PrepareVolumes makes
};

struct VolumeOptions {
  std::vector<std::string> allowed_host_paths;  // resolved (runtime_config.h)
  std::string pvc_root;                         // where named volumes live; must exist
  uid_t owner_uid = 0;                          // the sandbox's root on the host
  gid_t owner_gid = 0;
};

// Checks every volume (name, mountPath, readOnly, subPath, exactly one backend), changing nothing:
// the pvc directories (and subPaths) to make are listed for PrepareVolumes. InvalidArgument for a
// malformed volume, two at one mountPath or a host path outside the allowlist
// (VOLUME::HOST_PATH_NOT_ALLOWED), NotFound for a host path or a pvc that does not exist (and
// may not be created), Unimplemented for ossfs; the message names the volume.
absl::StatusOr<VolumePlan> PlanVolumes(const nlohmann::json& volumes,
                                       const VolumeOptions& options);

// Makes the plan's missing pvc directories and subPaths, owned by the sandbox's root. Call once
// the whole request has been accepted, so a refused request leaves nothing behind.
absl::Status PrepareVolumes(const VolumePlan& plan, const VolumeOptions& options);

}  // namespace osb::runtime
