// The seccomp filter every process of a sandbox runs under, the agent included: system calls a
// sandbox never needs, and that widen the kernel's attack surface, fail with EPERM (the list
// follows Docker's default profile). Installed once the root filesystem is built, for every
// thread of the agent, and inherited by everything it starts.
//
//   if (auto s = InstallSeccompFilter(); !s.ok()) return Fail(s);
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace osb::agent {

// The names of the system calls the filter refuses outright.
const std::vector<std::string_view>& BlockedSyscalls();

// Also refused: clone and unshare asking for a new user namespace (nesting one inside the
// sandbox's opens kernel code a sandbox never needs), and clone3 answers ENOSYS, so that the C
// library falls back to clone, whose flags the filter can see. Requires no_new_privs.
absl::Status InstallSeccompFilter();

}  // namespace osb::agent
