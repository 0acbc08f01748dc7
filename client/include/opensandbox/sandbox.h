// Sandbox: one sandbox reached through osbd, shaped like the official SDKs' Sandbox.
//
//   #include <opensandbox/opensandbox.h>
//
//   auto sandbox = opensandbox::Sandbox::Create("python:3.11");
//   if (!sandbox.ok()) { std::cerr << sandbox.status() << "\n"; return 1; }
//   auto execution = sandbox->commands().Run("python3 -c 'print(6 * 7)'");
//   std::cout << execution->logs.stdout_lines[0].text << "\n";   // 42
//   (void)sandbox->Kill();
//
// A Sandbox is a handle: copies share osbd's connection and refer to the same sandbox.
// Destroying or closing it leaves the sandbox running; Kill deletes it (so does its TTL).
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/codes.h"
#include "opensandbox/commands.h"
#include "opensandbox/files.h"
#include "opensandbox/options.h"
#include "opensandbox/sandbox_info.h"
#include "opensandbox/sandbox_spec.h"

namespace opensandbox {

class Sandbox {
 public:
  // Creates a sandbox from `image` (or from spec.snapshot_id with an empty image) and, unless
  // spec.skip_health_check, returns once it answers. Errors: kUnavailable when osbd (or the
  // service behind it) cannot be reached; kInvalidArgument for a bad spec; kDeadlineExceeded
  // with IsReadyTimeout when it did not become ready in time (osbd then deletes it).
  static absl::StatusOr<Sandbox> Create(const std::string& image, const SandboxSpec& spec = {},
                                        Options options = {});
  static std::future<absl::StatusOr<Sandbox>> CreateAsync(std::string image, SandboxSpec spec = {},
                                                         Options options = {});

  // A handle on an existing sandbox. kNotFound when there is none with this id.
  static absl::StatusOr<Sandbox> Connect(const std::string& sandbox_id, Options options = {});
  static std::future<absl::StatusOr<Sandbox>> ConnectAsync(std::string sandbox_id,
                                                           Options options = {});

  // Resumes a paused sandbox and returns a handle once it answers again. kFailedPrecondition
  // when it is not paused.
  static absl::StatusOr<Sandbox> Resume(const std::string& sandbox_id, Options options = {},
                                        absl::Duration ready_timeout = absl::Seconds(30));
  static std::future<absl::StatusOr<Sandbox>> ResumeAsync(
      std::string sandbox_id, Options options = {},
      absl::Duration ready_timeout = absl::Seconds(30));

  const std::string& id() const { return id_; }
  Commands& commands() { return commands_; }
  Codes& codes() { return codes_; }
  Files& files() { return files_; }

  absl::StatusOr<SandboxInfo> GetInfo() const;
  std::future<absl::StatusOr<SandboxInfo>> GetInfoAsync() const;
  // How to reach `port` (1 to 65535) inside the sandbox.
  absl::StatusOr<Endpoint> GetEndpoint(int port) const;
  // The same through a signed route valid until `expires` (OSEP-0011), for services that make
  // them (Kubernetes' gateway); others, osb-runtime and the Docker server among them, answer
  // kInvalidArgument with the code "SANDBOX::API_NOT_SUPPORTED".
  absl::StatusOr<Endpoint> GetSignedEndpoint(int port, absl::Time expires) const;
  std::future<absl::StatusOr<Endpoint>> GetEndpointAsync(int port) const;
  // CPU and memory use (sampled over about half a second).
  absl::StatusOr<SandboxMetrics> GetMetrics() const;
  std::future<absl::StatusOr<SandboxMetrics>> GetMetricsAsync() const;
  // Moves the expiry to now + `timeout`; returns the new expiry. kFailedPrecondition for a
  // manual-cleanup sandbox.
  absl::StatusOr<absl::Time> Renew(absl::Duration timeout);
  std::future<absl::StatusOr<absl::Time>> RenewAsync(absl::Duration timeout);
  // Captures the sandbox's files (everything it changed on top of its image); by default waits
  // until the snapshot is Ready (or Failed: check status.state). SandboxSpec::snapshot_id starts
  // new sandboxes from it. kFailedPrecondition unless the sandbox is Running.
  absl::StatusOr<SnapshotInfo> CreateSnapshot(const std::string& name = "", bool wait = true);
  std::future<absl::StatusOr<SnapshotInfo>> CreateSnapshotAsync(std::string name = "",
                                                                bool wait = true);
  // Freezes every process of the sandbox; resume it with Sandbox::Resume(id()).
  absl::Status Pause();
  std::future<absl::Status> PauseAsync();
  // Deletes the sandbox and everything in it.
  absl::Status Kill();
  std::future<absl::Status> KillAsync();
  // Whether the sandbox is Running and runs a command.
  bool IsHealthy();
  std::future<bool> IsHealthyAsync();
  // Drops this handle's reference to osbd's connection; the sandbox keeps running. Later calls
  // on this handle fail with kFailedPrecondition.
  void Close();

 private:
  friend class PoolManager;
  Sandbox(std::shared_ptr<internal::DaemonConnection> daemon, std::string id);
  absl::StatusOr<Endpoint> EndpointOf(int port, std::optional<absl::Time> expires) const;

  std::shared_ptr<internal::DaemonConnection> daemon_;
  std::string id_;
  Commands commands_;
  Codes codes_;
  Files files_;
};

}  // namespace opensandbox
