// Every command osb-agent started, by id: what GET /command/status/{id}, GET /command/{id}/logs
// and DELETE /command?id= work on (COMPAT.md §2.2, §2.4, §2.5). Background commands are started
// here; their combined stdout and stderr go to an anonymous in-memory file (invisible inside the
// sandbox) that the logs route reads at a byte cursor.
//
// Finished commands are remembered (the newest kMaxFinished of them) so that a client can still
// ask how one ended.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rest/execd.h"
#include "rest/execd_files.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class CommandRegistry {
 public:
  static constexpr std::size_t kMaxFinished = 1024;
  // How long an interrupted command has between SIGTERM and SIGKILL.
  static constexpr absl::Duration kInterruptGrace = absl::Seconds(3);
  // At most this much of a background log is returned by one Logs call.
  static constexpr std::size_t kMaxLogChunk = 4 << 20;

  explicit CommandRegistry(Reaper& reaper);
  ~CommandRegistry();
  CommandRegistry(const CommandRegistry&) = delete;
  CommandRegistry& operator=(const CommandRegistry&) = delete;

  // A foreground command about to start: record it, then report its pid once it has one, and its
  // end through the hook (which runs on the reaper thread).
  void AddForeground(const std::string& id, const std::string& content);
  void SetPid(const std::string& id, pid_t pid);
  // Forgets a foreground command that could not be started.
  void Discard(const std::string& id);
  Reaper::OnExit ExitHook(const std::string& id);

  // Starts a background command (its `timeout`, if any, kills it). InvalidArgument for a bad cwd.
  absl::Status StartBackground(const std::string& id, const rest::RunCommandRequest& request);

  // NotFound for an unknown id.
  absl::StatusOr<rest::CommandStatus> Status(const std::string& id);

  // SIGTERM to the command's process group, SIGKILL after kInterruptGrace if it still runs.
  // NotFound for an unknown id, FailedPrecondition when it is not running.
  absl::Status Interrupt(const std::string& id);

  struct LogChunk {
    std::string bytes;
    int64_t next_cursor = 0;
  };
  // Output of a background command from byte `cursor` on. NotFound for an unknown id,
  // FailedPrecondition for a foreground command, InvalidArgument for a negative cursor.
  absl::StatusOr<LogChunk> Logs(const std::string& id, int64_t cursor);

 private:
  struct Entry {
    std::string content;
    pid_t pid = -1;
    bool background = false;
    bool running = true;
    int wait_status = 0;
    absl::Time started_at;
    absl::Time finished_at;
    absl::Time kill_at = absl::InfiniteFuture();  // timeout or the end of an interrupt's grace
    std::shared_ptr<UniqueFd> log;                // background only
  };

  void Finished(const std::string& id, int wait_status);
  void Forget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunKiller();  // SIGKILLs commands whose kill_at has passed

  Reaper& reaper_;
  absl::Mutex mu_;
  absl::CondVar kill_at_changed_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> finished_order_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread killer_;
};

}  // namespace osb::agent
