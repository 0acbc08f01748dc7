// The one conversion from absl::Status to grpc::Status at osbd's boundary. The message carries
// the OpenSandbox error code and the upstream request id when the failure came from a server:
//   "SANDBOX::NOT_FOUND: sandbox 123 not found (request id 9f2c...)"
// so a user sees, in one line, what failed and what to quote to the server's operator; a program
// finds the same in a google.rpc.ErrorInfo (reason = the code, domain "opensandbox.io" or, for
// osbd's own "OSBD::..." reasons, "osbd.opensandbox.io"; metadata "request_id" and "http_status")
// in the status details.
#pragma once

#include <grpcpp/support/status.h>

#include <map>
#include <string>

#include "absl/status/status.h"

namespace osb::daemon {

grpc::Status ToGrpcStatus(const absl::Status& status);

// A failure of osbd's own, with a google.rpc.ErrorInfo (reason "OSBD::...", domain
// "osbd.opensandbox.io", `metadata`) in the details, for clients to act on.
grpc::Status OsbdStatus(grpc::StatusCode code, const std::string& reason,
                        const std::string& message,
                        const std::map<std::string, std::string>& metadata);

}  // namespace osb::daemon
