// `osbctl command batch FILE`: the jobs of a JSON file (a RunBatchRequest in proto JSON, e.g.
// {"target": {"sandboxId": "..."}, "jobs": [{"id": "a", "command": {"command": "make"}}]}) run by
// osbd's Commands.RunBatch; each result printed as one JSON line as it completes.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "opensandbox/v1/commands.grpc.pb.h"

namespace osb::cli {

// Exit status: 0 when every job succeeded, 1 when one did not, 2 for a file that is not a
// batch, kToolFailure when the batch could not run.
int RunBatchFile(opensandbox::v1::Commands::Stub& commands, grpc::ClientContext& call,
                 const std::string& path);

}  // namespace osb::cli
