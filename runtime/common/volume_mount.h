// One bind mount of a sandbox volume, as osb-runtime plans it (server/volume_plan.h) and osb-agent
// makes it (agent/sandbox_root.h), and its form on the agent's command line.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace osb::runtime {

struct VolumeMount {
  std::string source;  // host path, every symlink resolved
  std::string target;  // absolute and normalized inside the sandbox, no ':'
  bool read_only = false;

  bool operator==(const VolumeMount&) const = default;
};

// The agent's --volume argument: "ro:TARGET:SOURCE" or "rw:TARGET:SOURCE", and back.
// DecodeVolumeMount is InvalidArgument for anything else.
std::string EncodeVolumeMount(const VolumeMount& m);
absl::StatusOr<VolumeMount> DecodeVolumeMount(const std::string& arg);

}  // namespace osb::runtime
