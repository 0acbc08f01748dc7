#include "daemon/services/code_service.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/services/execd_call.h"
#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/unary_call.h"
#include "daemon/services/upstream_stream.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "rest/execd_code.h"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

// Events queued for a slow client before the upstream transfer pauses, and the level at which
// it resumes.
constexpr std::size_t kHighWater = 256;
constexpr std::size_t kLowWater = 64;

// A JSON answer of execd parsed by `parse` into `out`.
template <typename T, typename Parse>
absl::Status ParseAnswer(const HttpResult& r, Parse parse, T* out) {
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  auto parsed = parse(j);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("execd's answer is not what the API says: ",
                                            parsed.status().message()));
  }
  *out = *std::move(parsed);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<rest::CodeContext>> ParseContextList(const nlohmann::json& j) {
  if (!j.is_array()) return absl::InvalidArgumentError("a context list must be a JSON array");
  std::vector<rest::CodeContext> out;
  for (const auto& item : j) {
    auto c = rest::ParseCodeContext(item);
    if (!c.ok()) return c.status();
    out.push_back(*std::move(c));
  }
  return out;
}

// Finishes `reactor` with INVALID_ARGUMENT and returns false when `value` is empty.
bool Require(grpc::ServerUnaryReactor* reactor, const std::string& value, const char* name) {
  absl::Status required = RequiredField(value, name);
  if (!required.ok()) reactor->Finish(ToGrpcStatus(required));
  return required.ok();
}

// Run: one cell's events from execd's POST /code stream.
class RunReactor final : public UpstreamStream<RunReactor, v1::CodeEvent> {
 public:
  RunReactor(DaemonContext& context, grpc::CallbackServerContext* ctx)
      : UpstreamStream(context, ctx, kHighWater, kLowWater) {}

  void Start(const v1::RunCodeRequest& request) {
    if (request.code().empty()) {
      return End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "code is required"));
    }
    auto origin = context_.ResolveForSandbox(request.connection(), request.sandbox_id());
    if (!origin.ok()) return End(ToGrpcStatus(origin.status()));
    rest::RunCodeRequest run;
    run.code = request.code();
    if (!request.context_id().empty()) run.context_id = request.context_id();
    if (!request.language().empty()) run.language = request.language();
    DaemonContext& context = context_;
    context_.WithExecd(
        *origin, request.sandbox_id(),
        [link = link(), &context, run = std::move(run)](auto endpoint) {
          if (!endpoint.ok()) {
            absl::MutexLock lock(&link->mu);
            if (link->reactor() != nullptr) link->reactor()->End(ToGrpcStatus(endpoint.status()));
            return;
          }
          context.execd().CompleteCodeRun(
              *endpoint, run,
              [link, endpoint = *endpoint](absl::StatusOr<rest::RunCodeRequest> completed) {
                absl::MutexLock lock(&link->mu);
                if (link->reactor() == nullptr) return;
                if (!completed.ok()) {
                  return link->reactor()->End(ToGrpcStatus(completed.status()));
                }
                link->reactor()->StartRun(endpoint, *completed);
              });
        });
  }

 private:
  // Called with link()->mu held.
  void StartRun(const ExecdEndpoint& endpoint, const rest::RunCodeRequest& run) {
    CommandStreamHandler handler;
    handler.on_event = [link = link()](rest::ServerStreamEvent event) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() == nullptr) return DataAction::kAbort;
      return link->reactor()->OnEvent(std::move(event));
    };
    handler.on_end = [link = link()](absl::Status status) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() != nullptr) link->reactor()->OnEnd(std::move(status));
    };
    absl::MutexLock lock(&mu_);
    SetTransferLocked(context_.execd().RunCode(endpoint, run, std::move(handler)));
  }

  DataAction OnEvent(rest::ServerStreamEvent event) {
    absl::MutexLock lock(&mu_);
    if (event.type == rest::kEventInit && context_id_.empty()) context_id_ = event.text;
    if (event.type == rest::kEventExecutionComplete || event.type == rest::kEventError) {
      terminal_seen_ = true;
    }
    std::optional<v1::CodeEvent> out = ToCodeEvent(event);
    if (!out.has_value()) return DataAction::kContinue;
    return QueueLocked(*std::move(out));
  }

  void OnEnd(absl::Status status) {
    absl::MutexLock lock(&mu_);
    TransferEndedLocked();
    if (terminal_seen_) return FinishAfterQueueLocked(grpc::Status::OK);
    if (context_id_.empty()) {
      // Refused before it started (unknown or busy context, bad input): the error says why.
      return FinishAfterQueueLocked(ToGrpcStatus(
          status.ok() ? absl::UnavailableError("execd ended the stream before any event")
                      : status));
    }
    const std::string reason =
        status.ok() ? "the stream ended without a terminal event" : std::string(status.message());
    v1::CodeEvent broken;
    *broken.mutable_time() = TimeUtil::GetCurrentTime();
    broken.mutable_broken()->set_context_id(context_id_);
    broken.mutable_broken()->set_reason(reason);
    (void)QueueLocked(std::move(broken));
    FinishAfterQueueLocked(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("the stream of the cell in context ", context_id_,
                     " broke before it finished: ", reason, "; its outcome is unknown")));
  }

  std::string context_id_ ABSL_GUARDED_BY(mu_);
  bool terminal_seen_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

namespace {

// Whether a cancelled call abandons its execd request; not one that creates something (a context)
// which an abandoned request could leave behind unknown.
enum class WhenCancelled { kAbandon, kComplete };

// A unary RPC that is one execd request: `fill` writes the response from execd's answer.
grpc::ServerUnaryReactor* CallExecd(DaemonContext& context, UnaryCall* reactor,
                                    const grpc::ServerContextBase* call,
                                    const v1::Connection& connection,
                                    const std::string& sandbox_id, std::string method,
                                    std::string target, std::string body,
                                    std::function<absl::Status(const HttpResult&)> fill,
                                    WhenCancelled on_cancel = WhenCancelled::kAbandon) {
  WithSandboxExecd(context, reactor, connection, sandbox_id,
                   [&context, reactor, method = std::move(method), target = std::move(target),
                    body = std::move(body), fill = std::move(fill),
                    on_cancel](const Origin&, const ExecdEndpoint& endpoint) {
                     const bool abandon = on_cancel == WhenCancelled::kAbandon;
                     context.execd().Call(abandon ? endpoint : endpoint.Detached(), method,
                                          target, body, FinishFromExecd(reactor, fill));
                   },
                   call);
  return reactor;
}

// Fills `response` from an answer that is one CodeContext.
std::function<absl::Status(const HttpResult&)> FillContext(v1::CodeContext* response) {
  return [response](const HttpResult& r) {
    rest::CodeContext c;
    absl::Status s = ParseAnswer(r, rest::ParseCodeContext, &c);
    if (s.ok()) *response = ToProto(c);
    return s;
  };
}

absl::Status NoAnswer(const HttpResult&) { return absl::OkStatus(); }

}  // namespace

grpc::ServerUnaryReactor* CodeService::CreateContext(grpc::CallbackServerContext* ctx,
                                                     const v1::CreateCodeContextRequest* request,
                                                     v1::CodeContext* response) {
  auto* reactor = new UnaryCall;
  if (!Require(reactor, request->language(), "language")) return reactor;
  rest::CodeContextRequest create{.language = request->language()};
  if (!request->cwd().empty()) create.cwd = request->cwd();
  return CallExecd(context_, reactor, ctx, request->connection(), request->sandbox_id(), "POST",
                   "/code/context", rest::ToJson(create).dump(), FillContext(response),
                   WhenCancelled::kComplete);
}

grpc::ServerUnaryReactor* CodeService::ListContexts(grpc::CallbackServerContext* ctx,
                                                    const v1::ListCodeContextsRequest* request,
                                                    v1::ListCodeContextsResponse* response) {
  auto* reactor = new UnaryCall;
  std::string target = "/code/contexts";
  if (!request->language().empty()) {
    absl::StrAppend(&target, "?language=", rest::UrlEncode(request->language()));
  }
  return CallExecd(context_, reactor, ctx, request->connection(), request->sandbox_id(), "GET",
                   std::move(target), "", [response](const HttpResult& r) {
                     std::vector<rest::CodeContext> list;
                     absl::Status s = ParseAnswer(r, ParseContextList, &list);
                     for (const auto& c : list) *response->add_contexts() = ToProto(c);
                     return s;
                   });
}

grpc::ServerUnaryReactor* CodeService::GetContext(grpc::CallbackServerContext* ctx,
                                                  const v1::GetCodeContextRequest* request,
                                                  v1::CodeContext* response) {
  auto* reactor = new UnaryCall;
  if (!Require(reactor, request->context_id(), "context_id")) return reactor;
  return CallExecd(context_, reactor, ctx, request->connection(), request->sandbox_id(), "GET",
                   "/code/contexts/" + rest::UrlEncode(request->context_id()), "",
                   FillContext(response));
}

grpc::ServerUnaryReactor* CodeService::DeleteContext(grpc::CallbackServerContext* ctx,
                                                     const v1::DeleteCodeContextRequest* request,
                                                     v1::DeleteCodeContextResponse*) {
  auto* reactor = new UnaryCall;
  if (!Require(reactor, request->context_id(), "context_id")) return reactor;
  return CallExecd(context_, reactor, ctx, request->connection(), request->sandbox_id(), "DELETE",
                   "/code/contexts/" + rest::UrlEncode(request->context_id()), "", NoAnswer);
}

grpc::ServerUnaryReactor* CodeService::DeleteContexts(grpc::CallbackServerContext* ctx,
                                                      const v1::DeleteCodeContextsRequest* request,
                                                      v1::DeleteCodeContextsResponse*) {
  auto* reactor = new UnaryCall;
  if (!Require(reactor, request->language(), "language")) return reactor;
  return CallExecd(context_, reactor, ctx, request->connection(), request->sandbox_id(), "DELETE",
                   "/code/contexts?language=" + rest::UrlEncode(request->language()), "",
                   NoAnswer);
}

grpc::ServerWriteReactor<v1::CodeEvent>* CodeService::Run(grpc::CallbackServerContext* ctx,
                                                          const v1::RunCodeRequest* request) {
  auto* reactor = new RunReactor(context_, ctx);
  reactor->Start(*request);
  return reactor;
}

grpc::ServerUnaryReactor* CodeService::Interrupt(grpc::CallbackServerContext* ctx,
                                                 const v1::InterruptCodeRequest* request,
                                                 v1::InterruptCodeResponse*) {
  auto* reactor = new UnaryCall;
  if (!Require(reactor, request->context_id(), "context_id")) return reactor;
  return CallExecd(context_, reactor, ctx, request->connection(), request->sandbox_id(), "DELETE",
                   "/code?id=" + rest::UrlEncode(request->context_id()), "", NoAnswer);
}

}  // namespace osb::daemon
