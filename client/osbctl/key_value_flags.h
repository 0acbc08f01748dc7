// Flags whose values are "KEY=VALUE" pairs (--env, --metadata, --resource): parsed into a map
// after the command line is, so that a malformed pair is one line naming the flag, and the caller
// exits 2 as for any usage error.
//
//   if (!ParseKeyValues(metadata_flags, "--metadata", request.mutable_metadata())) return 2;
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace osb::cli {

// Adds each of `items` to `map` (a later pair wins over an earlier one with the same key). An
// item without '=' or with an empty key prints "osbctl: <flag> <item>: expected KEY=VALUE" on
// stderr and returns false; `map` may then hold the items before it.
template <typename Map>
bool ParseKeyValues(const std::vector<std::string>& items, const char* flag, Map* map) {
  for (const auto& item : items) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "osbctl: %s %s: expected KEY=VALUE\n", flag, item.c_str());
      return false;
    }
    (*map)[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

}  // namespace osb::cli
