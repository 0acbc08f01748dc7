#include "runtime/server/runtime_config.h"

#include <climits>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "toml++/toml.h"

namespace osb::runtime {
namespace {

absl::Status Bad(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", why));
}

}  // namespace

absl::StatusOr<RuntimeConfig> LoadRuntimeConfig(const std::string& path) {
  // This toml++ is built with exceptions: a parse error is thrown.
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Bad(path, absl::StrCat(e.source().begin.line, ":", e.source().begin.column, ": ",
                                  std::string(e.description())));
  }
  RuntimeConfig config;
  for (const auto& [key, value] : table) {
    if (key.str() != "storage") {
      return Bad(path, absl::StrCat("unknown section '", std::string(key.str()),
                                    "' (known: storage)"));
    }
  }
  const toml::table* storage = table["storage"].as_table();
  if (table.contains("storage") && storage == nullptr) return Bad(path, "'storage' is a section");
  if (storage == nullptr) return config;
  for (const auto& [key, value] : *storage) {
    if (key.str() != "allowed_host_paths") {
      return Bad(path, absl::StrCat("unknown key 'storage.", std::string(key.str()),
                                    "' (known: allowed_host_paths)"));
    }
  }
  if (const toml::node* node = storage->get("allowed_host_paths"); node != nullptr) {
    const toml::array* paths = node->as_array();
    if (paths == nullptr) return Bad(path, "'storage.allowed_host_paths' must be an array");
    for (const toml::node& entry : *paths) {
      if (!entry.is_string() || entry.as_string()->get().empty() ||
          entry.as_string()->get()[0] != '/') {
        return Bad(path, "'storage.allowed_host_paths' holds absolute paths only");
      }
      const std::string& given = entry.as_string()->get();
      char resolved[PATH_MAX];
      if (::realpath(given.c_str(), resolved) == nullptr) {
        return Bad(path, absl::StrCat("allowed host path ", given, " does not exist"));
      }
      config.allowed_host_paths.emplace_back(resolved);
    }
  }
  return config;
}

}  // namespace osb::runtime
