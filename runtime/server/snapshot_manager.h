// Snapshots: a Running sandbox's writable layer (everything it changed on top of its image),
// captured in the background, kept under <state>/snapshots/<id>/ (its record and the layer), and
// restored into a new sandbox created with `snapshotId`. States as the official server has them:
// Creating (snapshot_accepted) → Ready (snapshot_ready) or Failed (snapshot_capture_failed).
// Records survive a restart; a capture a restart interrupted becomes Failed.
//
//   auto snapshots = SnapshotManager::Start(state_dir, sandboxes);
//   auto s = snapshots->Create(sandbox_id, "before-upgrade");     // 202 Creating
//   ... later: snapshots->Get(s->id)->state == "Ready"
//   auto layer = snapshots->Source(s->id);                         // for a new sandbox
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/lifecycle.h"
#include "runtime/server/sandbox_manager.h"

namespace osb::runtime {

struct Snapshot {
  std::string id;
  std::string sandbox_id;
  std::optional<std::string> name;
  std::string state;  // Creating, Ready, Failed
  std::string reason;
  std::string message;
  absl::Time created_at;
  absl::Time last_transition;
  // What a sandbox restored from it starts from: its source's image and entrypoint.
  std::string image_uri;
  std::vector<std::string> entrypoint;
};

// The wire shape (COMPAT.md §1.4 Snapshot).
rest::Snapshot ToRest(const Snapshot& s);
nlohmann::json ToJson(const Snapshot& s);

struct SnapshotQuery {
  std::string sandbox_id;           // "" = any
  std::vector<std::string> states;  // OR, case-insensitive; empty = all
  int64_t page = 1;
  int64_t page_size = 20;
};

struct SnapshotList {
  std::vector<Snapshot> items;  // newest first
  rest::PaginationInfo pagination;
};

class SnapshotManager {
 public:
  // Loads the snapshots under <state_dir>/snapshots and starts the capture worker.
  static absl::StatusOr<std::unique_ptr<SnapshotManager>> Start(const std::string& state_dir,
                                                                SandboxManager& sandboxes);
  ~SnapshotManager();  // finishes the capture in progress; queued ones stay Creating until restart

  // Accepts a capture of a Running sandbox: the snapshot is Creating on return. NotFound for an
  // unknown sandbox; FailedPrecondition (SNAPSHOT::INVALID_SOURCE_STATE, 409) for one that is not
  // Running; InvalidArgument for an empty name.
  absl::StatusOr<Snapshot> Create(const std::string& sandbox_id, std::optional<std::string> name);

  absl::StatusOr<Snapshot> Get(const std::string& id);  // NotFound (SNAPSHOT::NOT_FOUND)
  absl::StatusOr<SnapshotList> List(const SnapshotQuery& query);  // InvalidArgument for paging

  // Removes the snapshot and its layer. NotFound; FailedPrecondition (SNAPSHOT::DELETE_CONFLICT,
  // 409) while it is still being captured.
  absl::Status Delete(const std::string& id);

  // The snapshot a new sandbox is restored from, with the directory of its layer. NotFound;
  // FailedPrecondition (SNAPSHOT::NOT_READY, 409) unless it is Ready.
  absl::StatusOr<std::pair<Snapshot, std::string>> Source(const std::string& id);

 private:
  SnapshotManager(std::string dir, SandboxManager& sandboxes)
      : dir_(std::move(dir)), sandboxes_(sandboxes) {}
  void Load();
  void Work();
  std::string DirOf(const std::string& id) const { return dir_ + "/" + id; }
  // Writes the snapshot's record; a failure is logged (the snapshot still serves until restart).
  void Save(const Snapshot& s);

  std::string dir_;
  SandboxManager& sandboxes_;
  absl::Mutex mu_;
  std::map<std::string, Snapshot> snapshots_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace osb::runtime
