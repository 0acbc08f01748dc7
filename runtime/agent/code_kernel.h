// One code context's interpreter (kernel_drivers.h): a long-lived process in its own process
// group that runs cells one at a time and streams each cell's events as execd's /code does
// (COMPAT.md §2.3): stdout and stderr as whole lines (several at once when they come together,
// like Jupyter's stream chunks; a trailing partial line at the end), a ping every 3 s, then
// `result` when the cell's value is shown, then `execution_complete` or `error`.
//
//   auto kernel = CodeKernel::Start(reaper, CodeLanguage::kPython, std::nullopt);
//   bool alive = (*kernel)->Run("/tmp/.osb-code/<id>/cell-1.py", emit);
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "rest/execd.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/exit_notice.h"
#include "runtime/agent/kernel_drivers.h"
#include "runtime/agent/reaper.h"

namespace osb::agent {

class CodeKernel {
 public:
  // Sends one event; returns false once the client is gone.
  using Emit = std::function<bool(rest::ServerStreamEvent event)>;

  // Starts the interpreter in `cwd` (InvalidArgument when that is not a directory) and waits for
  // its driver to be ready. FailedPrecondition, with what the interpreter printed, when it cannot
  // start (node missing from the image, say).
  static absl::StatusOr<std::unique_ptr<CodeKernel>> Start(Reaper& reaper, CodeLanguage language,
                                                           const std::optional<std::string>& cwd);

  ~CodeKernel();  // kills the process group
  CodeKernel(const CodeKernel&) = delete;
  CodeKernel& operator=(const CodeKernel&) = delete;

  // Runs the cell whose code is in the file `cell_path`; one Run at a time. When `emit` reports
  // the client gone, the cell is interrupted, and the interpreter killed if it does not stop.
  // Returns false when the interpreter has exited (the error event says so): it cannot run
  // again, and the context must start a new one.
  bool Run(const std::string& cell_path, const Emit& emit);

  // SIGINT to the process group: interrupts a running cell; ignored between cells.
  void Interrupt();
  // SIGKILL to the process group: a Run in progress ends with the interpreter's exit.
  void Kill();

 private:
  CodeKernel() = default;
  void Signal(int sig);
  // Reads control lines into control_buf_; the next complete line, or nullopt. `open` becomes
  // false at end of file.
  std::optional<std::string> NextControlLine(bool& open);

  CodeLanguage language_ = CodeLanguage::kPython;
  pid_t pid_ = -1;
  std::shared_ptr<ExitNotice> exit_;
  UniqueFd control_w_;  // the driver's fd 3
  UniqueFd control_r_;  // the driver's fd 4
  UniqueFd stdout_, stderr_;
  std::string control_buf_;
};

}  // namespace osb::agent
