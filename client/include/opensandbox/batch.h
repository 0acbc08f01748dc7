// Batches: many shell commands in one call, run by osbd with bounded parallelism in one sandbox,
// spread over several (or run in each), or in fresh sandboxes from a template or pool; each
// job's result arrives as it completes.
//
//   opensandbox::BatchRunner batches;
//   std::vector<opensandbox::BatchJob> jobs;
//   for (const auto& test : tests) jobs.push_back({.id = test, .command = "pytest " + test});
//   auto status = batches.Run({.fresh_template = "python"}, jobs, {.max_parallel = 8},
//                             [](const opensandbox::BatchJobResult& r) {
//                               std::cout << r.job_id << (r.success ? " ok\n" : " FAILED\n");
//                             });
//
//   // Cells in one context of one sandbox run in order and share its state: "43".
//   auto cells = batches.Run({.sandbox_ids = {sandbox.id()}},
//                            {{.code = "x = 42", .code_context_id = context->id},
//                             {.code = "x + 1", .code_context_id = context->id}});
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/options.h"

namespace opensandbox {
namespace internal {
class LazyDaemon;
}  // namespace internal

struct BatchJob {
  // Echoed in its result; empty: the job's index in decimal. Unique within a batch.
  std::string id;
  // A shell command; or, when `code` is set, a code cell (and the command fields are unused).
  std::string command;
  std::string working_directory;
  std::map<std::string, std::string> envs;
  // Run the command as this Unix user id (0 to 2^31-1). Unset: execd's user. A code cell runs
  // as its interpreter's user: Run refuses a batch with a cell that sets either
  // (kInvalidArgument) rather than run it as someone else.
  std::optional<std::int64_t> uid;
  // Run the command with this Unix group id; requires `uid` (else the job fails with an error
  // saying so).
  std::optional<std::int64_t> gid;
  // A code cell, run in its language's default context ("python" when empty) or in
  // `code_context_id` (which needs a single-sandbox target: one id in `sandbox_ids`). Cells in
  // one context run one at a time, in the order of `jobs`. At its timeout a cell is interrupted.
  std::string code;
  std::string code_language;
  std::string code_context_id;
  // Unset: BatchOptions::job_timeout.
  std::optional<absl::Duration> timeout;
};

// Where the jobs run: exactly one of `sandbox_ids`, `fresh_template` and `fresh_pool`.
struct BatchTarget {
  // Existing sandboxes; jobs go to whichever has a free lane, or to every one with `each`. One
  // id is sent as osbd's single-sandbox target, the only one cells with a context may use.
  std::vector<std::string> sandbox_ids;
  bool each = false;
  // Fresh sandboxes made from this template, or taken from this pool, killed when the batch
  // ends (unless `keep_fresh`). `fresh_count` 0: one per job.
  std::string fresh_template;
  std::string fresh_pool;
  std::uint32_t fresh_count = 0;
  bool keep_fresh = false;
};

struct BatchOptions {
  // Jobs running at once; 0: 4.
  std::uint32_t max_parallel = 0;
  // After a failed job, start no more (they are reported as skipped).
  bool stop_on_failure = false;
  std::optional<absl::Duration> job_timeout;
  // Bytes of stdout and of stderr kept per job; 0: 1 MiB.
  std::uint64_t output_limit_bytes = 0;
};

struct BatchJobResult {
  std::string job_id;
  std::string sandbox_id;
  // Exit code 0 for a command; no error for a code cell.
  bool success = false;
  // A command's (code cells have none).
  std::optional<int> exit_code;
  // A command's lines, each followed by "\n"; a cell's output as written.
  std::string stdout_data, stderr_data;
  // A code cell's last result, as text.
  std::string result_text;
  bool stdout_truncated = false, stderr_truncated = false;
  // Why it did not succeed ("CommandExecError: 1", a timeout, no sandbox); empty on success.
  std::string error;
  absl::Duration duration = absl::ZeroDuration();
  std::string command_id;
  // Not started: an earlier job failed and stop_on_failure was set.
  bool skipped = false;
};

class BatchRunner {
 public:
  // Reaches osbd on first use; copies share the connection.
  explicit BatchRunner(Options options = {});

  // Runs the batch, calling `on_result` (on this thread) for each job as it completes. A failed
  // job is a result; the status is an error only when the batch could not run (kInvalidArgument
  // for a bad target or jobs, kUnavailable without osbd).
  absl::Status Run(const BatchTarget& target, const std::vector<BatchJob>& jobs,
                   const BatchOptions& options,
                   const std::function<void(const BatchJobResult&)>& on_result);
  // The same, returning every result in completion order.
  absl::StatusOr<std::vector<BatchJobResult>> Run(const BatchTarget& target,
                                                  const std::vector<BatchJob>& jobs,
                                                  const BatchOptions& options = {});
  std::future<absl::StatusOr<std::vector<BatchJobResult>>> RunAsync(BatchTarget target,
                                                                    std::vector<BatchJob> jobs,
                                                                    BatchOptions options = {});

 private:
  std::shared_ptr<internal::LazyDaemon> daemon_;
};

}  // namespace opensandbox
