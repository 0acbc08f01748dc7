#include "client/osbctl/config_file.h"

#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "rest/sys/toml_file.h"

namespace osb::cli {
namespace {

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

std::string CliConfigPath() {
  if (const char* env = std::getenv("OSBCTL_CONFIG"); env != nullptr && *env) return env;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg) {
    return absl::StrCat(xdg, "/opensandbox/osbctl.toml");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "", "/.config/opensandbox/osbctl.toml");
}

absl::StatusOr<CliConfig> LoadCliConfig() {
  const std::string path = CliConfigPath();
  const bool named = std::getenv("OSBCTL_CONFIG") != nullptr && *std::getenv("OSBCTL_CONFIG");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (named) return Bad(path, "no such file (named by OSBCTL_CONFIG)");
    return CliConfig{};
  }
  auto parsed = ParseTomlFile(path);
  if (!parsed.ok()) return parsed.status();
  const toml::table& table = *parsed;
  CliConfig config;
  config.path = path;
  if (auto s = CheckTomlKeys(table, {"socket", "output", "image", "timeout"}, path); !s.ok()) {
    return s;
  }
  for (auto [key, out] : {std::pair{"socket", &config.socket}, std::pair{"output", &config.output},
                          std::pair{"image", &config.image}}) {
    auto value = TomlString(table, key, path);
    if (!value.ok()) return value.status();
    *out = std::move(*value);
  }
  if (config.output.has_value() && *config.output != "json" && *config.output != "yaml" &&
      *config.output != "raw" && *config.output != "table") {
    return Bad(path, "'output' must be json, yaml, raw or table");
  }
  if (const toml::node* node = table.get("timeout"); node != nullptr) {
    if (!node->is_integer() || node->as_integer()->get() < 60) {
      return Bad(path, "'timeout' must be a whole number of seconds, at least 60");
    }
    config.timeout_seconds = node->as_integer()->get();
  }
  return config;
}

}  // namespace osb::cli
