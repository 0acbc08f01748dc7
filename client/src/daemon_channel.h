// The way to osbd for the SDK and osbctl: a channel to the daemon's Unix socket, starting osbd
// (detached, with the caller's environment) when nothing answers there and the caller names an
// osbd binary.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace opensandbox::internal {

// Connects to a daemon already serving on `socket_path`; Unavailable when none answers within
// `wait`.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectToDaemon(const std::string& socket_path,
                                                               absl::Duration wait);

// Connects to `socket_path`; if no daemon answers, runs `osbd_binary --socket socket_path` in a
// new session (its log at <socket dir>/osbd.log) and waits up to `start_timeout` for it.
// Unavailable, with the log's tail, when it does not come up.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectOrStartDaemon(
    const std::string& socket_path, const std::string& osbd_binary,
    absl::Duration start_timeout = absl::Seconds(30));

}  // namespace opensandbox::internal
