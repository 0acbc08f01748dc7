#include "opensandbox/commands.h"

#include "client/src/daemon_connection.h"
#include "client/src/execution_stream.h"
#include "client/src/proto_convert.h"
#include "opensandbox/async.h"

namespace opensandbox {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

Commands::Commands(std::shared_ptr<DaemonConnection> daemon, std::string sandbox_id)
    : daemon_(std::move(daemon)), sandbox_id_(std::move(sandbox_id)) {}

absl::StatusOr<Execution> Commands::Run(const std::string& command, const RunOptions& options,
                                        const ExecutionHandlers& handlers) {
  if (!daemon_) return internal::HandleClosed();
  v1::RunCommandRequest request;
  *request.mutable_connection() = daemon_->connection();
  request.set_sandbox_id(sandbox_id_);
  request.set_command(command);
  request.set_cwd(options.working_directory.empty() ? default_cwd_ : options.working_directory);
  request.set_background(options.background);
  if (options.timeout.has_value()) {
    *request.mutable_timeout() = internal::DurationToProto(*options.timeout);
  }
  if (options.uid.has_value()) request.set_uid(*options.uid);
  if (options.gid.has_value()) request.set_gid(*options.gid);
  request.mutable_envs()->insert(default_env_.begin(), default_env_.end());
  for (const auto& [name, value] : options.envs) (*request.mutable_envs())[name] = value;
  auto ctx = daemon_->StreamContext();
  auto reader = daemon_->commands().Run(ctx.get(), request);
  return internal::ReadExecution(*reader, handlers);
}

std::future<absl::StatusOr<Execution>> Commands::RunAsync(std::string command,
                                                         RunOptions options,
                                                         ExecutionHandlers handlers) {
  return internal::RunAsync([self = *this, command = std::move(command),
                             options = std::move(options),
                             handlers = std::move(handlers)]() mutable {
    return self.Run(command, options, handlers);
  });
}

absl::StatusOr<Execution> Commands::Attach(const std::string& command_id, std::uint64_t after_seq,
                                           const ExecutionHandlers& handlers) {
  if (!daemon_) return internal::HandleClosed();
  v1::AttachCommandRequest request;
  *request.mutable_connection() = daemon_->connection();
  request.set_sandbox_id(sandbox_id_);
  request.set_command_id(command_id);
  request.set_after_seq(after_seq);
  auto ctx = daemon_->StreamContext();
  auto reader = daemon_->commands().Attach(ctx.get(), request);
  return internal::ReadExecution(*reader, handlers, command_id);
}

absl::Status Commands::Interrupt(const std::string& command_id) {
  if (!daemon_) return internal::HandleClosed();
  v1::InterruptCommandRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_command_id(command_id);
  return daemon_->Call(daemon_->commands(), &v1::Commands::Stub::Interrupt, request).status();
}

absl::StatusOr<CommandStatus> Commands::GetStatus(const std::string& command_id) {
  if (!daemon_) return internal::HandleClosed();
  v1::GetCommandStatusRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_command_id(command_id);
  auto status = daemon_->Call(daemon_->commands(), &v1::Commands::Stub::GetStatus, request);
  if (!status.ok()) return status.status();
  return internal::CommandStatusFromProto(*status);
}

absl::StatusOr<CommandLogs> Commands::GetLogs(const std::string& command_id, std::int64_t cursor) {
  if (!daemon_) return internal::HandleClosed();
  v1::GetCommandLogsRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_command_id(command_id);
  request.set_cursor(cursor);
  auto logs = daemon_->Call(daemon_->commands(), &v1::Commands::Stub::GetLogs, request);
  if (!logs.ok()) return logs.status();
  return CommandLogs{std::move(*logs->mutable_data()), logs->next_cursor(), logs->more()};
}

absl::StatusOr<std::string> Commands::CreateSession(const std::string& working_directory) {
  if (!daemon_) return internal::HandleClosed();
  v1::CreateSessionRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_cwd(working_directory);
  auto session = daemon_->Call(daemon_->commands(), &v1::Commands::Stub::CreateSession, request);
  if (!session.ok()) return session.status();
  return session->session_id();
}

absl::StatusOr<Execution> Commands::RunInSession(const std::string& session_id,
                                                 const std::string& command,
                                                 const SessionRunOptions& options,
                                                 const ExecutionHandlers& handlers) {
  if (!daemon_) return internal::HandleClosed();
  v1::RunInSessionRequest request;
  *request.mutable_connection() = daemon_->connection();
  request.set_sandbox_id(sandbox_id_);
  request.set_session_id(session_id);
  request.set_command(command);
  request.set_cwd(options.working_directory);
  if (options.timeout.has_value()) {
    *request.mutable_timeout() = internal::DurationToProto(*options.timeout);
  }
  auto ctx = daemon_->StreamContext();
  auto reader = daemon_->commands().RunInSession(ctx.get(), request);
  return internal::ReadExecution(*reader, handlers);
}

absl::Status Commands::DeleteSession(const std::string& session_id) {
  if (!daemon_) return internal::HandleClosed();
  v1::DeleteSessionRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_session_id(session_id);
  return daemon_->Call(daemon_->commands(), &v1::Commands::Stub::DeleteSession, request).status();
}

std::future<absl::StatusOr<Execution>> Commands::AttachAsync(std::string command_id,
                                                             std::uint64_t after_seq,
                                                             ExecutionHandlers handlers) {
  return internal::RunAsync([self = *this, command_id = std::move(command_id), after_seq,
                             handlers = std::move(handlers)]() mutable {
    return self.Attach(command_id, after_seq, handlers);
  });
}

std::future<absl::Status> Commands::InterruptAsync(std::string command_id) {
  return internal::RunAsync([self = *this, command_id = std::move(command_id)]() mutable {
    return self.Interrupt(command_id);
  });
}

std::future<absl::StatusOr<CommandStatus>> Commands::GetStatusAsync(std::string command_id) {
  return internal::RunAsync([self = *this, command_id = std::move(command_id)]() mutable {
    return self.GetStatus(command_id);
  });
}

std::future<absl::StatusOr<CommandLogs>> Commands::GetLogsAsync(std::string command_id,
                                                                std::int64_t cursor) {
  return internal::RunAsync([self = *this, command_id = std::move(command_id), cursor]() mutable {
    return self.GetLogs(command_id, cursor);
  });
}

std::future<absl::StatusOr<std::string>> Commands::CreateSessionAsync(
    std::string working_directory) {
  return internal::RunAsync(
      [self = *this, working_directory = std::move(working_directory)]() mutable {
        return self.CreateSession(working_directory);
      });
}

std::future<absl::StatusOr<Execution>> Commands::RunInSessionAsync(std::string session_id,
                                                                   std::string command,
                                                                   SessionRunOptions options,
                                                                   ExecutionHandlers handlers) {
  return internal::RunAsync([self = *this, session_id = std::move(session_id),
                             command = std::move(command), options = std::move(options),
                             handlers = std::move(handlers)]() mutable {
    return self.RunInSession(session_id, command, options, handlers);
  });
}

std::future<absl::Status> Commands::DeleteSessionAsync(std::string session_id) {
  return internal::RunAsync([self = *this, session_id = std::move(session_id)]() mutable {
    return self.DeleteSession(session_id);
  });
}

}  // namespace opensandbox
