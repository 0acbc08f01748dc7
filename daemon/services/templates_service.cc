#include "daemon/services/templates_service.h"

#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/warm_pools.h"
#include "rest/error.h"

namespace osb::daemon {

namespace v1 = opensandbox::v1;

namespace {

// Finishes `ctx`'s call with `status` (OK once the response is filled).
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* TemplatesService::List(grpc::CallbackServerContext* ctx,
                                                 const v1::ListTemplatesRequest*,
                                                 v1::ListTemplatesResponse* response) {
  for (auto& t : context_.templates().List()) {
    *response->add_templates() = WithoutSecrets(std::move(t));
  }
  return Answer(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* TemplatesService::Get(grpc::CallbackServerContext* ctx,
                                                const v1::GetTemplateRequest* request,
                                                v1::Template* response) {
  if (auto s = RequiredField(request->name(), "name"); !s.ok()) return Answer(ctx, s);
  auto t = context_.templates().Get(request->name());
  if (t.ok()) *response = WithoutSecrets(*std::move(t));
  return Answer(ctx, t.status());
}

grpc::ServerUnaryReactor* TemplatesService::Define(grpc::CallbackServerContext* ctx,
                                                   const v1::DefineTemplateRequest* request,
                                                   v1::Template* response) {
  auto t = context_.templates().Define(request->template_());
  if (t.ok()) *response = WithoutSecrets(*std::move(t));
  return Answer(ctx, t.status());
}

grpc::ServerUnaryReactor* TemplatesService::Delete(grpc::CallbackServerContext* ctx,
                                                   const v1::DeleteTemplateRequest* request,
                                                   v1::DeleteTemplateResponse*) {
  if (auto s = RequiredField(request->name(), "name"); !s.ok()) return Answer(ctx, s);
  if (context_.pools().UsesTemplate(request->name())) {
    return Answer(ctx, rest::MakeError(absl::StatusCode::kFailedPrecondition,
                                       "OSBD::TEMPLATE_IN_USE",
                                       "template " + request->name() +
                                           " is used by a pool; delete the pool first"));
  }
  return Answer(ctx, context_.templates().Delete(request->name()));
}

}  // namespace osb::daemon
