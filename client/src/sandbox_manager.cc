#include "opensandbox/sandbox_manager.h"

#include "client/src/daemon_connection.h"
#include "client/src/proto_convert.h"
#include "client/src/sandbox_calls.h"

namespace opensandbox {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

SandboxManager::SandboxManager(Options options) : options_(std::move(options)) {}
SandboxManager::~SandboxManager() = default;
SandboxManager::SandboxManager(SandboxManager&&) noexcept = default;
SandboxManager& SandboxManager::operator=(SandboxManager&&) noexcept = default;

absl::StatusOr<DaemonConnection*> SandboxManager::Daemon() {
  if (!daemon_) {
    auto daemon = DaemonConnection::Open(options_);
    if (!daemon.ok()) return daemon.status();
    daemon_ = *std::move(daemon);
  }
  return daemon_.get();
}

absl::StatusOr<SandboxPage> SandboxManager::List(const SandboxFilter& filter) {
  auto daemon = Daemon();
  if (!daemon.ok()) return daemon.status();
  v1::ListSandboxesRequest request;
  request.mutable_states()->Assign(filter.states.begin(), filter.states.end());
  request.mutable_metadata()->insert(filter.metadata.begin(), filter.metadata.end());
  request.set_page(filter.page);
  request.set_page_size(filter.page_size);
  auto page = (*daemon)->Call((*daemon)->sandboxes(), &v1::Sandboxes::Stub::List, request);
  if (!page.ok()) return page.status();
  return internal::SandboxPageFromProto(*page);
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
