// YAML documents as JSON, so that osbctl reads a batch file (a RunBatchRequest) written in
// either: JSON is YAML, and a YAML file becomes the JSON proto parsing expects.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace osb::cli {

// The JSON text of a YAML document. Unquoted scalars become what they look like (true/false,
// null, integers, decimals), quoted ones stay strings; anchors and aliases are resolved.
// InvalidArgument with the line and column for YAML that does not parse.
absl::StatusOr<std::string> YamlToJson(const std::string& yaml);

}  // namespace osb::cli
