// osb-runtime's TOML config file (--config FILE): what the lifecycle API cannot say for itself.
// Section and key names follow the official server's config where it has them.
//
//   [images]                                    # image table: image.uri → root filesystem
//   "python:3.12" = "/srv/rootfs/python-3.12"    # a directory holding the image's files
//
//   [storage]
//   allowed_host_paths = ["/srv/datasets", "/home/ci/cache"]   # `host` volumes must be under one
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace osb::runtime {

struct RuntimeConfig {
  // image.uri → its root filesystem (resolved). A sandbox of any other image gets the host base.
  std::map<std::string, std::string> images;
  // Directories (resolved, no symlinks) under which a sandbox may mount a host path. Empty: no
  // `host` volume is allowed.
  std::vector<std::string> allowed_host_paths;
};

// Reads `path`. InvalidArgument naming the file for TOML that does not parse (with line and
// column), an unknown section or key, a value of the wrong type, or a rootfs or allowed host path
// that is not an absolute path to an existing directory.
absl::StatusOr<RuntimeConfig> LoadRuntimeConfig(const std::string& path);

}  // namespace osb::runtime
