#include "runtime/agent/bash_sessions.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "rest/ids.h"
#include "rest/sys/file_util.h"

namespace osb::agent {
namespace {

constexpr char kStateRoot[] = "/tmp/.osb-sessions";

// The run's script: the command itself arrives in __OSB_COMMAND (never re-parsed as part of
// this text), and the EXIT trap saves the exported variables and the directory whatever way the
// command ends.
constexpr char kRunScript[] = R"(exec 2>&1
__osb_state=$__OSB_STATE
__osb_command=$__OSB_COMMAND
unset __OSB_STATE __OSB_COMMAND
if [ -f "$__osb_state/env" ]; then . "$__osb_state/env"; fi
if [ -n "$__OSB_CWD" ]; then __osb_cwd=$__OSB_CWD; else __osb_cwd=$(cat "$__osb_state/cwd" 2>/dev/null || echo /); fi
unset __OSB_CWD
trap 'export -p > "$__osb_state/env"; pwd > "$__osb_state/cwd"' EXIT
cd "$__osb_cwd" || exit 1
eval "$__osb_command"
)";

absl::Status CheckDirectory(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("working directory ", path, " is not an existing directory"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> BashSessions::Create(const std::optional<std::string>& cwd) {
  const std::string start = cwd.value_or("/");
  if (auto s = CheckDirectory(start); !s.ok()) return s;
  std::string id = rest::NewUuid4();
  auto session = std::make_shared<Session>();
  session->state_dir = absl::StrCat(kStateRoot, "/", id);
  if (auto s = MakeDirs(session->state_dir, 0700); !s.ok()) return s;
  if (auto s = WriteFileAtomic(session->state_dir + "/cwd", start + "\n", 0600); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  sessions_[id] = std::move(session);
  return id;
}

absl::StatusOr<std::unique_ptr<ForegroundCommand>> BashSessions::Run(
    const std::string& id, const rest::SessionRunRequest& request) {
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return absl::NotFoundError(absl::StrCat("no session ", id));
    if (it->second->busy) {
      return absl::FailedPreconditionError(absl::StrCat("session ", id, " is busy"));
    }
    session = it->second;
    session->busy = true;
  }
  auto release = [this, session] {
    absl::MutexLock lock(&mu_);
    session->busy = false;
  };
  if (request.cwd.has_value()) {
    if (auto s = CheckDirectory(*request.cwd); !s.ok()) {
      release();
      return s;
    }
  }
  // The state directory may have been removed from inside the sandbox: start afresh then.
  (void)MakeDirs(session->state_dir, 0700);
  rest::RunCommandRequest run;
  run.command = kRunScript;
  run.timeout_ms = request.timeout_ms;
  run.envs = {{"__OSB_STATE", session->state_dir},
              {"__OSB_COMMAND", request.command},
              {"__OSB_CWD", request.cwd.value_or("")}};
  auto started = ForegroundCommand::Start(reaper_, run, id, [release](int) { release(); });
  if (!started.ok()) release();
  return started;
}

absl::Status BashSessions::Delete(const std::string& id) {
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return absl::NotFoundError(absl::StrCat("no session ", id));
    session = std::move(it->second);
    sessions_.erase(it);
  }
  return RemoveTree(session->state_dir);
}

}  // namespace osb::agent
