#include "opensandbox/sandbox_manager.h"

#include "client/src/daemon_connection.h"
#include "client/src/proto_convert.h"
#include "client/src/sandbox_calls.h"
#include "opensandbox/async.h"

namespace opensandbox {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

SandboxManager::SandboxManager(Options options) : options_(std::move(options)) {}
SandboxManager::~SandboxManager() = default;
SandboxManager::SandboxManager(SandboxManager&&) noexcept = default;
SandboxManager& SandboxManager::operator=(SandboxManager&&) noexcept = default;

namespace {

// `daemon` when the manager has already connected, else a new connection.
absl::StatusOr<std::shared_ptr<DaemonConnection>> Connected(
    const Options& options, std::shared_ptr<DaemonConnection> daemon) {
  if (daemon) return daemon;
  return DaemonConnection::Open(options);
}

}  // namespace

absl::StatusOr<std::shared_ptr<DaemonConnection>> SandboxManager::Daemon() {
  auto daemon = Connected(options_, daemon_);
  if (daemon.ok()) daemon_ = *daemon;
  return daemon;
}

absl::StatusOr<SandboxPage> SandboxManager::List(const SandboxFilter& filter) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  return internal::ListSandboxes(**daemon, filter);
}

// The async forms connect on their own thread (the manager may be gone by then) and share the
// manager's connection when it already has one.
std::future<absl::StatusOr<SandboxPage>> SandboxManager::ListAsync(SandboxFilter filter) {
  return internal::RunAsync([options = options_, daemon = daemon_,
                             filter = std::move(filter)]() -> absl::StatusOr<SandboxPage> {
    auto connected = Connected(options, daemon);
    if (!connected.ok()) return connected.status();
    return internal::ListSandboxes(**connected, filter);
  });
}

absl::StatusOr<SandboxInfo> SandboxManager::Get(const std::string& sandbox_id) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  return internal::GetSandbox(**daemon, sandbox_id);
}

absl::Status SandboxManager::Kill(const std::string& sandbox_id) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  return internal::KillSandbox(**daemon, sandbox_id);
}

std::future<absl::Status> SandboxManager::KillAsync(std::string sandbox_id) {
  return internal::RunAsync([options = options_, daemon = daemon_,
                             sandbox_id = std::move(sandbox_id)]() -> absl::Status {
    auto connected = Connected(options, daemon);
    if (!connected.ok()) return connected.status();
    return internal::KillSandbox(**connected, sandbox_id);
  });
}

absl::Status SandboxManager::Pause(const std::string& sandbox_id) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  return internal::PauseSandbox(**daemon, sandbox_id);
}

absl::Status SandboxManager::Resume(const std::string& sandbox_id, absl::Duration ready_timeout) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  return internal::ResumeSandbox(**daemon, sandbox_id, ready_timeout);
}

absl::StatusOr<absl::Time> SandboxManager::Renew(const std::string& sandbox_id,
                                                 absl::Duration timeout) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  return internal::RenewSandbox(**daemon, sandbox_id, timeout);
}

absl::StatusOr<SandboxInfo> SandboxManager::PatchMetadata(
    const std::string& sandbox_id, const std::map<std::string, std::string>& upsert,
    const std::vector<std::string>& remove) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  v1::PatchSandboxMetadataRequest request;
  request.set_sandbox_id(sandbox_id);
  request.mutable_upsert()->insert(upsert.begin(), upsert.end());
  request.mutable_remove()->Assign(remove.begin(), remove.end());
  auto patched =
      (*daemon)->Call((*daemon)->sandboxes(), &v1::Sandboxes::Stub::PatchMetadata, request);
  if (!patched.ok()) return patched.status();
  return internal::SandboxInfoFromProto(*patched);
}

}  // namespace opensandbox
