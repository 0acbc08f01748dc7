#include "client/osbctl/sandbox_commands.h"

#include <chrono>
#include <cstdio>

#include "client/osbctl/key_value_flags.h"
#include "client/osbctl/output.h"
#include "google/protobuf/util/time_util.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"

namespace osb::cli {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

SandboxCommands::SandboxCommands(CLI::App& app) {
  sandbox_ = app.add_subcommand("sandbox", "manage sandboxes");
  sandbox_->require_subcommand(1);
  get_ = sandbox_->add_subcommand("get", "print a sandbox as JSON");
  get_->add_option("id", sandbox_id_, "sandbox id")->required();
  kill_ = sandbox_->add_subcommand("kill", "kill a sandbox");
  kill_->add_option("id", sandbox_id_, "sandbox id")->required();
  list_ = sandbox_->add_subcommand(
      "list", "list a page of sandboxes, newest first, as JSON with its pagination");
  list_->add_option("-s,--state", list_states_, "only these states (repeatable, OR)");
  list_->add_option("-m,--metadata", list_metadata_,
                    "only those labelled KEY=VALUE (repeatable, AND)");
  list_->add_option("--page", list_page_, "which page, from 1")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  list_->add_option("--page-size", list_page_size_, "sandboxes per page, 1 to 200")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  pause_ = sandbox_->add_subcommand("pause", "pause a sandbox (freeze its processes)");
  pause_->add_option("id", sandbox_id_, "sandbox id")->required();
  resume_ = sandbox_->add_subcommand("resume", "resume a paused sandbox");
  resume_->add_option("id", sandbox_id_, "sandbox id")->required();
  renew_ = sandbox_->add_subcommand("renew", "move a sandbox's expiry; prints the new one");
  renew_->add_option("id", sandbox_id_, "sandbox id")->required();
  renew_->add_option("--timeout", renew_seconds_, "seconds from now")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{366} * 24 * 3600));
  endpoint_ =
      sandbox_->add_subcommand("endpoint", "print how to reach a port of a sandbox, as JSON");
  endpoint_->add_option("id", sandbox_id_, "sandbox id")->required();
  endpoint_->add_option("port", endpoint_port_, "port inside the sandbox")
      ->required()
      ->check(CLI::Range(1, 65535));
  metrics_ = sandbox_->add_subcommand("metrics", "print the sandbox's CPU and memory use as JSON");
  metrics_->add_option("id", sandbox_id_, "sandbox id")->required();
  CLI::Option* watch_flag =
      metrics_->add_flag("--watch", watch_, "print a sample every second until interrupted");
  metrics_->add_option("--count", watch_count_, "with --watch: stop after this many samples")
      ->needs(watch_flag)
      ->check(CLI::PositiveNumber);
  health_ = sandbox_->add_subcommand(
      "health", "exit 0 when the sandbox is Running and runs a command, else 1 with the reason");
  health_->add_option("id", sandbox_id_, "sandbox id")->required();
}

bool SandboxCommands::Chosen() const {
  for (const CLI::App* sub : {get_, kill_, list_, pause_, resume_, renew_, endpoint_, metrics_,
                              health_}) {
    if (sub->parsed()) return true;
  }
  return false;
}

bool SandboxCommands::Prepare() {
  if (!list_->parsed()) return true;
  for (const auto& state : list_states_) list_request_.add_states(state);
  list_request_.set_page(list_page_);
  list_request_.set_page_size(list_page_size_);
  return ParseKeyValues(list_metadata_, "--metadata", list_request_.mutable_metadata());
}

int SandboxCommands::Run(const std::shared_ptr<grpc::Channel>& channel,
                         grpc::ClientContext& call, const std::atomic<bool>& interrupted) {
  auto sandboxes = v1::Sandboxes::NewStub(channel);
  if (metrics_->parsed() && watch_) return WatchMetrics(*sandboxes, call, interrupted);
  if (metrics_->parsed()) {
    v1::GetSandboxMetricsRequest request;
    request.set_sandbox_id(sandbox_id_);
    v1::SandboxMetrics found;
    grpc::Status status = sandboxes->GetMetrics(&call, request, &found);
    if (!status.ok()) return Fail(status, "sandbox metrics");
    return PrintJson(found);
  }
  if (health_->parsed()) return Health(*sandboxes, channel, call);
  if (get_->parsed()) {
    v1::GetSandboxRequest request;
    request.set_sandbox_id(sandbox_id_);
    v1::Sandbox found;
    grpc::Status status = sandboxes->Get(&call, request, &found);
    if (!status.ok()) return Fail(status, "get sandbox");
    return PrintJson(found);
  }
  if (kill_->parsed()) {
    v1::KillSandboxRequest request;
    request.set_sandbox_id(sandbox_id_);
    v1::KillSandboxResponse killed;
    grpc::Status status = sandboxes->Kill(&call, request, &killed);
    return status.ok() ? 0 : Fail(status, "kill sandbox");
  }
  if (list_->parsed()) {
    v1::ListSandboxesResponse found;
    grpc::Status status = sandboxes->List(&call, list_request_, &found);
    if (!status.ok()) return Fail(status, "list sandboxes");
    return PrintList(found);
  }
  if (renew_->parsed()) {
    v1::RenewSandboxRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.mutable_timeout()->set_seconds(renew_seconds_);
    v1::RenewSandboxResponse renewed;
    grpc::Status status = sandboxes->Renew(&call, request, &renewed);
    if (!status.ok()) return Fail(status, "renew sandbox");
    std::printf("%s\n", TimeUtil::ToString(renewed.expires_at()).c_str());
    return 0;
  }
  if (endpoint_->parsed()) {
    v1::GetEndpointRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_port(endpoint_port_);
    v1::Endpoint found;
    grpc::Status status = sandboxes->GetEndpoint(&call, request, &found);
    if (!status.ok()) return Fail(status, "sandbox endpoint");
    return PrintJson(found);
  }
  if (pause_->parsed()) {
    v1::PauseSandboxRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_wait(true);
    v1::PauseSandboxResponse paused;
    grpc::Status status = sandboxes->Pause(&call, request, &paused);
    return status.ok() ? 0 : Fail(status, "pause sandbox");
  }
  v1::ResumeSandboxRequest request;
  request.set_sandbox_id(sandbox_id_);
  v1::ResumeSandboxResponse resumed;
  grpc::Status status = sandboxes->Resume(&call, request, &resumed);
  return status.ok() ? 0 : Fail(status, "resume sandbox");
}

int SandboxCommands::WatchMetrics(v1::Sandboxes::Stub& sandboxes, grpc::ClientContext& call,
                                  const std::atomic<bool>& interrupted) {
  v1::WatchSandboxMetricsRequest request;
  request.set_sandbox_id(sandbox_id_);
  auto reader = sandboxes.WatchMetrics(&call, request);
  v1::SandboxMetrics sample;
  int64_t printed = 0;
  while (reader->Read(&sample)) {
    if (watch_count_ > 0 && printed == watch_count_) continue;  // in flight at the cancel
    PrintJson(sample);
    std::fflush(stdout);
    // Enough: the cancel ends the stream, and Finish then reports CANCELLED.
    if (++printed == watch_count_) call.TryCancel();
  }
  grpc::Status status = reader->Finish();
  // Ctrl-C is how a watch without --count ends.
  const bool counted_out = watch_count_ > 0 && printed == watch_count_;
  if (interrupted || counted_out || status.ok()) return 0;
  return Fail(status, "sandbox metrics");
}

int SandboxCommands::Health(v1::Sandboxes::Stub& sandboxes,
                            const std::shared_ptr<grpc::Channel>& channel,
                            grpc::ClientContext& call) {
  v1::GetSandboxRequest request;
  request.set_sandbox_id(sandbox_id_);
  v1::Sandbox found;
  grpc::Status status = sandboxes.Get(&call, request, &found);
  if (!status.ok()) return Fail(status, "sandbox health");
  if (found.status().state() != "Running") {
    std::printf("unhealthy: the sandbox is %s\n", found.status().state().c_str());
    return 1;
  }
  grpc::ClientContext probe;
  probe.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::RunCommandRequest probe_run;
  probe_run.set_sandbox_id(sandbox_id_);
  probe_run.set_command("true");
  auto reader = v1::Commands::NewStub(channel)->Run(&probe, probe_run);
  v1::CommandEvent event;
  bool completed = false;
  while (reader->Read(&event)) completed = completed || event.has_completed();
  status = reader->Finish();
  if (!status.ok() || !completed) {
    std::printf("unhealthy: it does not run commands (%s)\n",
                status.ok() ? "the probe failed" : status.error_message().c_str());
    return 1;
  }
  std::printf("healthy\n");
  return 0;
}

}  // namespace osb::cli
