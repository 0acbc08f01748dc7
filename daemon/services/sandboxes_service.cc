#include "daemon/services/sandboxes_service.h"

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/owner_id.h"
#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/unary_call.h"
#include "daemon/services/provision.h"
#include "daemon/warm_pools.h"
#include "daemon/services/readiness.h"
#include "google/protobuf/util/time_util.h"
#include "rest/time_util.h"

namespace osb::daemon {
namespace {

// Pages are numbered from 1 and 0 leaves the choice to the service; below 0 is an error.
absl::Status CheckPage(int32_t page, int32_t page_size) {
  if (page < 0) return InvalidField("page", "must not be negative");
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  return absl::OkStatus();
}

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

// Resolves the call's origin; on failure finishes the call and returns nullopt.
std::optional<Origin> OriginOrFinish(absl::StatusOr<Origin> origin,
                                     grpc::ServerUnaryReactor* reactor) {
  if (origin.ok()) return *std::move(origin);
  reactor->Finish(ToGrpcStatus(origin.status()));
  return std::nullopt;
}

// Finishes with `status`, or OK after `fill` has written the response.
template <typename T, typename Fill>
auto FinishWith(grpc::ServerUnaryReactor* reactor, Fill fill) {
  return [reactor, fill = std::move(fill)](absl::StatusOr<T> result) {
    if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
    fill(*result);
    reactor->Finish(grpc::Status::OK);
  };
}

void FinishStatus(grpc::ServerUnaryReactor* reactor, absl::Status status) {
  reactor->Finish(ToGrpcStatus(status));
}

void FillPagination(const rest::PaginationInfo& in, v1::Pagination* p) {
  p->set_page(static_cast<int32_t>(in.page));
  p->set_page_size(static_cast<int32_t>(in.page_size));
  p->set_total_items(in.total_items);
  p->set_total_pages(static_cast<int32_t>(in.total_pages));
  p->set_has_next_page(in.has_next_page);
}

// Calls `fetch` (which answers through its callback) every `interval` until what it answers
// is `settled`, it fails, or `deadline` passes: then DeadlineExceeded with `still(last answer)`.
template <typename T>
void PollUntil(DaemonContext& context, std::function<void(Callback<T>)> fetch,
               std::function<bool(const T&)> settled, std::function<std::string(const T&)> still,
               absl::Time deadline, Callback<T> done) {
  fetch([=, &context](absl::StatusOr<T> answer) {
    if (!answer.ok() || settled(*answer)) return done(std::move(answer));
    if (absl::Now() >= deadline) return done(absl::DeadlineExceededError(still(*answer)));
    context.loop().Post(
        [=, &context] { PollUntil<T>(context, fetch, settled, still, deadline, done); },
        kPollInterval);
  });
}

// Polls GET until the sandbox is Paused.
void WaitUntilPaused(DaemonContext& context, Origin origin, std::string id, absl::Time deadline,
                     Callback<rest::Sandbox> done) {
  PollUntil<rest::Sandbox>(
      context,
      [&context, origin, id](Callback<rest::Sandbox> cb) {
        context.lifecycle().Get(origin, id, std::move(cb));
      },
      [](const rest::Sandbox& s) { return s.status.state == "Paused"; },
      [id](const rest::Sandbox& s) {
        return absl::StrCat("sandbox ", id, " was still ", s.status.state,
                            " when waiting ended");
      },
      deadline, std::move(done));
}

// Polls GET /snapshots/{id} until the snapshot is no longer Creating.
void WaitUntilSettled(DaemonContext& context, Origin origin, std::string id, absl::Time deadline,
                      Callback<rest::Snapshot> done) {
  PollUntil<rest::Snapshot>(
      context,
      [&context, origin, id](Callback<rest::Snapshot> cb) {
        context.lifecycle().GetSnapshot(origin, id, std::move(cb));
      },
      [](const rest::Snapshot& s) { return s.status.state != "Creating"; },
      [id](const rest::Snapshot& s) {
        return absl::StrCat("snapshot ", id, " was still ", s.status.state,
                            " when waiting ended");
      },
      deadline, std::move(done));
}

}  // namespace

grpc::ServerUnaryReactor* SandboxesService::Create(grpc::CallbackServerContext* ctx,
                                                   const v1::CreateSandboxRequest* request,
                                                   v1::Sandbox* response) {
  auto* reactor = ctx->DefaultReactor();
  // Without the call's cancellation: a POST abandoned midway could leave a sandbox no one knows
  // of. A cancelled call is noticed once the sandbox exists, which is then deleted (provision.cc).
  auto origin = OriginOrFinish(context_.Resolve(request->connection(), ctx), reactor);
  if (!origin.has_value()) return reactor;
  v1::CreateSandboxRequest with_template;
  if (!request->template_().empty()) {
    auto t = context_.templates().Get(request->template_());
    if (!t.ok()) {
      FinishStatus(reactor, t.status());
      return reactor;
    }
    with_template = ApplyTemplate(*t, *request);
    request = &with_template;
  }
  auto provisioning = ProvisioningFor(*origin, *request);
  if (!provisioning.ok()) {
    FinishStatus(reactor, provisioning.status());
    return reactor;
  }
  rest::CreateSandboxRequest& rest_request = provisioning->request;
  // The lease holder is checked before anything is made, and held from then on.
  std::shared_ptr<UniqueFd> holder;
  if (request->lease() != v1::LEASE_MODE_UNSPECIFIED) {
    auto opened = context_.leases().OpenHolder(request->lease_pid());
    if (!opened.ok()) {
      FinishStatus(reactor, opened.status());
      return reactor;
    }
    holder = std::make_shared<UniqueFd>(*std::move(opened));
  }
  const LeaseKeeper::Mode lease_mode = request->lease() == v1::LEASE_MODE_RENEW_WHILE_ALIVE
                                           ? LeaseKeeper::Mode::kRenewWhileAlive
                                           : LeaseKeeper::Mode::kKillOnExit;
  const absl::Duration ttl = absl::Seconds(rest_request.timeout_seconds.value_or(0));
  if (holder != nullptr) {
    // Tagged as leased, for people and for a later osbd to take over (AdoptLeases).
    for (auto& [key, value] :
         LeaseKeeper::Labels(context_.info().owner, request->lease_pid(), lease_mode, ttl)) {
      rest_request.metadata[key] = std::move(value);
    }
  }
  provisioning->deadline = absl::Now() + RemainingTime(ctx);
  provisioning->cancelled = [ctx] { return ctx->IsCancelled(); };
  DaemonContext& context = context_;
  ProvisionSandbox(context_, *std::move(provisioning),
                   [=, &context, origin = *origin](absl::StatusOr<rest::Sandbox> ready) {
                     if (!ready.ok()) return FinishStatus(reactor, ready.status());
                     if (holder != nullptr) {
                       context.leases().Add(origin, ready->id, std::move(*holder), lease_mode,
                                            ttl);
                     }
                     *response = ToProto(*ready);
                     reactor->Finish(grpc::Status::OK);
                   });
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::Get(grpc::CallbackServerContext* ctx,
                                                const v1::GetSandboxRequest* request,
                                                v1::Sandbox* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx,
                                 reactor->cancel()),
      reactor);
  if (!origin.has_value()) return reactor;
  context_.lifecycle().Get(*origin, request->sandbox_id(),
                           FinishWith<rest::Sandbox>(reactor, [response](const rest::Sandbox& s) {
                             *response = ToProto(s);
                           }));
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::List(grpc::CallbackServerContext* ctx,
                                                 const v1::ListSandboxesRequest* request,
                                                 v1::ListSandboxesResponse* response) {
  auto* reactor = new UnaryCall;
  auto origin =
      OriginOrFinish(context_.Resolve(request->connection(), ctx, reactor->cancel()), reactor);
  if (!origin.has_value()) return reactor;
  if (absl::Status s = CheckPage(request->page(), request->page_size()); !s.ok()) {
    FinishStatus(reactor, s);
    return reactor;
  }
  context_.lifecycle().List(
      *origin, {request->states().begin(), request->states().end()},
      {request->metadata().begin(), request->metadata().end()}, request->page(),
      request->page_size(),
      FinishWith<rest::ListSandboxesResponse>(reactor, [response](const auto& list) {
        for (const auto& s : list.items) *response->add_sandboxes() = ToProto(s);
        FillPagination(list.pagination, response->mutable_pagination());
      }));
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::Kill(grpc::CallbackServerContext* ctx,
                                                 const v1::KillSandboxRequest* request,
                                                 v1::KillSandboxResponse*) {
  // A deletion runs to its end whatever becomes of the call (DaemonContext::DeleteSandbox).
  auto* reactor = ctx->DefaultReactor();
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx), reactor);
  if (!origin.has_value()) return reactor;
  context_.leases().Forget(request->sandbox_id());
  context_.pools().Forget(request->sandbox_id());
  context_.DeleteSandbox(*origin, request->sandbox_id(),
                         [reactor](absl::Status s) { FinishStatus(reactor, s); });
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::Pause(grpc::CallbackServerContext* ctx,
                                                  const v1::PauseSandboxRequest* request,
                                                  v1::PauseSandboxResponse* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx,
                                 reactor->cancel()),
      reactor);
  if (!origin.has_value()) return reactor;
  const std::string id = request->sandbox_id();
  const bool wait = request->wait();
  const absl::Time deadline =
      absl::Now() +
      std::min(request->has_wait_timeout() ? ToAbsl(request->wait_timeout()) : kDefaultReadyTimeout,
               RemainingTime(ctx));
  DaemonContext& context = context_;
  auto fill = FinishWith<rest::Sandbox>(
      reactor, [response](const rest::Sandbox& s) { *response->mutable_sandbox() = ToProto(s); });
  context_.lifecycle().Pause(*origin, id, [=, &context](absl::Status paused) {
    if (!paused.ok()) return FinishStatus(reactor, paused);
    if (wait) return WaitUntilPaused(context, *origin, id, deadline, fill);
    context.lifecycle().Get(*origin, id, fill);
  });
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::Resume(grpc::CallbackServerContext* ctx,
                                                   const v1::ResumeSandboxRequest* request,
                                                   v1::ResumeSandboxResponse* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx,
                                 reactor->cancel()),
      reactor);
  if (!origin.has_value()) return reactor;
  HealthProbe probe;
  if (request->has_health_check()) {
    auto parsed = ToHealthProbe(request->health_check());
    if (!parsed.ok()) {
      FinishStatus(reactor, parsed.status());
      return reactor;
    }
    probe = *std::move(parsed);
  }
  const std::string id = request->sandbox_id();
  const bool skip = request->skip_health_check();
  const absl::Duration ready_timeout =
      request->has_ready_timeout() ? ToAbsl(request->ready_timeout()) : kDefaultReadyTimeout;
  DaemonContext& context = context_;
  // A resumed sandbox may answer on another endpoint.
  context_.endpoints().Drop(*origin, id);
  auto fill = FinishWith<rest::Sandbox>(
      reactor, [response](const rest::Sandbox& s) { *response->mutable_sandbox() = ToProto(s); });
  context_.lifecycle().Resume(*origin, id, [=, &context](absl::Status resumed) {
    if (!resumed.ok()) return FinishStatus(reactor, resumed);
    context.lifecycle().Get(*origin, id, [=, &context](absl::StatusOr<rest::Sandbox> sandbox) {
      if (!sandbox.ok() || skip) return fill(std::move(sandbox));
      WaitUntilReady(context, ctx, *origin, *std::move(sandbox), ready_timeout, fill, probe);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::Renew(grpc::CallbackServerContext* ctx,
                                                  const v1::RenewSandboxRequest* request,
                                                  v1::RenewSandboxResponse* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx,
                                 reactor->cancel()),
      reactor);
  if (!origin.has_value()) return reactor;
  absl::Time expires_at;
  if (request->has_timeout()) {
    expires_at = absl::Now() + ToAbsl(request->timeout());
  } else if (request->has_expires_at()) {
    expires_at = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(request->expires_at()));
  } else {
    FinishStatus(reactor, InvalidField("expiration", "is required: timeout or expires_at"));
    return reactor;
  }
  context_.lifecycle().Renew(*origin, request->sandbox_id(), expires_at,
                             FinishWith<std::string>(reactor, [response](const std::string& t) {
                               auto parsed = rest::ParseRfc3339(t);
                               if (parsed.ok()) {
                                 *response->mutable_expires_at() =
                                     TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*parsed));
                               }
                             }));
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::PatchMetadata(
    grpc::CallbackServerContext* ctx, const v1::PatchSandboxMetadataRequest* request,
    v1::Sandbox* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx,
                                 reactor->cancel()),
      reactor);
  if (!origin.has_value()) return reactor;
  nlohmann::json patch = nlohmann::json::object();
  for (const auto& [k, v] : request->upsert()) patch[k] = v;
  for (const auto& k : request->remove()) {
    if (request->upsert().count(k) > 0) {
      FinishStatus(reactor, InvalidField("remove", absl::StrCat("holds '", k,
                                                             "', which upsert sets too")));
      return reactor;
    }
    patch[k] = nullptr;
  }
  context_.lifecycle().PatchMetadata(
      *origin, request->sandbox_id(), patch,
      FinishWith<rest::Sandbox>(reactor,
                                [response](const rest::Sandbox& s) { *response = ToProto(s); }));
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::GetEndpoint(grpc::CallbackServerContext* ctx,
                                                        const v1::GetEndpointRequest* request,
                                                        v1::Endpoint* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx,
                                 reactor->cancel()),
      reactor);
  if (!origin.has_value()) return reactor;
  if (request->port() < 1 || request->port() > 65535) {
    FinishStatus(reactor, InvalidField("port", "must be between 1 and 65535"));
    return reactor;
  }
  if (request->has_use_server_proxy()) origin->use_server_proxy = request->use_server_proxy();
  // A signed route (OSEP-0011) is the service's to make: osbd passes the time on, and a service
  // that has none answers 400 API_NOT_SUPPORTED (the Docker server and osb-runtime do).
  std::optional<int64_t> expires;
  if (request->has_expires()) {
    if (request->expires().seconds() < 0) {
      FinishStatus(reactor, InvalidField("expires", "must not be before 1970"));
      return reactor;
    }
    if (origin->use_server_proxy) {
      FinishStatus(reactor, InvalidField("expires",
                                         "cannot be combined with the server proxy "
                                         "(use_server_proxy, the request's or its connection's)"));
      return reactor;
    }
    expires = request->expires().seconds();
  }
  context_.lifecycle().GetEndpoint(
      *origin, request->sandbox_id(), static_cast<int>(request->port()),
      FinishWith<ExecdEndpoint>(reactor,
                                [response](const ExecdEndpoint& e) {
                                  response->set_endpoint(e.endpoint);
                                  response->set_url(e.base_url);
                                  for (const auto& [k, v] : e.headers) {
                                    (*response->mutable_headers())[k] = v;
                                  }
                                }),
      expires);
  return reactor;
}


grpc::ServerUnaryReactor* SandboxesService::CreateSnapshot(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateSnapshotRequest* request,
                                                           v1::Snapshot* response) {
  auto* reactor = new UnaryCall;
  auto origin = OriginOrFinish(
      context_.ResolveForSandbox(request->connection(), request->sandbox_id(), ctx), reactor);
  if (!origin.has_value()) return reactor;
  const bool wait = request->wait();
  const absl::Time deadline =
      absl::Now() + (request->has_wait_timeout()
                         ? std::min(ToAbsl(request->wait_timeout()), RemainingTime(ctx))
                         : RemainingTime(ctx));
  DaemonContext& context = context_;
  auto fill = FinishWith<rest::Snapshot>(
      reactor, [response](const rest::Snapshot& s) { *response = ToProto(s); });
  context_.lifecycle().CreateSnapshot(
      *origin, request->sandbox_id(), request->name(),
      [=, &context, origin = *origin](absl::StatusOr<rest::Snapshot> accepted) {
        if (!accepted.ok() || !wait) return fill(std::move(accepted));
        // The POST went without the call's cancellation (an abandoned request could leave a
        // snapshot no one knows of); the wait goes with it.
        Origin polling = origin;
        polling.cancel = reactor->cancel();
        WaitUntilSettled(context, polling, accepted->id, deadline, fill);
      });
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::GetSnapshot(grpc::CallbackServerContext* ctx,
                                                        const v1::GetSnapshotRequest* request,
                                                        v1::Snapshot* response) {
  auto* reactor = new UnaryCall;
  auto origin =
      OriginOrFinish(context_.Resolve(request->connection(), ctx, reactor->cancel()), reactor);
  if (!origin.has_value()) return reactor;
  if (auto s = RequiredField(request->snapshot_id(), "snapshot_id"); !s.ok()) {
    FinishStatus(reactor, s);
    return reactor;
  }
  context_.lifecycle().GetSnapshot(
      *origin, request->snapshot_id(),
      FinishWith<rest::Snapshot>(reactor,
                                 [response](const rest::Snapshot& s) { *response = ToProto(s); }));
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::ListSnapshots(grpc::CallbackServerContext* ctx,
                                                          const v1::ListSnapshotsRequest* request,
                                                          v1::ListSnapshotsResponse* response) {
  auto* reactor = new UnaryCall;
  auto origin =
      OriginOrFinish(context_.Resolve(request->connection(), ctx, reactor->cancel()), reactor);
  if (!origin.has_value()) return reactor;
  if (absl::Status s = CheckPage(request->page(), request->page_size()); !s.ok()) {
    FinishStatus(reactor, s);
    return reactor;
  }
  context_.lifecycle().ListSnapshots(
      *origin, request->sandbox_id(), {request->states().begin(), request->states().end()},
      request->page(), request->page_size(),
      FinishWith<rest::ListSnapshotsResponse>(reactor, [response](const auto& list) {
        for (const auto& s : list.items) *response->add_snapshots() = ToProto(s);
        FillPagination(list.pagination, response->mutable_pagination());
      }));
  return reactor;
}

grpc::ServerUnaryReactor* SandboxesService::DeleteSnapshot(
    grpc::CallbackServerContext* ctx, const v1::DeleteSnapshotRequest* request,
    v1::DeleteSnapshotResponse*) {
  auto* reactor = new UnaryCall;
  auto origin =
      OriginOrFinish(context_.Resolve(request->connection(), ctx, reactor->cancel()), reactor);
  if (!origin.has_value()) return reactor;
  if (auto s = RequiredField(request->snapshot_id(), "snapshot_id"); !s.ok()) {
    FinishStatus(reactor, s);
    return reactor;
  }
  context_.lifecycle().DeleteSnapshot(*origin, request->snapshot_id(),
                                      [reactor](absl::Status s) { FinishStatus(reactor, s); });
  return reactor;
}

}  // namespace osb::daemon
