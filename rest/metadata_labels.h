// The rules on sandbox metadata (COMPAT.md §1.3): Kubernetes label rules, with the prefix
// `opensandbox.io/` reserved for the service itself.
//   key   = [prefix "/"] name; prefix a DNS subdomain (lowercase, ≤ 253); name ≤ 63 characters of
//           [A-Za-z0-9], '-', '_', '.', starting and ending with an alphanumeric
//   value = empty, or as a name
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "rest/lifecycle.h"

namespace rest {

inline constexpr std::string_view kInvalidMetadataLabel = "SANDBOX::INVALID_METADATA_LABEL";
inline constexpr std::string_view kReservedMetadataPrefix = "opensandbox.io/";

// InvalidArgument saying which key or value breaks which rule; OK when all follow them.
absl::Status ValidateMetadataKey(std::string_view key);
absl::Status ValidateMetadataValue(std::string_view key, std::string_view value);
absl::Status ValidateMetadata(const StringMap& metadata);

}  // namespace rest
