// `osbctl completion bash|zsh`: a shell completion script made from osbctl's own command tree,
// so it never falls behind a new command or flag.
//
//   source <(osbctl completion bash)        # in ~/.bashrc
//   source <(osbctl completion zsh)         # in ~/.zshrc (through zsh's bashcompinit)
#pragma once

#include <string>

#include "CLI/CLI.hpp"

namespace osb::cli {

// The script for `shell` ("bash" or "zsh"): completes subcommands at every level and the flags
// of the command typed so far.
std::string CompletionScript(const CLI::App& app, const std::string& shell);

}  // namespace osb::cli
