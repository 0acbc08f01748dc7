// osbd's TOML config file: the default connection, named connection profiles, who may connect,
// the optional TCP listener and Prometheus endpoint, and templates. Precedence: a flag, then its
// environment variable, then this file, then the built-in default.
//
//   # ~/.config/opensandbox/osbd.toml (root: /etc/opensandbox/osbd.toml)
//   domain = "sandbox.example.com:8080"   # empty or absent: the embedded osb-runtime
//   protocol = "https"
//   api_key = "..."
//   request_timeout = 30                   # seconds, per upstream request
//   use_server_proxy = false
//   ca_file = "/etc/opensandbox/ca.pem"    # CAs trusted for https (default: the system's)
//   headers = { X-Team = "infra" }         # sent on every upstream request
//   socket = "/run/opensandbox/osbd.sock"
//   state_dir = "/var/lib/opensandbox"
//   log_format = "json"                    # or "text" (the default); API keys never appear
//
//   [profiles.staging]                     # Connection.profile = "staging"; same keys as above
//   domain = "https://staging.example.com"
//   api_key = "..."
//
//   [access]
//   group = "opensandbox"                  # its members may connect too (socket 0660)
//
//   [tcp]                                  # a loopback TCP listener, for clients without Unix
//   listen = "127.0.0.1:7443"              # sockets; every call must carry
//   token_file = "/etc/opensandbox/token"  # "authorization: Bearer <token>" (file not readable
//                                          # by others)
//   [metrics]
//   listen = "127.0.0.1:9464"              # Prometheus text at http://127.0.0.1:9464/metrics
//
//   [templates.python]                     # a template (Templates service), in the proto's JSON
//   image = "python:3.11"                  # field names; the API cannot replace or delete it
//   timeout = "1800s"
//   env = { PYTHONUNBUFFERED = "1" }
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/log_format.h"
#include "daemon/upstream/origin.h"
#include "opensandbox/v1/templates.pb.h"

namespace osb::daemon {

// The connection fields a profile (or the file's top level) sets; unset ones fall through.
struct ConnectionProfile {
  std::optional<std::string> domain, protocol, api_key, ca_file;
  HeaderList headers;
  std::optional<bool> use_server_proxy;
  std::optional<absl::Duration> request_timeout;
};

struct DaemonConfig {
  std::string path;  // the file read; empty when there was none
  std::optional<std::string> socket, state_dir;
  std::optional<LogFormat> log_format;
  ConnectionProfile defaults;  // the top-level connection keys
  std::map<std::string, ConnectionProfile> profiles;
  std::optional<gid_t> access_group;
  std::string tcp_listen, tcp_token;  // both empty: no TCP listener
  std::string metrics_listen;         // empty: no Prometheus endpoint
  std::vector<opensandbox::v1::Template> templates;
};

// $XDG_CONFIG_HOME/opensandbox/osbd.toml, else ~/.config/opensandbox/osbd.toml; for root without
// XDG_CONFIG_HOME, /etc/opensandbox/osbd.toml.
std::string DefaultDaemonConfigPath();

// Reads the config file. A missing file is an empty config unless `named` (given by --config or
// OSBD_CONFIG); TOML that does not parse (line and column), an unknown key, a value of the wrong
// type, an unknown group, a TCP listener without a token or with a token file others can read, or
// a template that does not parse is InvalidArgument naming the file.
absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path, bool named);

// `base` with the fields `profile` sets; a profile naming another domain does not inherit the
// base's API key. InvalidArgument for a malformed domain or protocol.
absl::StatusOr<Origin> ApplyProfile(const ConnectionProfile& profile, Origin base);

}  // namespace osb::daemon
