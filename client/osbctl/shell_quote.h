// Turns `osbctl run -- ARGS...` into the command line execd runs with `bash -c`.
#pragma once

#include <string>
#include <vector>

namespace osb::cli {

// One argument is taken as a shell command line as it is (`osbctl run -- 'ls | wc -l'`);
// several are an argv, each quoted so bash sees exactly those words (rest::ShellJoin).
std::string CommandLine(const std::vector<std::string>& args);

}  // namespace osb::cli
