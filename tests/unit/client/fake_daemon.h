// An in-process stand-in for osbd: the Sandboxes, Commands and Files services on a temporary
// Unix socket, answering from what a test sets up and recording what the SDK sent.
#pragma once

#include <grpcpp/server.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/files.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"

namespace opensandbox::testing {

namespace v1 = ::opensandbox::v1;

// What the fake has seen and what it answers. Tests fill the `next_*` fields before a call and
// read the `last_*` fields after it.
struct FakeState {
  absl::Mutex mu;
  // Sandboxes: Create and Get answer `sandbox`, or fail with `error` when it is not OK.
  v1::Sandbox sandbox;
  grpc::Status error = grpc::Status::OK;
  v1::CreateSandboxRequest last_create;
  v1::GetSandboxRequest last_get;
  v1::ListSandboxesRequest last_list;
  v1::RenewSandboxRequest last_renew;
  // Commands.Run: streams `events`, then ends with `run_end`.
  std::vector<v1::CommandEvent> events;
  grpc::Status run_end = grpc::Status::OK;
  v1::RunCommandRequest last_run;
  // Commands.RunBatch: streams `batch_results`, then ends OK.
  std::vector<v1::BatchJobResult> batch_results;
  v1::RunBatchRequest last_batch;
  int batches = 0;
  // Files.Read streams `file` in `read_chunk`-byte chunks; Files.Write stores into `file`
  // only when the client finished its stream (a cancelled write stores nothing).
  std::string file;
  std::size_t read_chunk = 1000;
  v1::WriteFileHeader last_write_header;
  int write_messages = 0;
  bool write_cancelled = false;
};

class FakeDaemon {
 public:
  FakeDaemon();
  ~FakeDaemon();
  const std::string& socket_path() const { return socket_path_; }
  FakeState& state() { return *state_; }

 private:
  std::string dir_, socket_path_;
  std::unique_ptr<FakeState> state_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace opensandbox::testing
