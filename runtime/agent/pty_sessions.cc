#include "runtime/agent/pty_sessions.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "rest/error.h"
#include "rest/ids.h"
#include "runtime/agent/file_ops.h"

namespace osb::agent {
namespace {

absl::Status SessionNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("pty session ", id, " not found"));
}

}  // namespace

absl::StatusOr<std::string> PtySessions::Create(const std::string& cwd,
                                                const std::string& command) {
  // One critical section: a create refused for the cap makes no directory, and two at once
  // cannot both take the last place.
  absl::MutexLock lock(&mu_);
  if (sessions_.size() >= kMaxSessions) {
    return rest::MakeError(absl::StatusCode::kResourceExhausted, "TOO_MANY_SESSIONS",
                           absl::StrCat("this sandbox already has ", kMaxSessions,
                                        " pty sessions; delete one (DELETE /pty/{id}) first"));
  }
  std::string dir;
  if (!cwd.empty()) {
    auto path = RequestPath(cwd);
    if (!path.ok()) return path.status();
    struct stat st {};
    if (::stat(path->c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("cwd ", *path, " is not a directory"));
    }
    if (auto s = MakeDirectories(*path, rest::Permission{}); !s.ok()) return s;
    dir = *std::move(path);
  }
  std::string id = rest::NewHexId();
  sessions_.emplace(id, std::make_shared<PtySession>(reaper_, id, std::move(dir), command));
  return id;
}

absl::StatusOr<std::shared_ptr<PtySession>> PtySessions::Get(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return SessionNotFound(id);
  return it->second;
}

absl::Status PtySessions::Delete(const std::string& id) {
  std::shared_ptr<PtySession> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return SessionNotFound(id);
    session = std::move(it->second);
    sessions_.erase(it);
  }
  session->Close();
  return absl::OkStatus();
}

}  // namespace osb::agent
