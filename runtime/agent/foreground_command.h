// One foreground command of POST /command: `bash -c <command>` in its own process group, its
// stdout and stderr streamed as execd events (COMPAT.md §2.3–2.4):
//   init(id) → stdout/stderr (one per line) and ping every 3 s → execution_complete | error.
//
//   auto cmd = ForegroundCommand::Start(reaper, request, rest::NewHexId());
//   if (!cmd.ok()) ...  // answer with a JSON error: nothing was streamed yet
//   (*cmd)->Stream([&](std::string_view bytes) { return sink.write(bytes); });
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rest/execd.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/exit_notice.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class ForegroundCommand {
 public:
  // Writes encoded events; returns false when the client is gone.
  using Writer = std::function<bool(std::string_view bytes)>;

  // Checks the request (cwd must be a directory: InvalidArgument), then starts the process.
  // Failures to start (fork, pipes) are returned here, before any event. `also_on_exit`, when
  // set, is called with the wait status on the reaper thread once the process has been reaped.
  static absl::StatusOr<std::unique_ptr<ForegroundCommand>> Start(
      Reaper& reaper, const rest::RunCommandRequest& request, std::string id,
      Reaper::OnExit also_on_exit = nullptr);

  ~ForegroundCommand();  // kills the process group if the stream did not finish

  // Streams every event up to and including the terminal one. If `write` fails, the process
  // group is killed and Stream returns at once.
  void Stream(const Writer& write);

  const std::string& id() const { return id_; }
  pid_t pid() const { return pid_; }

 private:
  ForegroundCommand() = default;
  void Kill();

  std::string id_;
  pid_t pid_ = -1;
  absl::Time started_;
  std::shared_ptr<ExitNotice> exit_;
  UniqueFd stdout_, stderr_;
  std::string spawn_error_;  // exec failed: reported as the error event
  absl::Duration timeout_ = absl::InfiniteDuration();
  bool finished_ = false;
};

// How execd words a wait status: {"exit status 3", 3}, {"signal: killed", -1}.
struct ExitDescription {
  std::string text;
  int code;
};
ExitDescription DescribeWaitStatus(int wait_status);

}  // namespace osb::agent
