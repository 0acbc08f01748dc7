// The sandbox's env file (execd's EXECD_ENVS): KEY=VALUE entries that every command, session run
// and code context starts with, between the agent's own environment and the request's `envs`
// (which win). The official SDKs' `commands.set_env(key, value)` appends to it from inside the
// sandbox, in one of the forms
//   KEY='value'          literal (no quote inside)
//   KEY="va\"lue\n"      with \\ \" \n \r \t escapes
// and a line may also be KEY=value (literal to the end of the line), start with `export `, be
// blank or a # comment. `$NAME` inside a value is kept as it is, not expanded. Lines that are none
// of these are skipped.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace osb::agent {

// Where the file is when the sandbox's environment names none (upstream execd's default).
inline constexpr char kDefaultEnvFile[] = "/opt/opensandbox/.env";

// The entries of an env file's text, in order (a later entry for a key wins when applied).
std::vector<std::pair<std::string, std::string>> ParseEnvFile(std::string_view text);

// The entries of the file that EXECD_ENVS names in the agent's environment; none when it is
// unset, missing, unreadable or larger than 1 MiB.
std::vector<std::pair<std::string, std::string>> LoadEnvFile();

}  // namespace osb::agent
