// Taking over the leases an earlier osbd held (DESIGN: "what the daemon owns is tagged with
// metadata and swept or re-adopted at start"). A leased sandbox carries its holder's pid and
// start time, and its osbd's owner id (owner_id.h); at start osbd lists the sandboxes of its
// default service and of each config profile's (one listing per distinct service and API key)
// that carry its own owner id and, for each leased one,
// watches the holder again if it still runs (the same process: same pid and start time), or
// kills the sandbox if the holder exited while no osbd watched it.
#pragma once

#include <functional>

#include "daemon/services/daemon_context.h"

namespace osb::daemon {

struct AdoptionResult {
  int adopted = 0;  // leases watched again
  int swept = 0;    // sandboxes killed: their holder is gone
  absl::Status status;  // the listing failed (nothing was done)
};

// Runs on the loop; `done` is called once every listed sandbox has been handled.
void AdoptLeases(DaemonContext& context, std::function<void(AdoptionResult)> done);

}  // namespace osb::daemon
