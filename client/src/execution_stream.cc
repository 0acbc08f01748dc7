#include "client/src/execution_stream.h"

#include "absl/strings/str_cat.h"
#include "client/src/daemon_connection.h"
#include "client/src/proto_convert.h"

namespace opensandbox::internal {

absl::StatusOr<Execution> ReadExecution(grpc::ClientReaderInterface<v1::CommandEvent>& reader,
                                        const ExecutionHandlers& handlers,
                                        std::string command_id) {
  Execution execution;
  execution.id = std::move(command_id);
  bool ended = false;
  std::string broken_reason;
  v1::CommandEvent event;
  while (reader.Read(&event)) {
    execution.last_seq = event.seq();
    const absl::Time time = TimeFromProto(event.time());
    switch (event.kind_case()) {
      case v1::CommandEvent::kStarted:
        execution.id = event.started().command_id();
        if (handlers.on_init) handlers.on_init(execution.id);
        break;
      case v1::CommandEvent::kStdout:
      case v1::CommandEvent::kStderr: {
        const bool is_error = event.has_stderr();
        AddOutput(execution.logs, handlers, is_error,
                  is_error ? event.stderr().data() : event.stdout().data(), time);
        break;
      }
      case v1::CommandEvent::kCompleted: {
        ended = true;
        execution.exit_code = 0;
        ExecutionComplete complete{DurationFromProto(event.completed().execution_time()), time};
        if (handlers.on_complete) handlers.on_complete(complete);
        break;
      }
      case v1::CommandEvent::kFailed: {
        ended = true;
        const auto& failed = event.failed();
        ExecutionError error{failed.name(), failed.value(), time,
                             {failed.traceback().begin(), failed.traceback().end()}};
        if (failed.has_exit_code()) execution.exit_code = failed.exit_code();
        if (handlers.on_error) handlers.on_error(error);
        execution.error = std::move(error);
        break;
      }
      case v1::CommandEvent::kBroken:
        broken_reason = event.broken().reason();
        break;
      default:
        break;
    }
  }
  grpc::Status status = reader.Finish();
  if (!status.ok()) return DaemonConnection::FromGrpcStatus(status);
  if (!ended) {
    return absl::UnavailableError(absl::StrCat(
        "the output stream of command ", execution.id.empty() ? "(not started)" : execution.id,
        " ended before the command did",
        broken_reason.empty() ? "" : absl::StrCat(": ", broken_reason),
        "; ask GetStatus for its state"));
  }
  return execution;
}

}  // namespace opensandbox::internal
