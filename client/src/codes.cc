#include "opensandbox/codes.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/src/daemon_connection.h"
#include "client/src/execution_stream.h"
#include "client/src/proto_convert.h"
#include "opensandbox/async.h"
#include "opensandbox/v1/code.grpc.pb.h"

namespace opensandbox {
namespace {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

CodeContext FromProto(const v1::CodeContext& c) {
  return {.id = c.id(), .language = c.language(), .working_directory = c.cwd()};
}

// Reads a cell's stream to its end; an error unless a terminal event arrived.
absl::StatusOr<CodeExecution> ReadCell(grpc::ClientReaderInterface<v1::CodeEvent>& reader,
                                       const ExecutionHandlers& handlers) {
  CodeExecution cell;
  bool ended = false;
  std::string broken_reason;
  v1::CodeEvent event;
  while (reader.Read(&event)) {
    const absl::Time time = internal::TimeFromProto(event.time());
    switch (event.kind_case()) {
      case v1::CodeEvent::kStarted:
        cell.context_id = event.started().context_id();
        if (handlers.on_init) handlers.on_init(cell.context_id);
        break;
      case v1::CodeEvent::kStdout:
      case v1::CodeEvent::kStderr: {
        const bool is_error = event.has_stderr();
        internal::AddOutput(cell.logs, handlers, is_error,
                            is_error ? event.stderr().data() : event.stdout().data(), time);
        break;
      }
      case v1::CodeEvent::kResult: {
        CodeResult result{.data = {event.result().data().begin(), event.result().data().end()},
                          .timestamp = time};
        if (auto text = result.data.find("text"); text != result.data.end()) {
          result.text = text->second;
          result.data.erase(text);
          result.data["text/plain"] = result.text;
        }
        if (handlers.on_result) handlers.on_result(result);
        cell.results.push_back(std::move(result));
        break;
      }
      case v1::CodeEvent::kExecutionCount:
        cell.execution_count = event.execution_count();
        break;
      case v1::CodeEvent::kCompleted: {
        ended = true;
        ExecutionComplete complete{internal::DurationFromProto(event.completed().execution_time()),
                                   time};
        if (handlers.on_complete) handlers.on_complete(complete);
        cell.complete = complete;
        break;
      }
      case v1::CodeEvent::kError: {
        ended = true;
        const auto& e = event.error();
        ExecutionError error{e.name(), e.value(), time,
                             {e.traceback().begin(), e.traceback().end()}};
        if (handlers.on_error) handlers.on_error(error);
        cell.error = std::move(error);
        break;
      }
      case v1::CodeEvent::kBroken:
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
        "the output stream of the cell in context ",
        cell.context_id.empty() ? "(not started)" : cell.context_id, " ended before the cell did",
        broken_reason.empty() ? "" : absl::StrCat(": ", broken_reason)));
  }
  return cell;
}

}  // namespace

Codes::Codes(std::shared_ptr<DaemonConnection> daemon, std::string sandbox_id)
    : daemon_(std::move(daemon)), sandbox_id_(std::move(sandbox_id)) {}

absl::StatusOr<CodeContext> Codes::CreateContext(const std::string& language,
                                                 const std::string& working_directory) {
  if (!daemon_) return internal::HandleClosed();
  v1::CreateCodeContextRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_language(language);
  request.set_cwd(working_directory);
  auto context = daemon_->Call(daemon_->code(), &v1::Code::Stub::CreateContext, request);
  if (!context.ok()) return context.status();
  return FromProto(*context);
}

absl::StatusOr<std::vector<CodeContext>> Codes::ListContexts(const std::string& language) {
  if (!daemon_) return internal::HandleClosed();
  v1::ListCodeContextsRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_language(language);
  auto list = daemon_->Call(daemon_->code(), &v1::Code::Stub::ListContexts, request);
  if (!list.ok()) return list.status();
  std::vector<CodeContext> out;
  for (const auto& c : list->contexts()) out.push_back(FromProto(c));
  return out;
}

absl::StatusOr<CodeContext> Codes::GetContext(const std::string& context_id) {
  if (!daemon_) return internal::HandleClosed();
  v1::GetCodeContextRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_context_id(context_id);
  auto context = daemon_->Call(daemon_->code(), &v1::Code::Stub::GetContext, request);
  if (!context.ok()) return context.status();
  return FromProto(*context);
}

absl::Status Codes::DeleteContext(const std::string& context_id) {
  if (!daemon_) return internal::HandleClosed();
  v1::DeleteCodeContextRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_context_id(context_id);
  return daemon_->Call(daemon_->code(), &v1::Code::Stub::DeleteContext, request).status();
}

absl::Status Codes::DeleteContexts(const std::string& language) {
  if (!daemon_) return internal::HandleClosed();
  v1::DeleteCodeContextsRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_language(language);
  return daemon_->Call(daemon_->code(), &v1::Code::Stub::DeleteContexts, request).status();
}

absl::StatusOr<CodeExecution> Codes::Run(const std::string& code, const RunCodeOptions& options,
                                         const ExecutionHandlers& handlers) {
  if (!daemon_) return internal::HandleClosed();
  v1::RunCodeRequest request;
  *request.mutable_connection() = daemon_->connection();
  request.set_sandbox_id(sandbox_id_);
  request.set_code(code);
  request.set_context_id(options.context_id);
  request.set_language(options.language);
  auto ctx = daemon_->StreamContext();
  auto reader = daemon_->code().Run(ctx.get(), request);
  return ReadCell(*reader, handlers);
}

std::future<absl::StatusOr<CodeExecution>> Codes::RunAsync(std::string code,
                                                           RunCodeOptions options,
                                                           ExecutionHandlers handlers) {
  return internal::RunAsync([self = *this, code = std::move(code), options = std::move(options),
                             handlers = std::move(handlers)]() mutable {
    return self.Run(code, options, handlers);
  });
}

absl::Status Codes::Interrupt(const std::string& context_id) {
  if (!daemon_) return internal::HandleClosed();
  v1::InterruptCodeRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_context_id(context_id);
  return daemon_->Call(daemon_->code(), &v1::Code::Stub::Interrupt, request).status();
}

std::future<absl::StatusOr<CodeContext>> Codes::CreateContextAsync(std::string language,
                                                                   std::string working_directory) {
  return internal::RunAsync([self = *this, language = std::move(language),
                             working_directory = std::move(working_directory)]() mutable {
    return self.CreateContext(language, working_directory);
  });
}

std::future<absl::StatusOr<std::vector<CodeContext>>> Codes::ListContextsAsync(
    std::string language) {
  return internal::RunAsync([self = *this, language = std::move(language)]() mutable {
    return self.ListContexts(language);
  });
}

std::future<absl::Status> Codes::DeleteContextAsync(std::string context_id) {
  return internal::RunAsync([self = *this, context_id = std::move(context_id)]() mutable {
    return self.DeleteContext(context_id);
  });
}

std::future<absl::Status> Codes::InterruptAsync(std::string context_id) {
  return internal::RunAsync([self = *this, context_id = std::move(context_id)]() mutable {
    return self.Interrupt(context_id);
  });
}

}  // namespace opensandbox
