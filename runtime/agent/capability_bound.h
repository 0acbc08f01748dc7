// The capabilities a sandbox keeps. Root inside a sandbox holds every capability over what its
// user namespace owns; once the agent has built the sandbox, only those an ordinary container
// has remain (Docker's default set: chown, dac_override, fowner, fsetid, kill, setgid, setuid,
// setpcap, net_bind_service, net_raw, sys_chroot, mknod, audit_write, setfcap), in the bounding
// set, so no later exec can gain another, and in the agent's own sets.
//
//   if (auto s = BoundCapabilities(); !s.ok()) return Fail(s);
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace osb::agent {

// The kept capabilities as a mask (bit n = capability n).
uint64_t KeptCapabilities();

// Drops every other capability from the bounding, permitted, effective, inheritable and ambient
// sets of the calling thread (threads and processes it creates later inherit them). Call before
// starting any thread that starts processes.
absl::Status BoundCapabilities();

}  // namespace osb::agent
