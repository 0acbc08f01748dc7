// Daemon.Shutdown as tests call it: one request on `channel`, with the harness's deadline.
// A test that includes this links osb_proto_daemon.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>

#include "opensandbox/v1/daemon.grpc.pb.h"
#include "tests/integration/harness.h"

namespace osb::test {

inline grpc::Status Shutdown(const std::shared_ptr<grpc::Channel>& channel,
                             const opensandbox::v1::ShutdownRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  opensandbox::v1::ShutdownResponse response;
  return opensandbox::v1::Daemon::NewStub(channel)->Shutdown(&ctx, request, &response);
}

}  // namespace osb::test
