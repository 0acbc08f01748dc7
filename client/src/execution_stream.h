// Reading a stream of CommandEvents (Run, Attach, RunInSession) into an Execution, calling the
// handlers as events arrive.
#pragma once

#include <grpcpp/support/sync_stream.h>

#include "absl/status/statusor.h"
#include "opensandbox/execution.h"
#include "opensandbox/v1/commands.pb.h"

namespace opensandbox::internal {

// Reads `reader` to its end. OK with the Execution when a terminal event (completed or failed)
// arrived; the RPC's error otherwise, or kUnavailable naming the command when the stream ended
// without one (a broken stream is never reported as a finished command). `command_id`, when
// known (Attach after `started`), is the Execution's id until a `started` event says otherwise.
absl::StatusOr<Execution> ReadExecution(grpc::ClientReaderInterface<v1::CommandEvent>& reader,
                                        const ExecutionHandlers& handlers,
                                        std::string command_id = "");

}  // namespace opensandbox::internal
