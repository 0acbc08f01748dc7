// execd's bash sessions (COMPAT.md §2.4): POST /session, POST /session/{id}/run and
// DELETE /session/{id}. Each run is a fresh `bash` that starts from the session's saved exported
// variables and working directory and saves both again when it ends (on `exit` too), so `export`
// and `cd` persist between runs; stderr is merged into stdout, as execd does. A run's `cwd`
// replaces the start directory and, being saved at the end, becomes the session's.
//
// A session's state lives in a 0700 directory under /tmp of the sandbox (execd keeps its own in
// temporary files too); one run at a time per session.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rest/execd.h"
#include "runtime/agent/foreground_command.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class BashSessions {
 public:
  explicit BashSessions(Reaper& reaper) : reaper_(reaper) {}

  // A new session starting in `cwd` (default `/`); InvalidArgument when it is not a directory.
  absl::StatusOr<std::string> Create(const std::optional<std::string>& cwd);

  // Starts a run whose events' init carries the session id. NotFound for an unknown session,
  // FailedPrecondition while another run of it is going, InvalidArgument for a bad cwd.
  absl::StatusOr<std::unique_ptr<ForegroundCommand>> Run(const std::string& id,
                                                         const rest::SessionRunRequest& request);

  // NotFound for an unknown session. A run in progress goes on to its end.
  absl::Status Delete(const std::string& id);

 private:
  struct Session {
    std::string state_dir;
    bool busy = false;
  };

  Reaper& reaper_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::agent
