// execd's code contexts (COMPAT.md §2.2–2.4): POST /code/context, GET and DELETE
// /code/contexts[/{id}], POST /code with a context, DELETE /code?id= (interrupt). Each context is
// one interpreter (code_kernel.h) with its own state; a run with a language but no context id
// uses that language's default context, made on first use. One run at a time per context: a
// second is refused while the first goes on. A context whose interpreter exited starts a new one
// at its next run (its state is lost, and its execution count starts again at 1, as a restarted
// Jupyter kernel's does).
//
// Cells are written to files under /tmp/.osb-code/<context id>/ in the sandbox, so that
// tracebacks name them; a context's files go with it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rest/execd_code.h"
#include "runtime/agent/code_kernel.h"
#include "runtime/agent/foreground_command.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class CodeContexts;

// One claimed run of a context: Stream sends init (the context id), execution_count, then the
// cell's events, and frees the context for the next run before it returns (destroying an
// unstreamed run frees it too).
class CodeRun {
 public:
  ~CodeRun();
  CodeRun(const CodeRun&) = delete;
  CodeRun& operator=(const CodeRun&) = delete;

  // Writes encoded events; returns false when the client is gone.
  void Stream(const ForegroundCommand::Writer& write);

 private:
  friend class CodeContexts;
  struct Context;
  CodeRun(CodeContexts& owner, std::shared_ptr<Context> context, std::shared_ptr<CodeKernel> kernel,
          std::string cell_path, int64_t execution_count);
  void Release();

  CodeContexts& owner_;
  std::shared_ptr<Context> context_;
  std::shared_ptr<CodeKernel> kernel_;
  std::string cell_path_;
  int64_t execution_count_;
  bool released_ = false;
};

class CodeContexts {
 public:
  explicit CodeContexts(Reaper& reaper) : reaper_(reaper) {}
  ~CodeContexts();  // every interpreter is killed

  // InvalidArgument for an unsupported language or a cwd that is not a directory;
  // FailedPrecondition when the interpreter cannot start.
  absl::StatusOr<rest::CodeContext> Create(const rest::CodeContextRequest& request);
  // Every context, or those of one language (InvalidArgument when it is not supported), oldest
  // first.
  absl::StatusOr<std::vector<rest::CodeContext>> List(std::string_view language);
  absl::StatusOr<rest::CodeContext> Get(const std::string& id);  // NotFound
  // Kills the interpreter (a run in progress ends with its error) and removes the context.
  absl::Status Delete(const std::string& id);  // NotFound
  absl::Status DeleteLanguage(std::string_view language);  // InvalidArgument when unsupported

  // Interrupts the context's running cell; nothing when none runs. NotFound for an unknown id.
  absl::Status Interrupt(const std::string& id);

  // Claims a context for running `request.code` (which must name a context id or a language).
  // NotFound for an unknown context id; InvalidArgument for an unsupported language or one that
  // is not the context's; FailedPrecondition while the context runs another cell or when its
  // interpreter cannot start.
  absl::StatusOr<std::unique_ptr<CodeRun>> Begin(const rest::RunCodeRequest& request);

 private:
  friend class CodeRun;
  using Context = CodeRun::Context;

  absl::StatusOr<std::string> DefaultContext(CodeLanguage language);
  void EndRun(Context& context, bool kernel_alive);

  Reaper& reaper_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Context>> contexts_ ABSL_GUARDED_BY(mu_);
  int64_t created_ ABSL_GUARDED_BY(mu_) = 0;  // how many contexts were made: their order
  std::map<CodeLanguage, std::string> defaults_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::agent
