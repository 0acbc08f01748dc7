// Running another program and timing it end to end: the fresh-process alternatives (osbctl, a
// curl script, an SDK script, bash -c) are measured as a user meets them, from fork to exit.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace osb::bench {

struct ChildResult {
  int exit_code = -1;    // -1: did not exit normally
  std::string out, err;  // what it wrote (stderr cut to its last 4 KiB)
  absl::Duration wall;   // from just before fork to its reaping
};

// Runs argv (argv[0] a path, or a name looked up in PATH), stdin /dev/null, with `extra_env`
// ("K=V") added to ours. Killed after `timeout`.
ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env = {},
                     absl::Duration timeout = absl::Minutes(5));

}  // namespace osb::bench
