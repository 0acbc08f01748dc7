#include "client/src/sandbox_calls.h"

#include "client/src/proto_convert.h"

namespace opensandbox::internal {

absl::StatusOr<SandboxPage> ListSandboxes(DaemonConnection& daemon, const SandboxFilter& filter) {
  v1::ListSandboxesRequest request;
  request.mutable_states()->Assign(filter.states.begin(), filter.states.end());
  request.mutable_metadata()->insert(filter.metadata.begin(), filter.metadata.end());
  request.set_page(filter.page);
  request.set_page_size(filter.page_size);
  auto page = daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::List, request);
  if (!page.ok()) return page.status();
  return SandboxPageFromProto(*page);
}

absl::StatusOr<SandboxInfo> GetSandbox(DaemonConnection& daemon, const std::string& id) {
  v1::GetSandboxRequest request;
  request.set_sandbox_id(id);
  auto got = daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::Get, request);
  if (!got.ok()) return got.status();
  return SandboxInfoFromProto(*got);
}

absl::Status KillSandbox(DaemonConnection& daemon, const std::string& id) {
  v1::KillSandboxRequest request;
  request.set_sandbox_id(id);
  return daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::Kill, request).status();
}

absl::Status PauseSandbox(DaemonConnection& daemon, const std::string& id) {
  v1::PauseSandboxRequest request;
  request.set_sandbox_id(id);
  return daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::Pause, request).status();
}

absl::Status ResumeSandbox(DaemonConnection& daemon, const std::string& id,
                           absl::Duration ready_timeout) {
  v1::ResumeSandboxRequest request;
  request.set_sandbox_id(id);
  *request.mutable_ready_timeout() = DurationToProto(ready_timeout);
  return daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::Resume, request).status();
}

absl::StatusOr<absl::Time> RenewSandbox(DaemonConnection& daemon, const std::string& id,
                                        absl::Duration timeout) {
  v1::RenewSandboxRequest request;
  request.set_sandbox_id(id);
  *request.mutable_timeout() = DurationToProto(timeout);
  auto renewed = daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::Renew, request);
  if (!renewed.ok()) return renewed.status();
  return TimeFromProto(renewed->expires_at());
}

absl::StatusOr<SnapshotInfo> CreateSnapshot(DaemonConnection& daemon, const std::string& id,
                                            const std::string& name, bool wait) {
  v1::CreateSnapshotRequest request;
  request.set_sandbox_id(id);
  request.set_name(name);
  request.set_wait(wait);
  auto snapshot = daemon.Call(daemon.sandboxes(), &v1::Sandboxes::Stub::CreateSnapshot, request);
  if (!snapshot.ok()) return snapshot.status();
  return SnapshotInfoFromProto(*snapshot);
}

}  // namespace opensandbox::internal
