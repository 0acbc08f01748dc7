#include "daemon/services/commands_service.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "daemon/convert.h"
#include "daemon/services/execd_call.h"
#include "daemon/services/grpc_status.h"
#include "nlohmann/json.hpp"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;

// Events queued for a slow client before osbd stops reading the upstream stream.
constexpr std::size_t kHighWater = 256;
constexpr std::size_t kLowWater = 64;

// Writes a command's events to the client as they arrive from the loop thread. Its state is
// guarded by mu_; the loop reaches it only through a shared Link that OnDone severs.
class RunReactor final : public grpc::ServerWriteReactor<v1::CommandEvent> {
 public:
  struct Link {
    absl::Mutex mu;
    RunReactor* reactor ABSL_GUARDED_BY(mu);
  };

  RunReactor(DaemonContext& context, grpc::CallbackServerContext* ctx)
      : context_(context), ctx_(ctx), link_(std::make_shared<Link>()) {
    absl::MutexLock lock(&link_->mu);
    link_->reactor = this;
  }

  void Start(const Origin& origin, const std::string& sandbox_id, rest::RunCommandRequest request) {
    origin_ = origin;
    sandbox_id_ = sandbox_id;
    context_.WithExecd(
        origin, sandbox_id,
        [link = link_, request = std::move(request)](absl::StatusOr<ExecdEndpoint> endpoint) {
          absl::MutexLock lock(&link->mu);
          if (link->reactor == nullptr) return;
          RunReactor& r = *link->reactor;
          if (!endpoint.ok()) return r.End(ToGrpcStatus(endpoint.status()));
          r.StartCommand(*endpoint, request);
        });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      queue_.clear();
    }
    if (paused_ && queue_.size() <= kLowWater && transfer_.has_value()) {
      paused_ = false;
      context_.loop().Resume(*transfer_);
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (transfer_.has_value()) context_.loop().Cancel(*transfer_);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&link_->mu);
      link_->reactor = nullptr;
    }
    delete this;
  }

 private:
  // Called with link_->mu held, on the loop thread.
  void StartCommand(const ExecdEndpoint& endpoint, const rest::RunCommandRequest& request) {
    CommandStreamHandler handler;
    handler.on_event = [link = link_](rest::ServerStreamEvent event) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor == nullptr) return DataAction::kContinue;
      return link->reactor->OnEvent(std::move(event));
    };
    handler.on_end = [link = link_](absl::Status status) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor != nullptr) link->reactor->OnStreamEnd(std::move(status));
    };
    absl::MutexLock lock(&mu_);
    transfer_ = context_.execd().RunCommand(endpoint, request, std::move(handler));
    if (ctx_->IsCancelled()) context_.loop().Cancel(*transfer_);
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
    queue_.push_back(*std::move(out));
    WriteNextLocked();
    if (queue_.size() >= kHighWater) {
      paused_ = true;
      return DataAction::kPause;
    }
    return DataAction::kContinue;
  }

  void OnStreamEnd(absl::Status status) {
    absl::MutexLock lock(&mu_);
    transfer_.reset();
    // The endpoint may be stale (sandbox gone or moved): ask the lifecycle API next time.
    if (command_id_.empty()) context_.endpoints().Drop(origin_, sandbox_id_);
    if (terminal_seen_) {
      final_status_ = grpc::Status::OK;
    } else if (command_id_.empty()) {
      // Refused before it started: nothing ran, the error says why.
      final_status_ = ToGrpcStatus(
          status.ok() ? absl::UnavailableError("execd ended the stream before any event") : status);
    } else {
      std::string reason =
          status.ok() ? "the stream ended without a terminal event" : std::string(status.message());
      v1::CommandEvent broken;
      broken.set_seq(next_seq_++);
      broken.mutable_broken()->set_command_id(command_id_);
      broken.mutable_broken()->set_reason(reason);
      queue_.push_back(std::move(broken));
      final_status_ = grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("the stream of command ", command_id_, " broke before it finished: ", reason,
                       "; its outcome is unknown"));
    }
    WriteNextLocked();
  }

  void End(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    final_status_ = std::move(status);
    WriteNextLocked();
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      StartWrite(&current_);
    } else if (final_status_.has_value()) {
      finished_ = true;
      Finish(*final_status_);
    }
  }

  DaemonContext& context_;
  grpc::CallbackServerContext* ctx_;
  std::shared_ptr<Link> link_;
  Origin origin_;
  std::string sandbox_id_;
  absl::Mutex mu_;
  std::deque<v1::CommandEvent> queue_ ABSL_GUARDED_BY(mu_);
  v1::CommandEvent current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool terminal_seen_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::string command_id_ ABSL_GUARDED_BY(mu_);
  std::optional<CurlLoop::TransferId> transfer_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerWriteReactor<v1::CommandEvent>* CommandsService::Run(
    grpc::CallbackServerContext* ctx, const v1::RunCommandRequest* request) {
  auto* reactor = new RunReactor(context_, ctx);
  auto origin = context_.ResolveForSandbox(request->connection(), request->sandbox_id());
  auto rest_request = ToRest(*request);
  if (!origin.ok() || !rest_request.ok()) {
    reactor->Finish(ToGrpcStatus(!origin.ok() ? origin.status() : rest_request.status()));
    return reactor;
  }
  reactor->Start(*origin, request->sandbox_id(), *std::move(rest_request));
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
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, target](const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(endpoint, "DELETE", target, "",
                                           FinishFromExecd(reactor, [](const HttpResult&) {
                                             return absl::OkStatus();
                                           }));
                   });
  return reactor;
}

}  // namespace osb::daemon
