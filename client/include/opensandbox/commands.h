// Commands: shell commands in one sandbox, with streamed output, background runs and bash
// sessions. Get it from Sandbox::commands().
//
//   auto& commands = sandbox.commands();
//   commands.SetEnv({{"LANG", "C.UTF-8"}});
//   auto execution = commands.Run("ls /; exit 3");
//   // execution->exit_code == 3, execution->error->name == "CommandExecError"
//
//   auto session = commands.CreateSession();
//   commands.RunInSession(*session, "cd /tmp && export X=1");
//   commands.RunInSession(*session, "echo $X $PWD");   // "1 /tmp"
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opensandbox/execution.h"

namespace opensandbox {
namespace internal {
class DaemonConnection;
}  // namespace internal

class Commands {
 public:
  // Runs `command` with bash and returns when it ended (with `background`: when it started).
  // A command that ran and failed is not an error: the Execution has `error` and `exit_code`.
  // Errors: kInvalidArgument for a working directory that is not one; kNotFound for an unknown
  // sandbox; kUnavailable (naming the command id) when the output stream broke before the end.
  absl::StatusOr<Execution> Run(const std::string& command, const RunOptions& options = {},
                                const ExecutionHandlers& handlers = {});
  // Run on a thread of its own (see async.h); the handlers are called there.
  std::future<absl::StatusOr<Execution>> RunAsync(std::string command, RunOptions options = {},
                                                  ExecutionHandlers handlers = {});

  // Replays a run osbd journalled from after event `after_seq` (Execution::last_seq), then
  // follows it to its end. kNotFound when osbd no longer holds the run; kOutOfRange when the
  // events after `after_seq` were already dropped.
  absl::StatusOr<Execution> Attach(const std::string& command_id, std::uint64_t after_seq = 0,
                                   const ExecutionHandlers& handlers = {});
  std::future<absl::StatusOr<Execution>> AttachAsync(std::string command_id,
                                                     std::uint64_t after_seq = 0,
                                                     ExecutionHandlers handlers = {});

  // Sends SIGTERM to the command's process group (SIGKILL 3 s later). Fails when the command
  // is not running.
  absl::Status Interrupt(const std::string& command_id);
  std::future<absl::Status> InterruptAsync(std::string command_id);

  absl::StatusOr<CommandStatus> GetStatus(const std::string& command_id);
  std::future<absl::StatusOr<CommandStatus>> GetStatusAsync(std::string command_id);

  // Reads a background command's combined output from byte `cursor` (0: the start); read on
  // from CommandLogs::next_cursor. kInvalidArgument for a foreground command.
  absl::StatusOr<CommandLogs> GetLogs(const std::string& command_id, std::int64_t cursor = 0);
  std::future<absl::StatusOr<CommandLogs>> GetLogsAsync(std::string command_id,
                                                        std::int64_t cursor = 0);

  // Starts a bash session whose `cd` and exported variables persist between runs; returns its
  // id. `working_directory` empty: execd's.
  absl::StatusOr<std::string> CreateSession(const std::string& working_directory = "");
  std::future<absl::StatusOr<std::string>> CreateSessionAsync(std::string working_directory = "");

  // Runs `command` in a session; stdout and stderr arrive merged as stdout. A run that hits
  // its timeout ends with an ExecutionError and no exit code.
  absl::StatusOr<Execution> RunInSession(const std::string& session_id,
                                         const std::string& command,
                                         const SessionRunOptions& options = {},
                                         const ExecutionHandlers& handlers = {});
  std::future<absl::StatusOr<Execution>> RunInSessionAsync(std::string session_id,
                                                           std::string command,
                                                           SessionRunOptions options = {},
                                                           ExecutionHandlers handlers = {});

  // Ends a session and its shell. kNotFound for an unknown session.
  absl::Status DeleteSession(const std::string& session_id);
  std::future<absl::Status> DeleteSessionAsync(std::string session_id);

  // Environment variables every later Run of this object adds (a run's own `envs` win).
  void SetEnv(std::map<std::string, std::string> env) { default_env_ = std::move(env); }
  // Working directory of every later Run that names none.
  void SetCwd(std::string working_directory) { default_cwd_ = std::move(working_directory); }

 private:
  friend class Sandbox;
  Commands(std::shared_ptr<internal::DaemonConnection> daemon, std::string sandbox_id);

  std::shared_ptr<internal::DaemonConnection> daemon_;
  std::string sandbox_id_;
  std::map<std::string, std::string> default_env_;
  std::string default_cwd_;
};

}  // namespace opensandbox
