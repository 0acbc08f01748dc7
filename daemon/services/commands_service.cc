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
#include "daemon/services/execd_call.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/upstream_stream.h"
#include "nlohmann/json.hpp"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;

// Events queued for a slow client before osbd stops reading the upstream stream.
constexpr std::size_t kHighWater = 256;
constexpr std::size_t kLowWater = 64;

// Writes a command's events to the client as they arrive from the loop thread.
class RunReactor final : public UpstreamStream<RunReactor, v1::CommandEvent> {
 public:
  RunReactor(DaemonContext& context, grpc::CallbackServerContext* ctx)
      : UpstreamStream(context, ctx, kHighWater, kLowWater) {}

  // Starts the upstream stream on the sandbox's execd: `start` is ExecdClient::RunCommand or
  // RunInSession with its request bound.
  using StartStream =
      std::function<CurlLoop::TransferId(ExecdClient&, const ExecdEndpoint&, CommandStreamHandler)>;

  void Start(const Origin& origin, const std::string& sandbox_id, StartStream start) {
    origin_ = origin;
    sandbox_id_ = sandbox_id;
    context_.WithExecd(
        origin, sandbox_id,
        [link = link(), start = std::move(start)](absl::StatusOr<ExecdEndpoint> endpoint) {
          absl::MutexLock lock(&link->mu);
          if (link->reactor() == nullptr) return;
          RunReactor& r = *link->reactor();
          if (!endpoint.ok()) return r.End(ToGrpcStatus(endpoint.status()));
          r.StartStreamLocked(*endpoint, start);
        });
  }

 private:
  // Called with link()->mu held.
  void StartStreamLocked(const ExecdEndpoint& endpoint, const StartStream& start) {
    CommandStreamHandler handler;
    handler.on_event = [link = link()](rest::ServerStreamEvent event) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() == nullptr) return DataAction::kContinue;
      return link->reactor()->OnEvent(std::move(event));
    };
    handler.on_end = [link = link()](absl::Status status) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() != nullptr) link->reactor()->OnStreamEnd(std::move(status));
    };
    absl::MutexLock lock(&mu_);
    SetTransferLocked(start(context_.execd(), endpoint, std::move(handler)));
  }

  DataAction OnEvent(rest::ServerStreamEvent event) {
    absl::MutexLock lock(&mu_);
    if (event.type == rest::kEventInit) command_id_ = event.text;
    if (event.type == rest::kEventExecutionComplete || event.type == rest::kEventError) {
      terminal_seen_ = true;
    }
    std::optional<v1::CommandEvent> out = ToProto(event, next_seq_);
    if (!out.has_value()) return DataAction::kContinue;
    ++next_seq_;
    return QueueLocked(*std::move(out));
  }

  void OnStreamEnd(absl::Status status) {
    absl::MutexLock lock(&mu_);
    TransferEndedLocked();
    // The endpoint may be stale (sandbox gone or moved): ask the lifecycle API next time.
    if (command_id_.empty()) context_.endpoints().Drop(origin_, sandbox_id_);
    if (terminal_seen_) return FinishAfterQueueLocked(grpc::Status::OK);
    if (command_id_.empty()) {
      // Refused before it started: nothing ran, the error says why.
      return FinishAfterQueueLocked(ToGrpcStatus(
          status.ok() ? absl::UnavailableError("execd ended the stream before any event")
                      : status));
    }
    std::string reason =
        status.ok() ? "the stream ended without a terminal event" : std::string(status.message());
    v1::CommandEvent broken;
    broken.set_seq(next_seq_++);
    broken.mutable_broken()->set_command_id(command_id_);
    broken.mutable_broken()->set_reason(reason);
    (void)QueueLocked(std::move(broken));
    FinishAfterQueueLocked(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("the stream of command ", command_id_, " broke before it finished: ", reason,
                     "; its outcome is unknown")));
  }

  Origin origin_;
  std::string sandbox_id_;
  bool terminal_seen_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::string command_id_ ABSL_GUARDED_BY(mu_);
};

// Run and RunInSession: validates `request`, then streams what `start` (an ExecdClient call
// taking the converted request) brings back.
template <typename Request, typename Start>
grpc::ServerWriteReactor<v1::CommandEvent>* StartRun(DaemonContext& context,
                                                     grpc::CallbackServerContext* ctx,
                                                     const Request& request, Start start) {
  auto* reactor = new RunReactor(context, ctx);
  auto origin = context.ResolveForSandbox(request.connection(), request.sandbox_id());
  auto rest_request = ToRest(request);
  if (!origin.ok() || !rest_request.ok()) {
    reactor->Finish(ToGrpcStatus(!origin.ok() ? origin.status() : rest_request.status()));
    return reactor;
  }
  reactor->Start(
      *origin, request.sandbox_id(),
      [start = std::move(start), converted = *std::move(rest_request)](
          ExecdClient& execd, const ExecdEndpoint& endpoint, CommandStreamHandler handler) {
        return start(execd, endpoint, converted, std::move(handler));
      });
  return reactor;
}

}  // namespace

grpc::ServerWriteReactor<v1::CommandEvent>* CommandsService::Run(
    grpc::CallbackServerContext* ctx, const v1::RunCommandRequest* request) {
  return StartRun(context_, ctx, *request,
                  [](ExecdClient& execd, const ExecdEndpoint& endpoint,
                     const rest::RunCommandRequest& run, CommandStreamHandler handler) {
                    return execd.RunCommand(endpoint, run, std::move(handler));
                  });
}

grpc::ServerWriteReactor<v1::CommandEvent>* CommandsService::RunInSession(
    grpc::CallbackServerContext* ctx, const v1::RunInSessionRequest* request) {
  return StartRun(context_, ctx, *request,
                  [session = request->session_id()](
                      ExecdClient& execd, const ExecdEndpoint& endpoint,
                      const rest::SessionRunRequest& run, CommandStreamHandler handler) {
                    return execd.RunInSession(endpoint, session, run, std::move(handler));
                  });
}

grpc::ServerUnaryReactor* CommandsService::CreateSession(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateSessionRequest* request,
                                                         v1::Session* response) {
  auto* reactor = ctx->DefaultReactor();
  rest::CreateSessionRequest create;
  if (!request->cwd().empty()) create.cwd = request->cwd();
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, body = rest::ToJson(create).dump()](
                       const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(
                         endpoint, "POST", "/session", body,
                         FinishFromExecd(reactor, [response](const HttpResult& r) -> absl::Status {
                           auto j = nlohmann::json::parse(r.body, nullptr, false);
                           auto id = j.is_object() ? j.find("session_id") : j.end();
                           if (id == j.end() || !id->is_string() || id->empty()) {
                             return absl::DataLossError("execd answered /session without an id");
                           }
                           response->set_session_id(id->get<std::string>());
                           return absl::OkStatus();
                         }));
                   });
  return reactor;
}

grpc::ServerUnaryReactor* CommandsService::DeleteSession(grpc::CallbackServerContext* ctx,
                                                         const v1::DeleteSessionRequest* request,
                                                         v1::DeleteSessionResponse*) {
  auto* reactor = ctx->DefaultReactor();
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
                   });
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
  auto* reactor = ctx->DefaultReactor();
  if (!CheckCommandId(reactor, request->command_id())) return reactor;
  std::string target = "/command/status/" + rest::UrlEncode(request->command_id());
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, target](const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(
                         endpoint, "GET", target, "",
                         FinishFromExecd(reactor, [response](const HttpResult& r) -> absl::Status {
                           auto j = nlohmann::json::parse(r.body, nullptr, false);
                           auto status = rest::ParseCommandStatus(j);
                           if (!status.ok()) return status.status();
                           *response = ToProto(*status);
                           return absl::OkStatus();
                         }));
                   });
  return reactor;
}

grpc::ServerUnaryReactor* CommandsService::GetLogs(grpc::CallbackServerContext* ctx,
                                                   const v1::GetCommandLogsRequest* request,
                                                   v1::CommandLogs* response) {
  auto* reactor = ctx->DefaultReactor();
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
                   });
  return reactor;
}

grpc::ServerUnaryReactor* CommandsService::Interrupt(grpc::CallbackServerContext* ctx,
                                                     const v1::InterruptCommandRequest* request,
                                                     v1::InterruptCommandResponse*) {
  auto* reactor = ctx->DefaultReactor();
  if (!CheckCommandId(reactor, request->command_id())) return reactor;
  std::string target = "/command?id=" + rest::UrlEncode(request->command_id());
  std::string status_target = "/command/status/" + rest::UrlEncode(request->command_id());
  WithSandboxExecd(
      context_, reactor, request->connection(), request->sandbox_id(),
      [this, reactor, target, status_target](const Origin&, const ExecdEndpoint& endpoint) {
        context_.execd().Call(
            endpoint, "DELETE", target, "",
            [this, reactor, endpoint, status_target](absl::StatusOr<HttpResult> interrupted) {
              if (interrupted.ok() || !absl::IsInternal(interrupted.status())) {
                return reactor->Finish(ToGrpcStatus(interrupted.status()));
              }
              // execd answers 500 both for an unknown command and for one that has ended; its
              // status tells which, so the caller gets NOT_FOUND or FAILED_PRECONDITION.
              context_.execd().Call(
                  endpoint, "GET", status_target, "",
                  [reactor, failure = interrupted.status()](absl::StatusOr<HttpResult> status) {
                    if (absl::IsNotFound(status.status())) {
                      return reactor->Finish(ToGrpcStatus(status.status()));
                    }
                    if (status.ok()) {
                      auto parsed = rest::ParseCommandStatus(
                          nlohmann::json::parse(status->body, nullptr, false));
                      if (parsed.ok() && !parsed->running) {
                        return reactor->Finish(grpc::Status(
                            grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrCat("command ", parsed->id, " is not running (",
                                         parsed->error.empty() ? "exit status 0" : parsed->error,
                                         ")")));
                      }
                    }
                    reactor->Finish(ToGrpcStatus(failure));
                  });
            });
      });
  return reactor;
}

}  // namespace osb::daemon
