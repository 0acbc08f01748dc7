// osb-runtime's TOML config file (--config FILE): what the lifecycle API cannot say for itself.
// Section and key names follow the official server's config where it has them.
//
//   [storage]
//   allowed_host_paths = ["/srv/datasets", "/home/ci/cache"]   # `host` volumes must be under one
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace osb::runtime {

struct RuntimeConfig {
  // Directories (resolved, no symlinks) under which a sandbox may mount a host path. Empty: no
  // `host` volume is allowed.
  std::vector<std::string> allowed_host_paths;
};

// Reads `path`. InvalidArgument naming the file for TOML that does not parse (with line and
// column), an unknown section or key, a value of the wrong type, or an allowed host path that is
// not an absolute path to an existing directory.
absl::StatusOr<RuntimeConfig> LoadRuntimeConfig(const std::string& path);

}  // namespace osb::runtime
