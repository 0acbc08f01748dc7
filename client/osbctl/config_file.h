// osbctl's TOML config file: defaults for flags, so a user need not repeat them. Precedence: a
// flag on the command line, then the environment (OSBD_SOCKET), then this file, then osbctl's own
// defaults.
//
//   # ~/.config/opensandbox/osbctl.toml
//   socket = "/run/opensandbox/osbd.sock"   # osbd's socket
//   output = "table"                        # json, yaml, raw or table
//   image = "python:3.11"                   # image of `run` and `sandbox create`
//   timeout = 1800                          # their time to live in seconds (>= 60)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace osb::cli {

struct CliConfig {
  std::string path;  // the file read; empty when there was none
  std::optional<std::string> socket;
  std::optional<std::string> output;
  std::optional<std::string> image;
  std::optional<int64_t> timeout_seconds;
};

// The file's path: $OSBCTL_CONFIG, else $XDG_CONFIG_HOME/opensandbox/osbctl.toml, else
// ~/.config/opensandbox/osbctl.toml.
std::string CliConfigPath();

// Reads the config file. No file at the default path is an empty config; a file named by
// OSBCTL_CONFIG that does not exist, TOML that does not parse (the message has the line and
// column), an unknown key or a value of the wrong type or range is InvalidArgument naming the file.
absl::StatusOr<CliConfig> LoadCliConfig();

}  // namespace osb::cli
