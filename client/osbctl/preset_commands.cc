#include "client/osbctl/preset_commands.h"

#include <cstdio>

#include "client/osbctl/key_value_flags.h"
#include "client/osbctl/output.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"

namespace osb::cli {

namespace v1 = opensandbox::v1;

PresetCommands::PresetCommands(CLI::App& app) {
  template_ = app.add_subcommand("template", "named presets of sandbox parameters, kept by osbd");
  template_->require_subcommand(1);
  template_list_ = template_->add_subcommand("list", "list templates as JSON");
  template_get_ = template_->add_subcommand("get", "print a template as JSON");
  template_get_->add_option("name", name_, "template name")->required();
  template_define_ = template_->add_subcommand("define", "create or replace a template");
  template_define_->add_option("name", name_, "template name (a DNS label)")->required();
  template_define_->add_option("--description", description_, "free text");
  template_define_->add_option("--image", image_, "image of its sandboxes");
  template_define_->add_option("--timeout", timeout_seconds_, "time to live in seconds (>= 60)");
  template_define_->add_flag("--manual-cleanup", manual_cleanup_, "no time to live");
  template_define_->add_option("-e,--env", env_, "KEY=VALUE environment (repeatable)");
  template_define_->add_option("--metadata", metadata_, "KEY=VALUE label (repeatable)");
  template_define_->add_option("--resource", resources_, "cpu=500m, memory=512Mi (repeatable)");
  template_delete_ = template_->add_subcommand("delete", "delete a template");
  template_delete_->add_option("name", name_, "template name")->required();

  pool_ = app.add_subcommand("pool", "warm pools of ready sandboxes, kept by osbd");
  pool_->require_subcommand(1);
  pool_define_ = pool_->add_subcommand("define", "create or replace a pool and start filling it");
  pool_define_->add_option("name", name_, "pool name (a DNS label)")->required();
  pool_define_->add_option("--template", template_name_, "template of its sandboxes")->required();
  pool_define_->add_option("--min-idle", min_idle_, "ready sandboxes to keep")->required();
  pool_define_->add_option("--max-idle", max_idle_, "most idle sandboxes (default: min-idle)");
  pool_list_ = pool_->add_subcommand("list", "list pools as JSON");
  pool_stats_ = pool_->add_subcommand("stats", "print a pool's gauges and counters as JSON");
  pool_stats_->add_option("name", name_, "pool name")->required();
  pool_acquire_ = pool_->add_subcommand("acquire", "take a ready sandbox; prints its id");
  pool_acquire_->add_option("name", name_, "pool name")->required();
  pool_acquire_->add_flag("--fail-fast", fail_fast_,
                          "fail when no sandbox is idle instead of creating one");
  pool_acquire_->add_option("--timeout", timeout_seconds_, "renew it to expire in S seconds");
  pool_release_ = pool_->add_subcommand("release", "give a sandbox back: killed, or reused");
  pool_release_->add_option("name", name_, "pool name")->required();
  pool_release_->add_option("id", sandbox_id_, "sandbox id")->required();
  pool_release_->add_flag("--reuse", reuse_, "return it to the idle set (you vouch it is clean)");
  pool_delete_ = pool_->add_subcommand("delete", "delete a pool and kill its idle sandboxes");
  pool_delete_->add_option("name", name_, "pool name")->required();
  pool_delete_->add_flag("--keep-idle", keep_idle_, "leave the idle sandboxes running");
}

bool PresetCommands::Chosen() const { return template_->parsed() || pool_->parsed(); }

int PresetCommands::Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call) {
  return template_->parsed() ? RunTemplate(channel, call) : RunPool(channel, call);
}

int PresetCommands::RunTemplate(const std::shared_ptr<grpc::Channel>& channel,
                                grpc::ClientContext& call) {
  auto templates = v1::Templates::NewStub(channel);
  if (*template_list_) {
    v1::ListTemplatesResponse response;
    grpc::Status s = templates->List(&call, v1::ListTemplatesRequest(), &response);
    return s.ok() ? PrintList(response) : Fail(s, "list templates");
  }
  if (*template_get_) {
    v1::GetTemplateRequest request;
    request.set_name(name_);
    v1::Template response;
    grpc::Status s = templates->Get(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "get template " + name_);
  }
  if (*template_define_) {
    v1::DefineTemplateRequest request;
    v1::Template* t = request.mutable_template_();
    t->set_name(name_);
    t->set_description(description_);
    t->set_image(image_);
    if (timeout_seconds_ > 0) t->mutable_timeout()->set_seconds(timeout_seconds_);
    t->set_manual_cleanup(manual_cleanup_);
    if (!ParseKeyValues(env_, "--env", t->mutable_env()) ||
        !ParseKeyValues(metadata_, "--metadata", t->mutable_metadata()) ||
        !ParseKeyValues(resources_, "--resource", t->mutable_resource_limits())) {
      return 2;
    }
    v1::Template response;
    grpc::Status s = templates->Define(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "define template " + name_);
  }
  v1::DeleteTemplateRequest request;
  request.set_name(name_);
  v1::DeleteTemplateResponse response;
  grpc::Status s = templates->Delete(&call, request, &response);
  return s.ok() ? 0 : Fail(s, "delete template " + name_);
}

int PresetCommands::RunPool(const std::shared_ptr<grpc::Channel>& channel,
                            grpc::ClientContext& call) {
  auto pools = v1::Pools::NewStub(channel);
  if (*pool_define_) {
    v1::DefinePoolRequest request;
    request.mutable_pool()->set_name(name_);
    request.mutable_pool()->set_template_(template_name_);
    request.mutable_pool()->set_min_idle(min_idle_);
    request.mutable_pool()->set_max_idle(max_idle_);
    v1::Pool response;
    grpc::Status s = pools->Define(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "define pool " + name_);
  }
  if (*pool_list_) {
    v1::ListPoolsResponse response;
    grpc::Status s = pools->List(&call, v1::ListPoolsRequest(), &response);
    return s.ok() ? PrintList(response) : Fail(s, "list pools");
  }
  if (*pool_stats_) {
    v1::GetPoolStatsRequest request;
    request.set_name(name_);
    v1::PoolStats response;
    grpc::Status s = pools->GetStats(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "pool stats " + name_);
  }
  if (*pool_acquire_) {
    v1::AcquireSandboxRequest request;
    request.set_pool_name(name_);
    request.set_policy(fail_fast_ ? v1::ACQUIRE_POLICY_FAIL_FAST
                                  : v1::ACQUIRE_POLICY_DIRECT_CREATE);
    if (timeout_seconds_ > 0) request.mutable_sandbox_timeout()->set_seconds(timeout_seconds_);
    v1::AcquireSandboxResponse response;
    grpc::Status s = pools->Acquire(&call, request, &response);
    if (!s.ok()) return Fail(s, "acquire from pool " + name_);
    std::printf("%s\n", response.sandbox().id().c_str());
    return 0;
  }
  if (*pool_release_) {
    v1::ReleaseSandboxRequest request;
    request.set_pool_name(name_);
    request.set_sandbox_id(sandbox_id_);
    request.set_reuse(reuse_);
    v1::ReleaseSandboxResponse response;
    grpc::Status s = pools->Release(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "release " + sandbox_id_);
  }
  v1::DeletePoolRequest request;
  request.set_name(name_);
  request.set_keep_idle(keep_idle_);
  v1::DeletePoolResponse response;
  grpc::Status s = pools->Delete(&call, request, &response);
  return s.ok() ? 0 : Fail(s, "delete pool " + name_);
}

}  // namespace osb::cli
