// Code: execd's code interpreter (COMPAT.md §2.2–2.4, 2.8). Contexts are created, listed, read
// and deleted on the sandbox's execd; Run streams a cell's events as they arrive, with the same
// backpressure as Files.Read (the upstream transfer pauses while the client is behind), and
// ends OK after the terminal event (`completed` or `error`). If the upstream stream breaks
// before one, the client receives a `broken` event with the context id, then UNAVAILABLE: osbd
// never reports a success it did not see. A caller that leaves cancels the upstream stream (the
// agent then interrupts the cell). Interrupt is execd's DELETE /code.
#pragma once

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/code.grpc.pb.h"

namespace osb::daemon {

class CodeService final : public opensandbox::v1::Code::CallbackService {
 public:
  explicit CodeService(DaemonContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* CreateContext(grpc::CallbackServerContext* ctx,
                                          const opensandbox::v1::CreateCodeContextRequest* request,
                                          opensandbox::v1::CodeContext* response) override;
  grpc::ServerUnaryReactor* ListContexts(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::ListCodeContextsRequest* request,
      opensandbox::v1::ListCodeContextsResponse* response) override;
  grpc::ServerUnaryReactor* GetContext(grpc::CallbackServerContext* ctx,
                                       const opensandbox::v1::GetCodeContextRequest* request,
                                       opensandbox::v1::CodeContext* response) override;
  grpc::ServerUnaryReactor* DeleteContext(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::DeleteCodeContextRequest* request,
      opensandbox::v1::DeleteCodeContextResponse* response) override;
  grpc::ServerUnaryReactor* DeleteContexts(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::DeleteCodeContextsRequest* request,
      opensandbox::v1::DeleteCodeContextsResponse* response) override;
  grpc::ServerWriteReactor<opensandbox::v1::CodeEvent>* Run(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::RunCodeRequest* request) override;
  grpc::ServerUnaryReactor* Interrupt(grpc::CallbackServerContext* ctx,
                                      const opensandbox::v1::InterruptCodeRequest* request,
                                      opensandbox::v1::InterruptCodeResponse* response) override;

 private:
  DaemonContext& context_;
};

}  // namespace osb::daemon
