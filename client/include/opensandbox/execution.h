// A command's run, as the official SDKs model it: options in, handlers called as output
// arrives, and the Execution that sums it up. The handlers are those of a code cell too
// (Codes::Run), as in the official SDKs.
//
//   opensandbox::ExecutionHandlers handlers;
//   handlers.on_stdout = [](const opensandbox::OutputMessage& m) { std::cout << m.text << "\n"; };
//   auto execution = sandbox.commands().Run("make test", {}, handlers);
//   if (execution.ok() && execution->exit_code != 0) ...
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace opensandbox {

// One line of output, without its terminator (a blank line is "\n", as execd sends it).
struct OutputMessage {
  std::string text;
  absl::Time timestamp = absl::InfinitePast();
  // Whether it came from standard error.
  bool is_error = false;
};

// Why a command did not complete successfully.
struct ExecutionError {
  // "CommandExecError" for a non-zero exit or a kill; otherwise the type of the failure that
  // kept the command from running (e.g. a session run's "RUNTIME_ERROR").
  std::string name;
  // The exit code in decimal for CommandExecError, else a description.
  std::string value;
  absl::Time timestamp = absl::InfinitePast();
  std::vector<std::string> traceback;
};

// A value a code cell showed: the value of its final expression (the official SDKs'
// ExecutionResult).
struct CodeResult {
  // Its plain-text form (Python's repr, node's util.inspect).
  std::string text;
  // Every form the interpreter gave, by MIME type ("text/plain" is `text`).
  std::map<std::string, std::string> data;
  absl::Time timestamp = absl::InfinitePast();
};

// How a command ended successfully.
struct ExecutionComplete {
  absl::Duration execution_time = absl::ZeroDuration();
  absl::Time timestamp = absl::InfinitePast();
};

struct ExecutionLogs {
  std::vector<OutputMessage> stdout_lines;
  std::vector<OutputMessage> stderr_lines;
};

// The outcome of a run.
struct Execution {
  // Command id (the session id for a session run); use it with Interrupt, GetStatus, GetLogs
  // and Attach.
  std::string id;
  ExecutionLogs logs;
  // Set when the command failed (non-zero exit, killed, could not start).
  std::optional<ExecutionError> error;
  // 0 on success; the exit code on failure; -1 when killed by a signal (interrupt, timeout).
  // Unset when the command never ran.
  std::optional<int> exit_code;
  // Sequence number of the last event seen; pass it to Attach to resume after a disconnect.
  std::uint64_t last_seq = 0;
};

// The official SDKs' ExecutionHandlers, one value for Commands and Codes alike: each is called
// on the calling thread, in order, as events arrive. Any may be left empty.
struct ExecutionHandlers {
  // The run started: with the command id (the session id for RunInSession), or for a cell the
  // id of the context it runs in.
  std::function<void(const std::string& id)> on_init;
  std::function<void(const OutputMessage&)> on_stdout;
  std::function<void(const OutputMessage&)> on_stderr;
  // A cell showed a value (once per value, before the cell ends). Never called for a command or
  // a session run: execd sends no result event for them, only output and an exit.
  std::function<void(const CodeResult&)> on_result;
  // The run ended unsuccessfully (a command's non-zero exit, a cell's exception).
  std::function<void(const ExecutionError&)> on_error;
  // The run ended successfully.
  std::function<void(const ExecutionComplete&)> on_complete;
};

// Options of Commands::Run (the official SDKs' RunCommandOpts).
struct RunOptions {
  // Detach: Run returns once the command started; read its output with GetLogs.
  bool background = false;
  // Must be an existing directory. Empty: the Commands default (SetCwd), else execd's.
  std::string working_directory;
  // Kill the command after this long (it then fails with exit code -1). Unset: no limit.
  std::optional<absl::Duration> timeout;
  // Added to the Commands defaults (SetEnv) for this run only.
  std::map<std::string, std::string> envs;
  std::optional<std::int64_t> uid;
  // Requires `uid`.
  std::optional<std::int64_t> gid;
};

// Options of Commands::RunInSession.
struct SessionRunOptions {
  // Run there, and stay there for later runs. Empty: the session's directory.
  std::string working_directory;
  std::optional<absl::Duration> timeout;
};

// A command's state (execd's command status).
struct CommandStatus {
  std::string id;
  std::string command;
  bool running = false;
  // Once finished: the exit code (-1 when killed by a signal).
  std::optional<int> exit_code;
  std::string error;
  absl::Time started_at = absl::InfinitePast();
  std::optional<absl::Time> finished_at;
};

// A slice of a background command's combined output.
struct CommandLogs {
  std::string data;
  // Where to read on from.
  std::int64_t next_cursor = 0;
  // More output is already there: read again at once from `next_cursor`.
  bool more = false;
};

}  // namespace opensandbox
