#include "runtime/server/runtime_config.h"

#include <climits>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "rest/sys/toml_file.h"

namespace osb::runtime {
namespace {

absl::Status Bad(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", why));
}

}  // namespace

absl::StatusOr<RuntimeConfig> LoadRuntimeConfig(const std::string& path) {
  auto parsed = ParseTomlFile(path);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config ", parsed.status().message()));
  }
  const toml::table& table = *parsed;
  RuntimeConfig config;
  if (auto s = CheckTomlKeys(table, {"images", "storage"}, "config " + path); !s.ok()) return s;
  auto existing_dir = [&](const std::string& given,
                          const std::string& what) -> absl::StatusOr<std::string> {
    char resolved[PATH_MAX];
    if (given.empty() || given[0] != '/') return Bad(path, what + " must be an absolute path");
    if (::realpath(given.c_str(), resolved) == nullptr) {
      return Bad(path, absl::StrCat(what, " ", given, " does not exist"));
    }
    return std::string(resolved);
  };
  if (table.contains("images")) {
    const toml::table* images = table["images"].as_table();
    if (images == nullptr) return Bad(path, "'images' is a section");
    for (const auto& [name, value] : *images) {
      const std::string image(name.str());
      if (!value.is_string()) return Bad(path, "images.\"" + image + "\" must be a path");
      auto rootfs = existing_dir(value.as_string()->get(), "the rootfs of image " + image);
      if (!rootfs.ok()) return rootfs.status();
      config.images[image] = *rootfs;
    }
  }
  const toml::table* storage = table["storage"].as_table();
  if (table.contains("storage") && storage == nullptr) return Bad(path, "'storage' is a section");
  if (storage == nullptr) return config;
  if (auto s = CheckTomlKeys(*storage, {"allowed_host_paths"}, "config " + path + " [storage]");
      !s.ok()) {
    return s;
  }
  if (const toml::node* node = storage->get("allowed_host_paths"); node != nullptr) {
    const toml::array* paths = node->as_array();
    if (paths == nullptr) return Bad(path, "'storage.allowed_host_paths' must be an array");
    for (const toml::node& entry : *paths) {
      if (!entry.is_string()) {
        return Bad(path, "'storage.allowed_host_paths' holds absolute paths only");
      }
      auto dir = existing_dir(entry.as_string()->get(), "allowed host path");
      if (!dir.ok()) return dir.status();
      config.allowed_host_paths.push_back(*dir);
    }
  }
  return config;
}

}  // namespace osb::runtime
