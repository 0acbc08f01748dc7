#include "daemon/daemon_config.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/log_format.h"
#include "google/protobuf/util/json_util.h"
#include "rest/sys/default_paths.h"
#include "rest/sys/file_util.h"
#include "rest/sys/toml_file.h"

namespace osb::daemon {
namespace {

const std::set<std::string> kConnectionKeys = {"domain",           "protocol", "api_key",
                                               "headers",          "ca_file",  "use_server_proxy",
                                               "request_timeout"};

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// The section `key` of `table`: nullptr when absent, InvalidArgument when it is not a table.
absl::StatusOr<const toml::table*> Section(const toml::table& table, const std::string& key,
                                           const std::string& where) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) return Bad(where, absl::StrCat("'", key, "' must be a section"));
  return node->as_table();
}

// The connection keys of `table` (the file's top level or a profile).
absl::Status ReadConnection(const toml::table& table, const std::string& where,
                            ConnectionProfile* out) {
  for (auto [key, field] : {std::pair{"domain", &out->domain},
                            std::pair{"protocol", &out->protocol},
                            std::pair{"api_key", &out->api_key},
                            std::pair{"ca_file", &out->ca_file}}) {
    auto value = TomlString(table, key, where);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }
  if (out->protocol.has_value() && *out->protocol != "http" && *out->protocol != "https") {
    return Bad(where, "'protocol' must be http or https");
  }
  if (out->domain.has_value() && !out->domain->empty()) {
    std::string protocol, authority;
    if (auto s = ParseDomain(*out->domain, &protocol, &authority); !s.ok()) {
      return Bad(where, std::string(s.message()));
    }
  }
  if (const toml::node* node = table.get("use_server_proxy"); node != nullptr) {
    if (!node->is_boolean()) return Bad(where, "'use_server_proxy' must be true or false");
    out->use_server_proxy = node->as_boolean()->get();
  }
  if (const toml::node* node = table.get("request_timeout"); node != nullptr) {
    std::optional<double> seconds = node->value<double>();
    if (!seconds.has_value() || *seconds <= 0) {
      return Bad(where, "'request_timeout' must be a positive number of seconds");
    }
    out->request_timeout = absl::Seconds(*seconds);
  }
  if (const toml::node* node = table.get("headers"); node != nullptr) {
    if (!node->is_table()) return Bad(where, "'headers' must be a table of strings");
    for (const auto& [name, value] : *node->as_table()) {
      if (!value.is_string()) return Bad(where, "'headers' must be a table of strings");
      out->headers.emplace_back(std::string(name.str()), value.as_string()->get());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<gid_t> GroupId(const std::string& group, const std::string& where) {
  if (uint32_t gid = 0; absl::SimpleAtoi(group, &gid)) return static_cast<gid_t>(gid);
  if (const struct group* g = ::getgrnam(group.c_str()); g != nullptr) return g->gr_gid;
  return Bad(where, absl::StrCat("no group named '", group, "'"));
}

absl::Status ReadTcp(const toml::table& tcp, const std::string& where, DaemonConfig* config) {
  if (auto s = CheckTomlKeys(tcp, {"listen", "token_file"}, where); !s.ok()) return s;
  auto listen = TomlString(tcp, "listen", where);
  if (!listen.ok()) return listen.status();
  auto token_file = TomlString(tcp, "token_file", where);
  if (!token_file.ok()) return token_file.status();
  if (!listen->has_value() || (*listen)->empty()) return Bad(where, "'listen' is required");
  if (!token_file->has_value()) {
    return Bad(where, "'token_file' is required: the TCP listener takes only calls with a token");
  }
  struct stat st {};
  if (::stat((*token_file)->c_str(), &st) != 0) {
    return Bad(where, absl::StrCat("token file ", **token_file, " does not exist"));
  }
  if ((st.st_mode & 0077) != 0) {
    return Bad(where, absl::StrCat("token file ", **token_file,
                                   " must not be readable by others (chmod 600)"));
  }
  auto token = ReadFile(**token_file);
  if (!token.ok()) return Bad(where, std::string(token.status().message()));
  config->tcp_token = std::string(absl::StripAsciiWhitespace(*token));
  if (config->tcp_token.size() < 16) {
    return Bad(where,
               absl::StrCat("the token in ", **token_file, " is shorter than 16 characters"));
  }
  config->tcp_listen = **listen;
  return absl::OkStatus();
}

absl::Status ReadTemplates(const toml::table& templates, const std::string& path,
                           DaemonConfig* config) {
  for (const auto& [name, value] : templates) {
    const std::string where = absl::StrCat(path, " [templates.", std::string(name.str()), "]");
    if (!value.is_table()) return Bad(where, "must be a section");
    // TOML → JSON → the proto: the template's keys are the proto's JSON field names.
    std::ostringstream json;
    json << toml::json_formatter(*value.as_table());
    opensandbox::v1::Template t;
    if (auto s = google::protobuf::util::JsonStringToMessage(json.str(), &t); !s.ok()) {
      return Bad(where, std::string(s.message()));
    }
    if (!t.name().empty() && t.name() != name.str()) {
      return Bad(where, "'name' differs from the section's name");
    }
    t.set_name(std::string(name.str()));
    config->templates.push_back(std::move(t));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DefaultDaemonConfigPath() {
  if (std::string xdg = GetEnv("XDG_CONFIG_HOME"); !xdg.empty()) {
    return absl::StrCat(xdg, "/opensandbox/osbd.toml");
  }
  if (::geteuid() == 0) return "/etc/opensandbox/osbd.toml";
  return absl::StrCat(GetEnv("HOME"), "/.config/opensandbox/osbd.toml");
}

absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path, bool named) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (named) return Bad(path, "no such file");
    return DaemonConfig{};
  }
  auto parsed = ParseTomlFile(path);
  if (!parsed.ok()) return parsed.status();
  const toml::table& table = *parsed;
  std::set<std::string> known = kConnectionKeys;
  known.insert(
      {"socket", "state_dir", "log_format", "profiles", "access", "tcp", "metrics", "templates"});
  if (auto s = CheckTomlKeys(table, known, path); !s.ok()) return s;

  DaemonConfig config;
  config.path = path;
  for (auto [key, field] :
       {std::pair{"socket", &config.socket}, std::pair{"state_dir", &config.state_dir}}) {
    auto value = TomlString(table, key, path);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }
  auto log_format = TomlString(table, "log_format", path);
  if (!log_format.ok()) return log_format.status();
  if (log_format->has_value()) {
    auto parsed_format = ParseLogFormat(**log_format);
    if (!parsed_format.ok()) return Bad(path, "'log_format' must be text or json");
    config.log_format = *parsed_format;
  }
  if (auto s = ReadConnection(table, path, &config.defaults); !s.ok()) return s;

  auto profiles = Section(table, "profiles", path);
  if (!profiles.ok()) return profiles.status();
  if (*profiles != nullptr) {
    for (const auto& [name, value] : **profiles) {
      const std::string where = absl::StrCat(path, " [profiles.", std::string(name.str()), "]");
      if (!value.is_table()) return Bad(where, "must be a section");
      if (auto s = CheckTomlKeys(*value.as_table(), kConnectionKeys, where); !s.ok()) return s;
      ConnectionProfile& profile = config.profiles[std::string(name.str())];
      if (auto s = ReadConnection(*value.as_table(), where, &profile); !s.ok()) return s;
    }
  }

  auto access = Section(table, "access", path + " [access]");
  if (!access.ok()) return access.status();
  if (*access != nullptr) {
    const std::string where = path + " [access]";
    if (auto s = CheckTomlKeys(**access, {"group"}, where); !s.ok()) return s;
    auto group = TomlString(**access, "group", where);
    if (!group.ok()) return group.status();
    if (group->has_value()) {
      auto gid = GroupId(**group, where);
      if (!gid.ok()) return gid.status();
      config.access_group = *gid;
    }
  }

  auto tcp = Section(table, "tcp", path);
  if (!tcp.ok()) return tcp.status();
  if (*tcp != nullptr) {
    if (auto s = ReadTcp(**tcp, path + " [tcp]", &config); !s.ok()) return s;
  }

  auto metrics = Section(table, "metrics", path);
  if (!metrics.ok()) return metrics.status();
  if (*metrics != nullptr) {
    const std::string where = path + " [metrics]";
    if (auto s = CheckTomlKeys(**metrics, {"listen"}, where); !s.ok()) return s;
    auto listen = TomlString(**metrics, "listen", where);
    if (!listen.ok()) return listen.status();
    if (!listen->has_value() || (*listen)->empty()) return Bad(where, "'listen' is required");
    config.metrics_listen = **listen;
  }

  auto templates = Section(table, "templates", path);
  if (!templates.ok()) return templates.status();
  if (*templates != nullptr) {
    if (auto s = ReadTemplates(**templates, path, &config); !s.ok()) return s;
  }
  return config;
}

absl::StatusOr<Origin> ApplyProfile(const ConnectionProfile& profile, Origin base) {
  if (profile.domain.has_value() && !profile.domain->empty()) {
    std::string protocol = base.protocol, authority;
    if (auto s = ParseDomain(*profile.domain, &protocol, &authority); !s.ok()) return s;
    if (authority != base.authority) base.api_key.clear();  // never leak a key to another domain
    base.protocol = protocol;
    base.authority = authority;
  }
  if (profile.protocol.has_value()) base.protocol = *profile.protocol;
  if (profile.api_key.has_value()) base.api_key = *profile.api_key;
  if (profile.ca_file.has_value()) base.ca_file = *profile.ca_file;
  for (const auto& header : profile.headers) base.headers.push_back(header);
  if (profile.use_server_proxy.has_value()) base.use_server_proxy = *profile.use_server_proxy;
  if (profile.request_timeout.has_value()) base.request_timeout = *profile.request_timeout;
  return base;
}

}  // namespace osb::daemon
