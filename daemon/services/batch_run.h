// Commands.RunBatch: many shell commands or code cells with bounded parallelism in one sandbox,
// spread over
// several or run in each, or in fresh sandboxes made from a template or taken from a pool, each
// job's result streamed as it completes. A code job runs in its language's default context (or
// the context it names); execd has no timeout for code, so osbd interrupts a cell at the job's
// limit and reports "timeout".
//
// `max_parallel` lanes pull work from one queue; a lane runs a job in its own sandbox (lane i in
// sandbox i mod n when spreading) or in the one the item names (BATCH_DISTRIBUTION_EACH), or, with
// fresh sandboxes and count 0, in a sandbox made for that job alone. A failed job is a result,
// never an RPC error; with `stop_on_failure` the jobs not yet started are reported as skipped.
// A client that leaves stops new jobs from starting; fresh sandboxes are killed at the end unless
// `keep`.
#pragma once

#include <grpcpp/grpcpp.h>

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/commands.pb.h"

namespace osb::daemon {

// Validates `request` (INVALID_ARGUMENT naming what is wrong) and starts the batch on `ctx`'s
// call.
grpc::ServerWriteReactor<opensandbox::v1::BatchJobResult>* StartBatch(
    DaemonContext& context, grpc::CallbackServerContext* ctx,
    const opensandbox::v1::RunBatchRequest& request);

}  // namespace osb::daemon
