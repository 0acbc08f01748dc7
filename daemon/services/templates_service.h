// Templates: named presets of create parameters, kept by osbd (TemplateStore). Every call is
// answered at once from the store. Get and List never return a registry password.
#pragma once

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/templates.grpc.pb.h"

namespace osb::daemon {

class TemplatesService final : public opensandbox::v1::Templates::CallbackService {
 public:
  explicit TemplatesService(DaemonContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const opensandbox::v1::ListTemplatesRequest* request,
                                 opensandbox::v1::ListTemplatesResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx,
                                const opensandbox::v1::GetTemplateRequest* request,
                                opensandbox::v1::Template* response) override;
  grpc::ServerUnaryReactor* Define(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::DefineTemplateRequest* request,
                                   opensandbox::v1::Template* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::DeleteTemplateRequest* request,
                                   opensandbox::v1::DeleteTemplateResponse* response) override;

 private:
  DaemonContext& context_;
};

}  // namespace osb::daemon
