// SandboxManager: administration of many sandboxes by id, shaped like the official SDKs'
// SandboxManager.
//
//   opensandbox::SandboxManager manager;
//   auto page = manager.List({.states = {"Running"}, .metadata = {{"team", "ci"}}});
//   for (const auto& info : page->sandboxes) (void)manager.Kill(info.id);
#pragma once

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/options.h"
#include "opensandbox/sandbox_info.h"

namespace opensandbox {
namespace internal {
class LazyDaemon;
}  // namespace internal

class SandboxManager {
 public:
  // Reaches osbd on first use, so construction never fails; a call made while osbd cannot be
  // reached fails with kUnavailable. Copies share the connection.
  explicit SandboxManager(Options options = {});

  // One page of sandboxes, newest first.
  absl::StatusOr<SandboxPage> List(const SandboxFilter& filter = {});
  std::future<absl::StatusOr<SandboxPage>> ListAsync(SandboxFilter filter = {});
  absl::StatusOr<SandboxInfo> Get(const std::string& sandbox_id);
  std::future<absl::StatusOr<SandboxInfo>> GetAsync(std::string sandbox_id);
  absl::Status Kill(const std::string& sandbox_id);
  std::future<absl::Status> KillAsync(std::string sandbox_id);
  absl::Status Pause(const std::string& sandbox_id);
  std::future<absl::Status> PauseAsync(std::string sandbox_id);
  // Resumes and waits until the sandbox answers, at most `ready_timeout`.
  absl::Status Resume(const std::string& sandbox_id,
                      absl::Duration ready_timeout = absl::Seconds(30));
  std::future<absl::Status> ResumeAsync(std::string sandbox_id,
                                        absl::Duration ready_timeout = absl::Seconds(30));
  // Moves the expiry to now + `timeout`; returns the new expiry.
  absl::StatusOr<absl::Time> Renew(const std::string& sandbox_id, absl::Duration timeout);
  std::future<absl::StatusOr<absl::Time>> RenewAsync(std::string sandbox_id,
                                                     absl::Duration timeout);
  // Sets the `upsert` keys and removes the `remove` keys (a JSON merge patch); returns the
  // sandbox as it is afterwards.
  absl::StatusOr<SandboxInfo> PatchMetadata(const std::string& sandbox_id,
                                            const std::map<std::string, std::string>& upsert,
                                            const std::vector<std::string>& remove = {});
  std::future<absl::StatusOr<SandboxInfo>> PatchMetadataAsync(
      std::string sandbox_id, std::map<std::string, std::string> upsert,
      std::vector<std::string> remove = {});

  // Snapshots: as Sandbox::CreateSnapshot; one by id (kNotFound); a page of them, newest first;
  // delete (kFailedPrecondition while it is still being captured).
  absl::StatusOr<SnapshotInfo> CreateSnapshot(const std::string& sandbox_id,
                                              const std::string& name = "", bool wait = true);
  std::future<absl::StatusOr<SnapshotInfo>> CreateSnapshotAsync(std::string sandbox_id,
                                                                std::string name = "",
                                                                bool wait = true);
  absl::StatusOr<SnapshotInfo> GetSnapshot(const std::string& snapshot_id);
  std::future<absl::StatusOr<SnapshotInfo>> GetSnapshotAsync(std::string snapshot_id);
  absl::StatusOr<SnapshotPage> ListSnapshots(const SnapshotFilter& filter = {});
  std::future<absl::StatusOr<SnapshotPage>> ListSnapshotsAsync(SnapshotFilter filter = {});
  absl::Status DeleteSnapshot(const std::string& snapshot_id);
  std::future<absl::Status> DeleteSnapshotAsync(std::string snapshot_id);

 private:
  std::shared_ptr<internal::LazyDaemon> daemon_;
};

}  // namespace opensandbox
