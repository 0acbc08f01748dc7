// The check every service makes of a request's required string fields.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace osb::daemon {

// InvalidArgument naming `field` (as the proto names it, e.g. "pool_name") when `value` is
// empty; OK otherwise.
inline absl::Status RequiredField(absl::string_view value, absl::string_view field) {
  if (!value.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
}

}  // namespace osb::daemon
