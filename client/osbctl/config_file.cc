#include "client/osbctl/config_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "toml++/toml.h"

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
  // This toml++ is built with exceptions: a parse error is thrown.
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Bad(path, absl::StrCat(e.source().begin.line, ":", e.source().begin.column, ": ",
                                  std::string(e.description())));
  }
  CliConfig config;
  config.path = path;
  static const std::set<std::string> kKeys = {"socket", "output", "image", "timeout"};
  for (const auto& [key, value] : table) {
    if (kKeys.count(std::string(key.str())) == 0) {
      return Bad(path, absl::StrCat("unknown key '", std::string(key.str()),
                                    "' (known: socket, output, image, timeout)"));
    }
  }
  auto text = [&](const char* key, std::optional<std::string>* out) -> absl::Status {
    const toml::node* node = table.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_string()) return Bad(path, absl::StrCat("'", key, "' must be a string"));
    *out = node->as_string()->get();
    return absl::OkStatus();
  };
  if (auto s = text("socket", &config.socket); !s.ok()) return s;
  if (auto s = text("output", &config.output); !s.ok()) return s;
  if (auto s = text("image", &config.image); !s.ok()) return s;
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
