// How the SDK keeps osbd's error details on an absl::Status: each detail as a payload under an
// "opensandbox.io/error/..." type URL, read back by GetErrorDetails (error.h).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace opensandbox::internal {

// Copies the google.rpc ErrorInfo and RetryInfo of `serialized_details` (a serialized
// google.rpc.Status, gRPC's grpc-status-details-bin) onto `status` as payloads. Details that do
// not parse are ignored: the code and message still say what failed.
void AttachDetails(const std::string& serialized_details, absl::Status& status);

}  // namespace opensandbox::internal
