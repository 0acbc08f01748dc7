#include "opensandbox/sandbox_manager.h"

#include "client/src/daemon_connection.h"
#include "client/src/lazy_daemon.h"
#include "client/src/proto_convert.h"
#include "client/src/sandbox_calls.h"
#include "opensandbox/async.h"

namespace opensandbox {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

SandboxManager::SandboxManager(Options options)
    : daemon_(std::make_shared<internal::LazyDaemon>(std::move(options))) {}

absl::StatusOr<SandboxPage> SandboxManager::List(const SandboxFilter& filter) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::ListSandboxes(**daemon, filter);
}

// The async forms connect on their own thread (the manager may be gone by then), sharing the
// manager's connection.
std::future<absl::StatusOr<SandboxPage>> SandboxManager::ListAsync(SandboxFilter filter) {
  return internal::RunAsync(
      [daemon = daemon_, filter = std::move(filter)]() -> absl::StatusOr<SandboxPage> {
        auto connected = daemon->Get();
        if (!connected.ok()) return connected.status();
        return internal::ListSandboxes(**connected, filter);
      });
}

absl::StatusOr<SandboxInfo> SandboxManager::Get(const std::string& sandbox_id) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::GetSandbox(**daemon, sandbox_id);
}

absl::Status SandboxManager::Kill(const std::string& sandbox_id) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::KillSandbox(**daemon, sandbox_id);
}

std::future<absl::Status> SandboxManager::KillAsync(std::string sandbox_id) {
  return internal::RunAsync(
      [daemon = daemon_, sandbox_id = std::move(sandbox_id)]() -> absl::Status {
        auto connected = daemon->Get();
        if (!connected.ok()) return connected.status();
        return internal::KillSandbox(**connected, sandbox_id);
      });
}

absl::Status SandboxManager::Pause(const std::string& sandbox_id) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::PauseSandbox(**daemon, sandbox_id);
}

absl::Status SandboxManager::Resume(const std::string& sandbox_id, absl::Duration ready_timeout) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::ResumeSandbox(**daemon, sandbox_id, ready_timeout);
}

absl::StatusOr<absl::Time> SandboxManager::Renew(const std::string& sandbox_id,
                                                 absl::Duration timeout) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::RenewSandbox(**daemon, sandbox_id, timeout);
}

absl::StatusOr<SandboxInfo> SandboxManager::PatchMetadata(
    const std::string& sandbox_id, const std::map<std::string, std::string>& upsert,
    const std::vector<std::string>& remove) {
  auto daemon = daemon_->Get();
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

absl::StatusOr<SnapshotInfo> SandboxManager::CreateSnapshot(const std::string& sandbox_id,
                                                            const std::string& name, bool wait) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  return internal::CreateSnapshot(**daemon, sandbox_id, name, wait);
}

absl::StatusOr<SnapshotInfo> SandboxManager::GetSnapshot(const std::string& snapshot_id) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::GetSnapshotRequest request;
  request.set_snapshot_id(snapshot_id);
  auto got = (*daemon)->Call((*daemon)->sandboxes(), &v1::Sandboxes::Stub::GetSnapshot, request);
  if (!got.ok()) return got.status();
  return internal::SnapshotInfoFromProto(*got);
}

absl::StatusOr<SnapshotPage> SandboxManager::ListSnapshots(const SnapshotFilter& filter) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::ListSnapshotsRequest request;
  request.set_sandbox_id(filter.sandbox_id);
  request.mutable_states()->Assign(filter.states.begin(), filter.states.end());
  request.set_page(filter.page);
  request.set_page_size(filter.page_size);
  auto page =
      (*daemon)->Call((*daemon)->sandboxes(), &v1::Sandboxes::Stub::ListSnapshots, request);
  if (!page.ok()) return page.status();
  return internal::SnapshotPageFromProto(*page);
}

absl::Status SandboxManager::DeleteSnapshot(const std::string& snapshot_id) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::DeleteSnapshotRequest request;
  request.set_snapshot_id(snapshot_id);
  return (*daemon)
      ->Call((*daemon)->sandboxes(), &v1::Sandboxes::Stub::DeleteSnapshot, request)
      .status();
}

std::future<absl::StatusOr<SandboxInfo>> SandboxManager::GetAsync(std::string sandbox_id) {
  return internal::RunAsync([self = *this, sandbox_id = std::move(sandbox_id)]() mutable {
    return self.Get(sandbox_id);
  });
}

std::future<absl::Status> SandboxManager::PauseAsync(std::string sandbox_id) {
  return internal::RunAsync([self = *this, sandbox_id = std::move(sandbox_id)]() mutable {
    return self.Pause(sandbox_id);
  });
}

std::future<absl::Status> SandboxManager::ResumeAsync(std::string sandbox_id,
                                                      absl::Duration ready_timeout) {
  return internal::RunAsync(
      [self = *this, sandbox_id = std::move(sandbox_id), ready_timeout]() mutable {
        return self.Resume(sandbox_id, ready_timeout);
      });
}

std::future<absl::StatusOr<absl::Time>> SandboxManager::RenewAsync(std::string sandbox_id,
                                                                   absl::Duration timeout) {
  return internal::RunAsync([self = *this, sandbox_id = std::move(sandbox_id), timeout]() mutable {
    return self.Renew(sandbox_id, timeout);
  });
}

std::future<absl::StatusOr<SandboxInfo>> SandboxManager::PatchMetadataAsync(
    std::string sandbox_id, std::map<std::string, std::string> upsert,
    std::vector<std::string> remove) {
  return internal::RunAsync([self = *this, sandbox_id = std::move(sandbox_id),
                             upsert = std::move(upsert), remove = std::move(remove)]() mutable {
    return self.PatchMetadata(sandbox_id, upsert, remove);
  });
}

std::future<absl::StatusOr<SnapshotInfo>> SandboxManager::CreateSnapshotAsync(
    std::string sandbox_id, std::string name, bool wait) {
  return internal::RunAsync(
      [self = *this, sandbox_id = std::move(sandbox_id), name = std::move(name), wait]() mutable {
        return self.CreateSnapshot(sandbox_id, name, wait);
      });
}

std::future<absl::StatusOr<SnapshotInfo>> SandboxManager::GetSnapshotAsync(
    std::string snapshot_id) {
  return internal::RunAsync([self = *this, snapshot_id = std::move(snapshot_id)]() mutable {
    return self.GetSnapshot(snapshot_id);
  });
}

std::future<absl::StatusOr<SnapshotPage>> SandboxManager::ListSnapshotsAsync(
    SnapshotFilter filter) {
  return internal::RunAsync(
      [self = *this, filter = std::move(filter)]() mutable { return self.ListSnapshots(filter); });
}

std::future<absl::Status> SandboxManager::DeleteSnapshotAsync(std::string snapshot_id) {
  return internal::RunAsync([self = *this, snapshot_id = std::move(snapshot_id)]() mutable {
    return self.DeleteSnapshot(snapshot_id);
  });
}

}  // namespace opensandbox
