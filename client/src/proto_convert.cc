#include "client/src/proto_convert.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace opensandbox::internal {

using google::protobuf::util::TimeUtil;

absl::Time TimeFromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Duration DurationToProto(absl::Duration d) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

SandboxInfo SandboxInfoFromProto(const v1::Sandbox& in) {
  SandboxInfo out;
  out.id = in.id();
  out.status = {in.status().state(), in.status().reason(), in.status().message()};
  out.created_at = TimeFromProto(in.created_at());
  if (in.has_expires_at()) out.expires_at = TimeFromProto(in.expires_at());
  out.entrypoint.assign(in.entrypoint().begin(), in.entrypoint().end());
  out.image = in.image();
  out.metadata.insert(in.metadata().begin(), in.metadata().end());
  return out;
}

SandboxPage SandboxPageFromProto(const v1::ListSandboxesResponse& in) {
  SandboxPage out;
  for (const auto& sandbox : in.sandboxes()) out.sandboxes.push_back(SandboxInfoFromProto(sandbox));
  out.page = in.pagination().page();
  out.page_size = in.pagination().page_size();
  out.total_items = in.pagination().total_items();
  out.total_pages = in.pagination().total_pages();
  out.has_next_page = in.pagination().has_next_page();
  return out;
}

Endpoint EndpointFromProto(const v1::Endpoint& in) {
  Endpoint out{in.endpoint(), in.url(), {}};
  out.headers.insert(in.headers().begin(), in.headers().end());
  return out;
}

SandboxMetrics MetricsFromProto(const v1::SandboxMetrics& in) {
  return {in.cpu_count(), in.cpu_used_percent(), in.memory_total_mib(), in.memory_used_mib(),
          TimeFromProto(in.time())};
}

CommandStatus CommandStatusFromProto(const v1::CommandStatus& in) {
  CommandStatus out;
  out.id = in.command_id();
  out.command = in.command();
  out.running = in.running();
  if (in.has_exit_code()) out.exit_code = in.exit_code();
  out.error = in.error();
  out.started_at = TimeFromProto(in.started_at());
  if (in.has_finished_at()) out.finished_at = TimeFromProto(in.finished_at());
  return out;
}

FileInfo FileInfoFromProto(const v1::FileInfo& in) {
  FileInfo out;
  out.path = in.path();
  switch (in.type()) {
    case v1::FILE_TYPE_FILE:
      out.type = FileType::kFile;
      break;
    case v1::FILE_TYPE_DIRECTORY:
      out.type = FileType::kDirectory;
      break;
    case v1::FILE_TYPE_SYMLINK:
      out.type = FileType::kSymlink;
      break;
    case v1::FILE_TYPE_OTHER:
      out.type = FileType::kOther;
      break;
    default:
      out.type = FileType::kUnknown;
  }
  out.size = in.size();
  out.modified_at = TimeFromProto(in.modified_at());
  out.created_at = TimeFromProto(in.created_at());
  out.owner = in.owner();
  out.group = in.group();
  out.mode = in.mode();
  return out;
}

absl::StatusOr<v1::CreateSandboxRequest> CreateRequestFromSpec(const std::string& image,
                                                               const SandboxSpec& spec) {
  v1::CreateSandboxRequest r;
  r.set_image(image);
  r.set_snapshot_id(spec.snapshot_id);
  r.mutable_entrypoint()->Assign(spec.entrypoint.begin(), spec.entrypoint.end());
  if (spec.timeout.has_value()) *r.mutable_timeout() = DurationToProto(*spec.timeout);
  r.set_manual_cleanup(spec.manual_cleanup);
  r.mutable_resource_limits()->insert(spec.resource.begin(), spec.resource.end());
  r.mutable_env()->insert(spec.env.begin(), spec.env.end());
  r.mutable_metadata()->insert(spec.metadata.begin(), spec.metadata.end());
  r.mutable_extensions()->insert(spec.extensions.begin(), spec.extensions.end());
  if (spec.network_policy.has_value()) {
    auto* policy = r.mutable_network_policy();
    policy->set_default_action(spec.network_policy->default_allow ? v1::NETWORK_ACTION_ALLOW
                                                                  : v1::NETWORK_ACTION_DENY);
    for (const auto& rule : spec.network_policy->egress) {
      auto* out = policy->add_egress();
      out->set_action(rule.allow ? v1::NETWORK_ACTION_ALLOW : v1::NETWORK_ACTION_DENY);
      out->set_target(rule.target);
    }
  }
  for (std::size_t i = 0; i < spec.volumes.size(); ++i) {
    const Volume& volume = spec.volumes[i];
    if (volume.host_path.empty() == volume.claim_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("volumes[", i, "] (", volume.name,
                       "): set exactly one of host_path and claim_name"));
    }
    auto* out = r.add_volumes();
    out->set_name(volume.name);
    out->set_mount_path(volume.mount_path);
    out->set_read_only(volume.read_only);
    out->set_sub_path(volume.sub_path);
    if (!volume.host_path.empty()) {
      out->mutable_host()->set_path(volume.host_path);
    } else {
      out->mutable_pvc()->set_claim_name(volume.claim_name);
      out->mutable_pvc()->set_create_if_not_exists(volume.create_if_not_exists);
      out->mutable_pvc()->set_delete_on_sandbox_termination(volume.delete_on_sandbox_termination);
    }
  }
  if (spec.ready_timeout.has_value()) {
    *r.mutable_ready_timeout() = DurationToProto(*spec.ready_timeout);
  }
  r.set_skip_health_check(spec.skip_health_check);
  if (spec.lease != Lease::kNone) {
    r.set_lease(spec.lease == Lease::kKillOnExit ? v1::LEASE_MODE_KILL_ON_EXIT
                                                 : v1::LEASE_MODE_RENEW_WHILE_ALIVE);
    // osbd cannot see its callers' pids (gRPC does not expose SO_PEERCRED), so "this process"
    // is named here.
    r.set_lease_pid(spec.lease_pid != 0 ? spec.lease_pid : static_cast<int>(::getpid()));
  }
  return r;
}

}  // namespace opensandbox::internal
