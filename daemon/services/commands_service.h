// Commands: Run journals a command's events as execd sends them (CommandJournal, numbered by
// seq) and streams the journal to the caller. The stream ends OK after the terminal event
// (completed or failed); if the upstream stream breaks before one, the client first receives a
// `broken` event with the command id and what execd's command status says, then UNAVAILABLE:
// osbd never reports a success it did not see. A caller that leaves does not stop the command
// nor its journal: Attach replays the journal from any seq still kept and follows it to the end.
// RunInSession streams a bash session's run the same way, unjournalled; CreateSession and
// DeleteSession are execd's. GetStatus, GetLogs and Interrupt are execd's command status,
// background log and interrupt. RunBatch runs many commands at once (batch_run.h).
#pragma once

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/commands.grpc.pb.h"

namespace osb::daemon {

class CommandsService final : public opensandbox::v1::Commands::CallbackService {
 public:
  explicit CommandsService(DaemonContext& context) : context_(context) {}

  grpc::ServerWriteReactor<opensandbox::v1::CommandEvent>* Run(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::RunCommandRequest* request) override;
  grpc::ServerWriteReactor<opensandbox::v1::BatchJobResult>* RunBatch(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::RunBatchRequest* request) override;
  grpc::ServerWriteReactor<opensandbox::v1::CommandEvent>* Attach(
      grpc::CallbackServerContext* ctx,
      const opensandbox::v1::AttachCommandRequest* request) override;
  grpc::ServerWriteReactor<opensandbox::v1::CommandEvent>* RunInSession(
      grpc::CallbackServerContext* ctx,
      const opensandbox::v1::RunInSessionRequest* request) override;
  grpc::ServerUnaryReactor* CreateSession(grpc::CallbackServerContext* ctx,
                                          const opensandbox::v1::CreateSessionRequest* request,
                                          opensandbox::v1::Session* response) override;
  grpc::ServerUnaryReactor* DeleteSession(grpc::CallbackServerContext* ctx,
                                          const opensandbox::v1::DeleteSessionRequest* request,
                                          opensandbox::v1::DeleteSessionResponse* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const opensandbox::v1::GetCommandStatusRequest* request,
                                      opensandbox::v1::CommandStatus* response) override;
  grpc::ServerUnaryReactor* GetLogs(grpc::CallbackServerContext* ctx,
                                    const opensandbox::v1::GetCommandLogsRequest* request,
                                    opensandbox::v1::CommandLogs* response) override;
  grpc::ServerUnaryReactor* Interrupt(grpc::CallbackServerContext* ctx,
                                      const opensandbox::v1::InterruptCommandRequest* request,
                                      opensandbox::v1::InterruptCommandResponse* response) override;

 private:
  DaemonContext& context_;
};

}  // namespace osb::daemon
