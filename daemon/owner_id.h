// Which osbd owns a sandbox. Everything osbd tags as its own (leased sandboxes, warm-pool
// members) also carries kOwnerLabel with this osbd's id, and only sandboxes with its id are
// swept or re-adopted at start: a service is shared by many hosts and users, each with an osbd,
// and one osbd's start must never touch another's sandboxes.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace osb::daemon {

inline constexpr std::string_view kOwnerLabel = "osbd.opensandbox.io/owner";

// The id kept in <state_dir>/owner-id, made (32 random hex digits) the first time, so that a
// restarted osbd with the same state finds what the one before it owned. An error when the file
// cannot be read or written, or holds anything but such an id.
absl::StatusOr<std::string> LoadOrCreateOwnerId(const std::string& state_dir);

// A fresh id of the same shape, for an osbd that keeps no state: it finds nothing again.
std::string NewOwnerId();

}  // namespace osb::daemon
