#include "daemon/services/commands_service.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "daemon/convert.h"
#include "daemon/services/batch_run.h"
#include "daemon/services/execd_call.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/unary_call.h"
#include "daemon/services/journal_stream.h"
#include "daemon/command_journal.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "rest/error.h"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

// Starts the upstream stream of a run on the sandbox's execd: ExecdClient::RunCommand or
// RunInSession with its request bound.
using StartStream =
    std::function<CurlLoop::TransferId(ExecdClient&, const ExecdEndpoint&, CommandStreamHandler)>;

// Feeds a journal from one upstream command stream and settles how the journal ends: OK after a
// terminal event; the refusal when execd ended the stream before the command started; otherwise
// a `broken` event carrying what execd's command status says, then UNAVAILABLE. Every callback
// after Start runs on the loop thread, one at a time.
class RunFeed : public std::enable_shared_from_this<RunFeed> {
 public:
  RunFeed(DaemonContext& context, Origin origin, std::string sandbox_id,
          std::shared_ptr<CommandJournal> journal, bool attachable)
      : context_(context),
        origin_(std::move(origin)),
        sandbox_id_(std::move(sandbox_id)),
        journal_(std::move(journal)),
        attachable_(attachable) {}

  void Start(StartStream start) {
    context_.WithExecd(origin_, sandbox_id_,
                       [self = shared_from_this(), start = std::move(start)](
                           absl::StatusOr<ExecdEndpoint> endpoint) {
                         if (!endpoint.ok()) {
                           return self->journal_->End(ToGrpcStatus(endpoint.status()));
                         }
                         self->endpoint_ = *endpoint;
                         CommandStreamHandler handler;
                         handler.on_event = [self](rest::ServerStreamEvent event) {
                           return self->OnEvent(std::move(event));
                         };
                         handler.on_end = [self](absl::Status status) {
                           self->OnEnd(std::move(status));
                         };
                         self->journal_->SetTransfer(
                             start(self->context_.execd(), *endpoint, std::move(handler)));
                       });
  }

 private:
  DataAction OnEvent(rest::ServerStreamEvent event) {
    if (event.type == rest::kEventInit && command_id_.empty()) {
      command_id_ = event.text;
      if (attachable_) context_.journals().Add(sandbox_id_, command_id_, journal_);
    }
    if (event.type == rest::kEventExecutionComplete || event.type == rest::kEventError) {
      terminal_seen_ = true;
    }
    std::optional<v1::CommandEvent> out = ToProto(event, 0);
    if (!out.has_value()) return DataAction::kContinue;
    return journal_->Append(*std::move(out));
  }

  void OnEnd(absl::Status status) {
    journal_->TransferEnded();
    if (terminal_seen_) return journal_->End(grpc::Status::OK);
    if (command_id_.empty()) {
      // Refused before it started: nothing ran, the error says why (an endpoint found gone is
      // forgotten by ExecdClient).
      return journal_->End(ToGrpcStatus(
          status.ok() ? absl::UnavailableError("execd ended the stream before any event")
                      : status));
    }
    std::string reason =
        status.ok() ? "the stream ended without a terminal event" : std::string(status.message());
    if (!attachable_) return Broken(std::move(reason), std::nullopt);
    // Never a success osbd did not see: ask execd what became of the command.
    context_.execd().GetCommandStatus(
        endpoint_, command_id_,
        [self = shared_from_this(), reason](absl::StatusOr<rest::CommandStatus> learned) {
          self->Broken(reason, learned.ok() ? std::optional(*std::move(learned)) : std::nullopt);
        });
  }

  void Broken(const std::string& reason, std::optional<rest::CommandStatus> status) {
    v1::CommandEvent broken;
    *broken.mutable_time() = TimeUtil::GetCurrentTime();
    broken.mutable_broken()->set_command_id(command_id_);
    broken.mutable_broken()->set_reason(reason);
    std::string outcome = "its outcome is unknown";
    if (status.has_value()) {
      *broken.mutable_broken()->mutable_status() = ToProto(*status);
      outcome = status->running ? "execd says it is still running"
                                : absl::StrCat("execd says it ended with exit code ",
                                               status->exit_code.value_or(-1));
    }
    (void)journal_->Append(std::move(broken));
    journal_->End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               absl::StrCat("the stream of command ", command_id_,
                                            " broke before it finished: ", reason, "; ", outcome)));
  }

  DaemonContext& context_;
  const Origin origin_;
  const std::string sandbox_id_;
  const std::shared_ptr<CommandJournal> journal_;
  const bool attachable_;
  ExecdEndpoint endpoint_;
  std::string command_id_;
  bool terminal_seen_ = false;
};

// Run and RunInSession: validates `request`, then journals what `start` (an ExecdClient call
// taking the converted request) brings back and streams the journal to the caller. A Run is
// attachable; a session run is not, and its stream is cancelled when its caller leaves.
template <typename Request, typename Start>
grpc::ServerWriteReactor<v1::CommandEvent>* StartRun(DaemonContext& context,
                                                     const Request& request, bool attachable,
                                                     Start start) {
  auto* stream = new JournalStream();
  auto origin = context.ResolveForSandbox(request.connection(), request.sandbox_id());
  auto rest_request = ToRest(request);
  if (!origin.ok() || !rest_request.ok()) {
    stream->Fail(ToGrpcStatus(!origin.ok() ? origin.status() : rest_request.status()));
    return stream;
  }
  auto journal = std::make_shared<CommandJournal>(context.loop());
  if (!attachable) journal->CancelWhenUnread();
  stream->Follow(journal, 0);
  auto feed =
      std::make_shared<RunFeed>(context, *origin, request.sandbox_id(), journal, attachable);
  feed->Start([start = std::move(start), converted = *std::move(rest_request)](
                  ExecdClient& execd, const ExecdEndpoint& endpoint, CommandStreamHandler handler) {
    return start(execd, endpoint, converted, std::move(handler));
  });
  return stream;
}

}  // namespace

grpc::ServerWriteReactor<v1::CommandEvent>* CommandsService::Run(
    grpc::CallbackServerContext*, const v1::RunCommandRequest* request) {
  return StartRun(context_, *request, /*attachable=*/true,
                  [](ExecdClient& execd, const ExecdEndpoint& endpoint,
                     const rest::RunCommandRequest& run, CommandStreamHandler handler) {
                    return execd.RunCommand(endpoint, run, std::move(handler));
                  });
}

grpc::ServerWriteReactor<v1::BatchJobResult>* CommandsService::RunBatch(
    grpc::CallbackServerContext* ctx, const v1::RunBatchRequest* request) {
  return StartBatch(context_, ctx, *request);
}

grpc::ServerWriteReactor<v1::CommandEvent>* CommandsService::Attach(
    grpc::CallbackServerContext*, const v1::AttachCommandRequest* request) {
  auto* stream = new JournalStream();
  if (request->sandbox_id().empty() || request->command_id().empty()) {
    stream->Fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "sandbox_id and command_id are required"));
    return stream;
  }
  auto journal = context_.journals().Find(request->sandbox_id(), request->command_id());
  if (journal == nullptr) {
    stream->Fail(grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("osbd holds no journal of command ", request->command_id(), " in sandbox ",
                     request->sandbox_id(),
                     ": it was not run through this osbd, or it ended too long ago")));
    return stream;
  }
  if (const uint64_t first = journal->first_seq(); request->after_seq() + 1 < first) {
    stream->Fail(OsbdStatus(
        grpc::StatusCode::OUT_OF_RANGE, "OSBD::JOURNAL_EVENTS_DROPPED",
        absl::StrCat("events ", request->after_seq() + 1, " to ", first - 1, " of command ",
                     request->command_id(),
                     " were dropped from the bounded journal; attach with after_seq ", first - 1,
                     " to accept the gap"),
        {{"first_seq", absl::StrCat(first)}, {"command_id", request->command_id()}}));
    return stream;
  }
  stream->Follow(std::move(journal), request->after_seq());
  return stream;
}

grpc::ServerWriteReactor<v1::CommandEvent>* CommandsService::RunInSession(
    grpc::CallbackServerContext*, const v1::RunInSessionRequest* request) {
  return StartRun(context_, *request, /*attachable=*/false,
                  [session = request->session_id()](
                      ExecdClient& execd, const ExecdEndpoint& endpoint,
                      const rest::SessionRunRequest& run, CommandStreamHandler handler) {
                    return execd.RunInSession(endpoint, session, run, std::move(handler));
                  });
}

grpc::ServerUnaryReactor* CommandsService::CreateSession(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateSessionRequest* request,
                                                         v1::Session* response) {
  auto* reactor = new UnaryCall;
  rest::CreateSessionRequest create;
  if (!request->cwd().empty()) create.cwd = request->cwd();
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, body = rest::ToJson(create).dump()](
                       const Origin&, const ExecdEndpoint& endpoint) {
                     // Detached: a cancelled call must not leave a session no one knows of.
                     context_.execd().Call(
                         endpoint.Detached(), "POST", "/session", body,
                         FinishFromExecd(reactor, [response](const HttpResult& r) -> absl::Status {
                           auto j = nlohmann::json::parse(r.body, nullptr, false);
                           auto id = j.is_object() ? j.find("session_id") : j.end();
                           if (id == j.end() || !id->is_string() || id->empty()) {
                             return absl::DataLossError("execd answered /session without an id");
                           }
                           response->set_session_id(id->get<std::string>());
                           return absl::OkStatus();
                         }));
                   }, ctx);
  return reactor;
}

grpc::ServerUnaryReactor* CommandsService::DeleteSession(grpc::CallbackServerContext* ctx,
                                                         const v1::DeleteSessionRequest* request,
                                                         v1::DeleteSessionResponse*) {
  auto* reactor = new UnaryCall;
  if (request->session_id().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "session_id is required"));
    return reactor;
  }
  std::string target = "/session/" + rest::UrlEncode(request->session_id());
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, target](const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(endpoint, "DELETE", target, "",
                                           FinishFromExecd(reactor, [](const HttpResult&) {
                                             return absl::OkStatus();
                                           }));
                   }, ctx);
  return reactor;
}

namespace {

// Validates the command id common to GetStatus, GetLogs and Interrupt; finishes when it is bad.
bool CheckCommandId(grpc::ServerUnaryReactor* reactor, const std::string& id) {
  if (!id.empty()) return true;
  reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "command_id is required"));
  return false;
}

// GetLogs' default and largest reply: well under gRPC's 4 MiB message limit.
constexpr int64_t kDefaultLogBytes = 1 << 20;
constexpr int64_t kMaxLogBytes = 3 << 20;

}  // namespace

grpc::ServerUnaryReactor* CommandsService::GetStatus(grpc::CallbackServerContext* ctx,
                                                     const v1::GetCommandStatusRequest* request,
                                                     v1::CommandStatus* response) {
  auto* reactor = new UnaryCall;
  if (!CheckCommandId(reactor, request->command_id())) return reactor;
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, id = request->command_id()](
                       const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().GetCommandStatus(
                         endpoint, id, [reactor, response](absl::StatusOr<rest::CommandStatus> s) {
                           if (s.ok()) *response = ToProto(*s);
                           reactor->Finish(ToGrpcStatus(s.status()));
                         });
                   }, ctx);
  return reactor;
}

grpc::ServerUnaryReactor* CommandsService::GetLogs(grpc::CallbackServerContext* ctx,
                                                   const v1::GetCommandLogsRequest* request,
                                                   v1::CommandLogs* response) {
  auto* reactor = new UnaryCall;
  if (!CheckCommandId(reactor, request->command_id())) return reactor;
  if (request->cursor() < 0 || request->limit_bytes() < 0) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "cursor and limit_bytes must not be negative"));
    return reactor;
  }
  const int64_t limit = request->limit_bytes() == 0
                            ? kDefaultLogBytes
                            : std::min(request->limit_bytes(), kMaxLogBytes);
  const int64_t cursor = request->cursor();
  std::string target =
      absl::StrCat("/command/", rest::UrlEncode(request->command_id()), "/logs?cursor=", cursor);
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, target, limit, cursor](const Origin&,
                                                                    const ExecdEndpoint& endpoint) {
                     context_.execd().Call(
                         endpoint, "GET", target, "",
                         FinishFromExecd(reactor, [response, limit, cursor](const HttpResult& r) {
                           int64_t tail = 0;
                           if (!absl::SimpleAtoi(r.header("execd-commands-tail-cursor"), &tail)) {
                             return absl::DataLossError("execd sent no EXECD-COMMANDS-TAIL-CURSOR");
                           }
                           if (static_cast<int64_t>(r.body.size()) > limit) {
                             response->set_data(r.body.substr(0, static_cast<std::size_t>(limit)));
                             response->set_next_cursor(cursor + limit);
                             response->set_more(true);
                           } else {
                             response->set_data(r.body);
                             response->set_next_cursor(tail);
                           }
                           return absl::OkStatus();
                         }));
                   }, ctx);
  return reactor;
}

grpc::ServerUnaryReactor* CommandsService::Interrupt(grpc::CallbackServerContext* ctx,
                                                     const v1::InterruptCommandRequest* request,
                                                     v1::InterruptCommandResponse*) {
  auto* reactor = new UnaryCall;
  if (!CheckCommandId(reactor, request->command_id())) return reactor;
  std::string target = "/command?id=" + rest::UrlEncode(request->command_id());
  WithSandboxExecd(
      context_, reactor, request->connection(), request->sandbox_id(),
      [this, reactor, target, id = request->command_id()](const Origin&,
                                                          const ExecdEndpoint& endpoint) {
        context_.execd().Call(
            endpoint, "DELETE", target, "",
            [this, reactor, endpoint, id](absl::StatusOr<HttpResult> interrupted) {
              if (interrupted.ok() || rest::HttpStatusOf(interrupted.status()) != 500) {
                return reactor->Finish(ToGrpcStatus(interrupted.status()));
              }
              // execd answers 500 both for an unknown command and for one that has ended; its
              // status tells which, so the caller gets NOT_FOUND or FAILED_PRECONDITION.
              context_.execd().GetCommandStatus(
                  endpoint, id,
                  [reactor, failure = interrupted.status()](
                      absl::StatusOr<rest::CommandStatus> status) {
                    if (absl::IsNotFound(status.status())) {
                      return reactor->Finish(ToGrpcStatus(status.status()));
                    }
                    if (status.ok() && !status->running) {
                      return reactor->Finish(grpc::Status(
                          grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("command ", status->id, " is not running (",
                                       status->error.empty() ? "exit status 0" : status->error,
                                       ")")));
                    }
                    reactor->Finish(ToGrpcStatus(failure));
                  });
            });
      }, ctx);
  return reactor;
}

}  // namespace osb::daemon
