// SandboxSpec: everything Sandbox::Create can be asked for besides the image, with the official
// SDKs' defaults.
//
//   opensandbox::SandboxSpec spec;
//   spec.timeout = absl::Minutes(30);
//   spec.resource = {{"cpu", "500m"}, {"memory", "512Mi"}};
//   spec.env = {{"MODE", "test"}};
//   auto sandbox = opensandbox::Sandbox::Create("python:3.11", spec);
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace opensandbox {

// One outbound rule: allow or deny a domain ("example.com", "*.example.com").
struct NetworkRule {
  bool allow = false;
  std::string target;
};

// Outbound network policy: rules in order, first match wins, else `default_allow`.
struct NetworkPolicy {
  bool default_allow = false;
  std::vector<NetworkRule> egress;
};

// A storage mount: a host directory (from the service's allowlist) or a named volume.
struct Volume {
  // A DNS label, unique in the sandbox.
  std::string name;
  // Absolute path inside the sandbox.
  std::string mount_path;
  bool read_only = false;
  // Relative subdirectory of the backend to mount; empty: its root.
  std::string sub_path;
  // Exactly one of `host_path` and `claim_name` is set.
  std::string host_path;
  std::string claim_name;
  // For `claim_name`: create it when missing (default), remove it with the sandbox.
  bool create_if_not_exists = true;
  bool delete_on_sandbox_termination = false;
};

// How the holder of a lease ties the sandbox's life to a local process.
enum class Lease {
  kNone,
  // osbd kills the sandbox when the process exits.
  kKillOnExit,
  // osbd renews the sandbox while the process lives and kills it when it exits.
  kRenewWhileAlive,
};

// How Create decides that a Running sandbox is ready (the official SDKs' health check). With
// none of `command`, `http_port` and `tcp_port` the probe is execd's GET /ping, as in every
// official SDK; at most one of them is set.
// The probe is repeated until it passes or SandboxSpec::ready_timeout ends the wait
// (kDeadlineExceeded, IsReadyTimeout; the sandbox is then deleted).
struct HealthCheck {
  // Ready when this shell command exits 0, each run limited to `command_timeout`.
  std::string command;
  absl::Duration command_timeout = absl::Seconds(5);
  // Ready when an HTTP GET of `http_path` on this port inside the sandbox answers one of
  // `expected_status` (empty: any 2xx).
  int http_port = 0;
  std::string http_path = "/";
  std::vector<int> expected_status;
  // Ready when a socket listens on this TCP port inside the sandbox, whatever it speaks.
  int tcp_port = 0;
  // Pause between probes. Unset: from 2 ms doubling up to 200 ms.
  std::optional<absl::Duration> polling_interval;
  // Wait after Running before the first probe.
  absl::Duration initial_delay = absl::ZeroDuration();
};

// Parameters of Sandbox::Create. Every field is optional.
struct SandboxSpec {
  // Main process, [executable, args...]. Empty: ["tail", "-f", "/dev/null"].
  std::vector<std::string> entrypoint;
  // Time to live (at least a minute; rounded up to seconds). Unset: 10 minutes, unless
  // `manual_cleanup`.
  std::optional<absl::Duration> timeout;
  // No TTL: the sandbox lives until killed. Excludes `timeout`.
  bool manual_cleanup = false;
  // Kubernetes-style limits: "cpu" ("500m"), "memory" ("512Mi"). Empty: cpu 1, memory 2Gi.
  std::map<std::string, std::string> resource;
  std::map<std::string, std::string> env;
  // Labels (Kubernetes label rules; the "opensandbox.io/" prefix is reserved).
  std::map<std::string, std::string> metadata;
  std::optional<NetworkPolicy> network_policy;
  // The credential-vault proxy (transparent MITM for credential injection); needs
  // `network_policy`. Services without it refuse the create (kInvalidArgument).
  bool credential_proxy = false;
  // Access through the Kubernetes gateway's secure mode; other services refuse the create.
  bool secure_access = false;
  std::vector<Volume> volumes;
  // Provider-specific parameters passed through unchanged.
  std::map<std::string, std::string> extensions;
  // Restore from this snapshot instead of an image (pass an empty image).
  std::string snapshot_id;
  // Take what this spec leaves unset from osbd's template of that name (see templates.h); the
  // image too when Create is given an empty one.
  std::string template_name;
  // Limit of the wait until the sandbox answers. Unset: 30 s.
  std::optional<absl::Duration> ready_timeout;
  // How readiness is probed. Unset: execd's GET /ping.
  std::optional<HealthCheck> health_check;
  // Return as soon as the service accepted the request; the sandbox may still be Pending.
  bool skip_health_check = false;
  // Tie the sandbox to `lease_pid` (a process of a user osbd serves; 0: this process).
  Lease lease = Lease::kNone;
  int lease_pid = 0;
};

}  // namespace opensandbox
