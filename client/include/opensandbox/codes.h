// Codes: the code interpreter of one sandbox, as the official code interpreter SDK models it.
// A context is a live interpreter (python, bash or javascript) whose state persists between the
// cells run in it; a run names a context, or a language (its default context), or neither (the
// code then runs as a shell command). Get it from Sandbox::codes().
//
//   auto& codes = sandbox.codes();
//   auto context = codes.CreateContext("python");
//   codes.Run("x = 6 * 7", {.context_id = context->id});
//   auto cell = codes.Run("x", {.context_id = context->id});
//   // cell->results[0].text == "42"; cell->execution_count == 2
//   auto failed = codes.Run("1 / 0", {.context_id = context->id});
//   // failed->error->name == "ZeroDivisionError"
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opensandbox/execution.h"

namespace opensandbox {
namespace internal {
class DaemonConnection;
}  // namespace internal

struct CodeContext {
  std::string id;
  std::string language;
  std::string working_directory;  // empty: the sandbox's default
};

// The outcome of a cell.
struct CodeExecution {
  // The context it ran in (a command id when it ran as a shell command).
  std::string context_id;
  // The context's cell counter; 0 when it ran as a shell command.
  int execution_count = 0;
  // stdout and stderr as the interpreter wrote them: each message is one or more whole lines
  // (or the cell's last, unterminated one).
  ExecutionLogs logs;
  std::vector<CodeResult> results;
  // Set when the cell raised (name and value of the exception, its traceback), was interrupted
  // (KeyboardInterrupt), or its interpreter exited (ContextExited).
  std::optional<ExecutionError> error;
  std::optional<ExecutionComplete> complete;
};

// A cell's handlers are a command's (execution.h): on_init gets CodeExecution::context_id,
// on_result each value the cell shows. The name stays for code written before the two were one.
using CodeHandlers = ExecutionHandlers;

struct RunCodeOptions {
  // The context to run in; empty: the language's default context.
  std::string context_id;
  // "python", "bash" or "javascript". With neither a context nor a language the code runs as a
  // shell command.
  std::string language;
};

class Codes {
 public:
  // A new context with its own interpreter. kInvalidArgument for an unsupported language or a
  // working directory that is not one; an error naming the cause when the interpreter cannot
  // start (node missing from the image, say).
  absl::StatusOr<CodeContext> CreateContext(const std::string& language,
                                            const std::string& working_directory = "");
  std::future<absl::StatusOr<CodeContext>> CreateContextAsync(std::string language,
                                                              std::string working_directory = "");
  // Every context, or those of one language, oldest first.
  absl::StatusOr<std::vector<CodeContext>> ListContexts(const std::string& language = "");
  std::future<absl::StatusOr<std::vector<CodeContext>>> ListContextsAsync(
      std::string language = "");
  absl::StatusOr<CodeContext> GetContext(const std::string& context_id);  // kNotFound
  // Ends the context's interpreter (a cell running in it ends with ContextExited).
  absl::Status DeleteContext(const std::string& context_id);
  std::future<absl::Status> DeleteContextAsync(std::string context_id);
  absl::Status DeleteContexts(const std::string& language);

  // Runs a cell and returns when it ended. A cell that raised is not an error: the
  // CodeExecution has `error`. Errors: kNotFound for an unknown context; kInvalidArgument for an
  // unsupported language or one that is not the context's; another cell still running in the
  // context; kUnavailable when the stream broke before the cell ended.
  absl::StatusOr<CodeExecution> Run(const std::string& code, const RunCodeOptions& options = {},
                                    const ExecutionHandlers& handlers = {});
  // Run on a thread of its own (see async.h); the handlers are called there.
  std::future<absl::StatusOr<CodeExecution>> RunAsync(std::string code, RunCodeOptions options = {},
                                                      ExecutionHandlers handlers = {});

  // Interrupts the cell running in the context (KeyboardInterrupt in Python); nothing when none
  // runs.
  absl::Status Interrupt(const std::string& context_id);
  std::future<absl::Status> InterruptAsync(std::string context_id);

 private:
  friend class Sandbox;
  Codes(std::shared_ptr<internal::DaemonConnection> daemon, std::string sandbox_id);

  std::shared_ptr<internal::DaemonConnection> daemon_;
  std::string sandbox_id_;
};

}  // namespace opensandbox
