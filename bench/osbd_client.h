// The osbd path: Sandboxes.Create/Kill and Commands.Run over gRPC with the generated stubs (there
// is no C++ SDK yet; it will be a thin layer over the same calls).
//
//   auto channel = osb::bench::ConnectOsbd("/tmp/x/osbd.sock", /*own_connection=*/false);
//   osb::bench::OsbdClient osbd(channel);
//   auto id = osbd.Create();
//   auto run = osbd.Run(*id, "echo hi", {});
#pragma once

#include <grpcpp/channel.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/runtime_client.h"

namespace osb::bench {

// A channel to osbd's Unix socket. `own_connection`: a connection of its own, as a separate
// client process would have, instead of one shared with other channels of this process.
std::shared_ptr<grpc::Channel> ConnectOsbd(const std::string& socket_path, bool own_connection);

// Thread-safe (stubs are).
class OsbdClient {
 public:
  explicit OsbdClient(std::shared_ptr<grpc::Channel> channel);
  ~OsbdClient();

  // Sandboxes.Create with the defaults (image "host", readiness wait); returns the id.
  absl::StatusOr<std::string> Create();
  absl::Status Kill(const std::string& id);
  // Sandboxes.Get: one GET /v1/sandboxes/{id} upstream, the unary call the overhead target names.
  absl::Status Get(const std::string& id);
  // Daemon.GetVersion: answered by osbd itself, the floor of a unary call through gRPC.
  absl::Status Version();
  // osbd's upstream connection pool (Daemon.GetStats), summed over the origins it reached.
  struct Upstream {
    uint64_t requests = 0;
    uint64_t connections_opened = 0;  // since osbd started
    uint32_t open_connections = 0;    // now
  };
  absl::StatusOr<Upstream> UpstreamPool();
  // Commands.Run; `on_first_stdout` runs when the first stdout event arrives. Error when the RPC
  // fails, outlives `timeout` (its deadline), or ends without `completed`/`failed`.
  absl::StatusOr<RunResult> Run(const std::string& id, const std::string& command,
                                const std::function<void()>& on_first_stdout,
                                absl::Duration timeout = absl::Minutes(10));

 private:
  struct Stubs;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace osb::bench
