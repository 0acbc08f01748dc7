// Reading a stream of CommandEvents (Run, Attach, RunInSession) into an Execution, calling the
// handlers as events arrive.
#pragma once

#include <grpcpp/support/sync_stream.h>

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/execution.h"
#include "opensandbox/v1/commands.pb.h"

namespace opensandbox::internal {

// Appends one piece of output (a command's or a cell's) to `logs` and calls the handler for its
// stream (`on_stdout` or `on_stderr`) first.
inline void AddOutput(ExecutionLogs& logs, const ExecutionHandlers& handlers, bool is_error,
                      std::string text, absl::Time time) {
  OutputMessage message{std::move(text), time, is_error};
  const auto& handler = is_error ? handlers.on_stderr : handlers.on_stdout;
  if (handler) handler(message);
  (is_error ? logs.stderr_lines : logs.stdout_lines).push_back(std::move(message));
}

// Reads `reader` to its end. OK with the Execution when a terminal event (completed or failed)
// arrived; the RPC's error otherwise, or kUnavailable naming the command when the stream ended
// without one (a broken stream is never reported as a finished command). `command_id`, when
// known (Attach after `started`), is the Execution's id until a `started` event says otherwise.
// `on_result` is never called: a CommandEvent has no result (execd sends none for commands).
absl::StatusOr<Execution> ReadExecution(grpc::ClientReaderInterface<v1::CommandEvent>& reader,
                                        const ExecutionHandlers& handlers,
                                        std::string command_id = "");

}  // namespace opensandbox::internal
