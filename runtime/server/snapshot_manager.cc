#include "runtime/server/snapshot_manager.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rest/error.h"
#include "rest/ids.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"
#include "rest/time_util.h"

namespace osb::runtime {
namespace {

absl::Status NotFound(const std::string& id) {
  return rest::MakeError(absl::StatusCode::kNotFound, "SNAPSHOT::NOT_FOUND",
                         absl::StrCat("snapshot ", id, " not found"));
}

nlohmann::json ToRecord(const Snapshot& s) {
  nlohmann::json j = ToJson(s);
  j["imageUri"] = s.image_uri;
  j["entrypoint"] = s.entrypoint;
  return j;
}

absl::StatusOr<Snapshot> FromRecord(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("status") ||
      !j["status"].is_object()) {
    return absl::DataLossError("not a snapshot record");
  }
  Snapshot s;
  s.id = j["id"].get<std::string>();
  s.sandbox_id = j.value("sandboxId", "");
  if (j.contains("name") && j["name"].is_string()) s.name = j["name"].get<std::string>();
  s.state = j["status"].value("state", "Failed");
  s.reason = j["status"].value("reason", "");
  s.message = j["status"].value("message", "");
  auto created = rest::ParseRfc3339(j.value("createdAt", ""));
  if (!created.ok()) return created.status();
  s.created_at = *created;
  auto at = rest::ParseRfc3339(j["status"].value("lastTransitionAt", ""));
  s.last_transition = at.ok() ? *at : s.created_at;
  s.image_uri = j.value("imageUri", "");
  if (j.contains("entrypoint") && j["entrypoint"].is_array()) {
    for (const auto& e : j["entrypoint"]) {
      if (e.is_string()) s.entrypoint.push_back(e.get<std::string>());
    }
  }
  return s;
}

}  // namespace

rest::Snapshot ToRest(const Snapshot& s) {
  rest::Snapshot out;
  out.id = s.id;
  out.sandbox_id = s.sandbox_id;
  out.name = s.name;
  out.status.state = s.state;
  if (!s.reason.empty()) out.status.reason = s.reason;
  if (!s.message.empty()) out.status.message = s.message;
  out.status.last_transition_at = rest::FormatRfc3339(s.last_transition);
  out.created_at = rest::FormatRfc3339(s.created_at);
  return out;
}

nlohmann::json ToJson(const Snapshot& s) { return rest::ToJson(ToRest(s)); }

absl::StatusOr<std::unique_ptr<SnapshotManager>> SnapshotManager::Start(
    const std::string& state_dir, SandboxManager& sandboxes) {
  std::unique_ptr<SnapshotManager> m(new SnapshotManager(state_dir + "/snapshots", sandboxes));
  if (auto s = MakeDirs(m->dir_, 0700); !s.ok()) return s;
  m->Load();
  m->worker_ = std::thread([raw = m.get()] { raw->Work(); });
  return m;
}

SnapshotManager::~SnapshotManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

void SnapshotManager::Load() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);
  std::vector<std::string> ids;
  while (dir != nullptr) {
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    const std::string name = entry->d_name;
    if (name != "." && name != "..") ids.push_back(name);
  }
  for (const std::string& id : ids) {
    auto text = ReadFile(DirOf(id) + "/snapshot.json");
    auto s = text.ok() ? FromRecord(*text) : absl::StatusOr<Snapshot>(text.status());
    if (!s.ok() || s->id != id) {
      // A capture cut short before its record was written, or a record no one can read.
      std::fprintf(stderr, "osb-runtime: snapshot %s: unreadable, removed\n", id.c_str());
      (void)RemoveTree(DirOf(id));
      continue;
    }
    if (s->state == "Creating") {
      s->state = "Failed";
      s->reason = "snapshot_capture_failed";
      s->message = "osb-runtime restarted while the snapshot was being captured";
      s->last_transition = absl::Now();
      (void)RemoveTree(DirOf(id) + "/layer");
      Save(*s);
    }
    absl::MutexLock lock(&mu_);
    snapshots_[id] = *s;
  }
}

void SnapshotManager::Save(const Snapshot& s) {
  if (auto st = WriteFileAtomic(DirOf(s.id) + "/snapshot.json", ToRecord(s).dump() + "\n", 0600);
      !st.ok()) {
    std::fprintf(stderr, "osb-runtime: snapshot %s: record not saved: %s\n", s.id.c_str(),
                 std::string(st.message()).c_str());
  }
}

absl::StatusOr<Snapshot> SnapshotManager::Create(const std::string& sandbox_id,
                                                 std::optional<std::string> name) {
  if (name.has_value() && name->empty()) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidParameter,
                           "a snapshot's name, when given, must not be empty");
  }
  auto sandbox = sandboxes_.Get(sandbox_id);
  if (!sandbox.ok()) return sandbox.status();
  if (sandbox->status.state != "Running") {
    return rest::MakeError(absl::StatusCode::kFailedPrecondition, "SNAPSHOT::INVALID_SOURCE_STATE",
                           absl::StrCat("sandbox ", sandbox_id, " is ", sandbox->status.state,
                                        ": only a Running sandbox can be snapshotted"));
  }
  Snapshot s;
  s.id = rest::NewUuid4();
  s.sandbox_id = sandbox_id;
  s.name = std::move(name);
  s.state = "Creating";
  s.reason = "snapshot_accepted";
  s.created_at = s.last_transition = absl::Now();
  s.image_uri = sandbox->image.has_value() ? sandbox->image->uri : "";
  s.entrypoint = sandbox->entrypoint;
  if (auto st = MakeDirs(DirOf(s.id), 0700); !st.ok()) return st;
  Save(s);
  absl::MutexLock lock(&mu_);
  snapshots_[s.id] = s;
  queue_.push_back(s.id);
  return s;
}

void SnapshotManager::Work() {
  while (true) {
    std::string id;
    std::string sandbox_id;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SnapshotManager* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m->mu_) {
            return m->stopping_ || !m->queue_.empty();
          },
          this));
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      auto it = snapshots_.find(id);
      if (it == snapshots_.end()) continue;
      sandbox_id = it->second.sandbox_id;
    }
    absl::Status captured = sandboxes_.CaptureLayer(sandbox_id, DirOf(id) + "/layer");
    if (!captured.ok()) (void)RemoveTree(DirOf(id) + "/layer");
    Snapshot done;
    {
      absl::MutexLock lock(&mu_);
      done = snapshots_[id];
    }
    done.state = captured.ok() ? "Ready" : "Failed";
    done.reason = captured.ok() ? "snapshot_ready" : "snapshot_capture_failed";
    done.message = captured.ok() ? "" : std::string(captured.message());
    done.last_transition = absl::Now();
    // The record is written before anyone can see the new state: a client that saw Ready
    // must find it Ready after a restart too.
    Save(done);
    absl::MutexLock lock(&mu_);
    snapshots_[id] = done;
  }
}

absl::StatusOr<Snapshot> SnapshotManager::Get(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = snapshots_.find(id);
  if (it == snapshots_.end()) return NotFound(id);
  return it->second;
}

absl::StatusOr<SnapshotList> SnapshotManager::List(const SnapshotQuery& query) {
  std::vector<Snapshot> matching;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& entry : snapshots_) {
      const Snapshot& s = entry.second;
      if (!query.sandbox_id.empty() && s.sandbox_id != query.sandbox_id) continue;
      auto same_state = [&](const std::string& st) { return absl::EqualsIgnoreCase(st, s.state); };
      if (!query.states.empty() &&
          std::none_of(query.states.begin(), query.states.end(), same_state)) {
        continue;
      }
      matching.push_back(s);
    }
  }
  std::sort(matching.begin(), matching.end(),
            [](const Snapshot& a, const Snapshot& b) { return a.created_at > b.created_at; });
  auto window = rest::Paginate(static_cast<int64_t>(matching.size()), query.page, query.page_size);
  if (!window.ok()) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidParameter,
                           rest::StdView(window.status().message()));
  }
  SnapshotList out;
  out.pagination = window->info;
  out.items.assign(matching.begin() + window->begin, matching.begin() + window->end);
  return out;
}

absl::Status SnapshotManager::Delete(const std::string& id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = snapshots_.find(id);
    if (it == snapshots_.end()) return NotFound(id);
    if (it->second.state == "Creating") {
      return rest::MakeError(absl::StatusCode::kFailedPrecondition, "SNAPSHOT::DELETE_CONFLICT",
                             absl::StrCat("snapshot ", id, " is still being captured"));
    }
    snapshots_.erase(it);
  }
  return RemoveTree(DirOf(id));
}

absl::StatusOr<std::pair<Snapshot, std::string>> SnapshotManager::Source(const std::string& id) {
  auto s = Get(id);
  if (!s.ok()) return s.status();
  if (s->state != "Ready") {
    return rest::MakeError(absl::StatusCode::kFailedPrecondition, "SNAPSHOT::NOT_READY",
                           absl::StrCat("snapshot ", id, " is ", s->state, ", not Ready"));
  }
  return std::make_pair(*s, DirOf(id) + "/layer");
}

}  // namespace osb::runtime
