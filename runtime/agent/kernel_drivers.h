// The interpreters behind osb-agent's code contexts (COMPAT.md §2.8), without Jupyter: each
// context is one long-lived interpreter process running a small driver program, given here per
// language. The protocol between the agent and a driver:
//   - fd 3 (read by the driver): one line per cell, the path of a file holding the cell's code;
//   - fd 4 (written by the driver): `{"ready":true}` once at start, then one JSON line per cell:
//     `{}`, `{"result":{"text":…,"text/html"?:…}}`, `{"error":{"ename","evalue","traceback"}}`
//     or, for bash, `{"exit_code":N}`;
//   - fds 1 and 2 are the cell's stdout and stderr; the driver flushes both before it replies;
//   - SIGINT to the process group interrupts the running cell and is ignored between cells.
// Python runs cells in one `__main__` namespace; the value of a final expression is the result
// (top-level `await` allowed). JavaScript runs cells in node's global context (`let` and `const`
// persist, a promise result is awaited). Bash sources each cell into one shell, so variables,
// functions and the directory persist; a non-zero status is the cell's error.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace osb::agent {

enum class CodeLanguage { kPython, kBash, kJavaScript };

// "python", "bash" or "javascript" (case-insensitive); InvalidArgument naming the supported ones
// for anything else, including the languages execd's Jupyter kernels add (java, go, typescript).
absl::StatusOr<CodeLanguage> ParseCodeLanguage(std::string_view name);
const char* NameOf(CodeLanguage language);

// The extension of a cell file ("py", "sh", "js"): tracebacks name the file.
const char* CellExtension(CodeLanguage language);

// The `bash -c` text that starts the language's driver (bash runs its own in place).
std::string KernelCommand(CodeLanguage language);

}  // namespace osb::agent
