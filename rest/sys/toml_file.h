// Reading the TOML config files of osbd, osbctl and osb-runtime: one parse with errors that name
// the file, line and column, and the checks every loader repeats (known keys, typed values).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "toml++/toml.h"

namespace osb {

// The file parsed. InvalidArgument "<path>: <line>:<column>: <what>" when it is not TOML, or
// "<path>: cannot read" when it cannot be opened.
absl::StatusOr<toml::table> ParseTomlFile(const std::string& path);

// InvalidArgument naming the first key of `table` not in `known` (and listing those), where
// `where` says whose keys they are ("<path>", "<path> [tcp]").
absl::Status CheckTomlKeys(const toml::table& table, const std::set<std::string>& known,
                           const std::string& where);

// The string at `key`: nullopt when absent, InvalidArgument naming `where` and the key when it is
// not a string.
absl::StatusOr<std::optional<std::string>> TomlString(const toml::table& table,
                                                      const std::string& key,
                                                      const std::string& where);

}  // namespace osb
