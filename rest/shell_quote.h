// Quoting for the command lines execd runs with `bash -c`: osbctl's argv, execd's `argv`
// requests, and the interpreters of code contexts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rest {

// `arg` as one bash word: unchanged when it holds only safe characters, else single-quoted.
std::string ShellQuote(std::string_view arg);

// The words of `argv`, each quoted, joined by spaces: a command line bash splits back into
// exactly those words, with nothing expanded.
std::string ShellJoin(const std::vector<std::string>& argv);

}  // namespace rest
