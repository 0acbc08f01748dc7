#include "runtime/common/volume_mount.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace osb::runtime {

std::string EncodeVolumeMount(const VolumeMount& m) {
  return absl::StrCat(m.read_only ? "ro" : "rw", ":", m.target, ":", m.source);
}

absl::StatusOr<VolumeMount> DecodeVolumeMount(const std::string& arg) {
  std::vector<std::string> parts = absl::StrSplit(arg, absl::MaxSplits(':', 2));
  if (parts.size() != 3 || (parts[0] != "ro" && parts[0] != "rw") || parts[1].empty() ||
      parts[1][0] != '/' || parts[2].empty() || parts[2][0] != '/') {
    return absl::InvalidArgumentError("--volume wants ro|rw:TARGET:SOURCE, got " + arg);
  }
  return VolumeMount{parts[2], parts[1], parts[0] == "ro"};
}

}  // namespace osb::runtime
