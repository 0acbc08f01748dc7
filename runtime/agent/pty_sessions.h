// execd's PTY sessions by id: POST /pty makes one, GET /pty/{id} reports it, DELETE /pty/{id} ends
// it (COMPAT.md §2.9); its WebSocket (pty_socket.h) finds it here.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "runtime/agent/pty_session.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class PtySessions {
 public:
  // Sessions live until deleted, each with its shell and up to 1 MiB of replayable output: a
  // client that never deletes them is told so here rather than by the sandbox's memory limit.
  static constexpr std::size_t kMaxSessions = 64;

  explicit PtySessions(Reaper& reaper) : reaper_(reaper) {}

  // A new session, its shell not started yet. A `cwd` that does not exist is made (mkdir -p, as
  // execd does); one that cannot be is an error. ResourceExhausted (TOO_MANY_SESSIONS) when
  // kMaxSessions exist.
  absl::StatusOr<std::string> Create(const std::string& cwd, const std::string& command);

  // NotFound for an unknown id.
  absl::StatusOr<std::shared_ptr<PtySession>> Get(const std::string& id) const;
  absl::Status Delete(const std::string& id);

 private:
  Reaper& reaper_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<PtySession>> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::agent
