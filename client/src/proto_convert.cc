#include "client/src/proto_convert.h"

#include <unistd.h>
#include <utility>

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

absl::Duration DurationFromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

v1::LeaseMode LeaseModeOf(Lease lease) {
  switch (lease) {
    case Lease::kKillOnExit:
      return v1::LEASE_MODE_KILL_ON_EXIT;
    case Lease::kRenewWhileAlive:
      return v1::LEASE_MODE_RENEW_WHILE_ALIVE;
    default:
      return v1::LEASE_MODE_UNSPECIFIED;
  }
}

int LeaseHolder(int pid) { return pid != 0 ? pid : static_cast<int>(::getpid()); }

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

namespace {

// Copies a list's pagination into a page (SandboxPage, SnapshotPage).
template <typename Page>
void CopyPagination(const v1::Pagination& in, Page* out) {
  out->page = in.page();
  out->page_size = in.page_size();
  out->total_items = in.total_items();
  out->total_pages = in.total_pages();
  out->has_next_page = in.has_next_page();
}

}  // namespace

SandboxPage SandboxPageFromProto(const v1::ListSandboxesResponse& in) {
  SandboxPage out;
  for (const auto& sandbox : in.sandboxes()) out.sandboxes.push_back(SandboxInfoFromProto(sandbox));
  CopyPagination(in.pagination(), &out);
  return out;
}

SnapshotInfo SnapshotInfoFromProto(const v1::Snapshot& in) {
  SnapshotInfo out;
  out.id = in.id();
  out.sandbox_id = in.sandbox_id();
  out.name = in.name();
  out.status = {in.status().state(), in.status().reason(), in.status().message()};
  out.created_at = TimeFromProto(in.created_at());
  return out;
}

SnapshotPage SnapshotPageFromProto(const v1::ListSnapshotsResponse& in) {
  SnapshotPage out;
  for (const auto& s : in.snapshots()) out.snapshots.push_back(SnapshotInfoFromProto(s));
  CopyPagination(in.pagination(), &out);
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

namespace {

// `check` as osbd's message; InvalidArgument, before anything is sent, for what osbd would refuse
// or what the message could not carry.
absl::StatusOr<v1::HealthCheck> HealthCheckToProto(const HealthCheck& check) {
  if ((check.command.empty() ? 0 : 1) + (check.http_port != 0 ? 1 : 0) +
          (check.tcp_port != 0 ? 1 : 0) >
      1) {
    return absl::InvalidArgumentError(
        "health_check: set at most one of command, http_port and tcp_port");
  }
  for (const auto& [name, port] : {std::pair{"http_port", check.http_port},
                                   std::pair{"tcp_port", check.tcp_port}}) {
    if (port < 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("health_check.", name, " ", port, " is not in 1..65535"));
    }
  }
  // What belongs to an HTTP probe is refused without one, never dropped in silence.
  if (check.http_port == 0 && (!check.expected_status.empty() || check.http_path != "/")) {
    return absl::InvalidArgumentError(
        "health_check: http_path and expected_status need http_port");
  }
  for (int status : check.expected_status) {
    if (status < 100 || status > 599) {
      return absl::InvalidArgumentError(
          absl::StrCat("health_check.expected_status ", status, " is not in 100..599"));
    }
  }
  const bool bad_interval =
      check.polling_interval.has_value() && *check.polling_interval <= absl::ZeroDuration();
  if (check.initial_delay < absl::ZeroDuration() ||
      check.command_timeout <= absl::ZeroDuration() || bad_interval) {
    return absl::InvalidArgumentError(
        "health_check: initial_delay must not be negative, command_timeout and "
        "polling_interval must be positive");
  }
  v1::HealthCheck out;
  if (check.polling_interval.has_value()) {
    *out.mutable_polling_interval() = DurationToProto(*check.polling_interval);
  }
  if (check.initial_delay > absl::ZeroDuration()) {
    *out.mutable_initial_delay() = DurationToProto(check.initial_delay);
  }
  if (!check.command.empty()) {
    out.mutable_command()->set_command(check.command);
    *out.mutable_command()->mutable_timeout() = DurationToProto(check.command_timeout);
  } else if (check.http_port != 0) {
    out.mutable_http()->set_port(static_cast<std::uint32_t>(check.http_port));
    out.mutable_http()->set_path(check.http_path);
    for (int status : check.expected_status) {
      out.mutable_http()->add_expected_status(static_cast<std::uint32_t>(status));
    }
  } else if (check.tcp_port != 0) {
    out.mutable_tcp()->set_port(static_cast<std::uint32_t>(check.tcp_port));
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::CreateSandboxRequest> CreateRequestFromSpec(const std::string& image,
                                                               const SandboxSpec& spec) {
  v1::CreateSandboxRequest r;
  r.set_image(image);
  r.set_snapshot_id(spec.snapshot_id);
  r.set_template_(spec.template_name);
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
  r.set_credential_proxy(spec.credential_proxy);
  r.set_secure_access(spec.secure_access);
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
  if (spec.health_check.has_value()) {
    auto check = HealthCheckToProto(*spec.health_check);
    if (!check.ok()) return check.status();
    *r.mutable_health_check() = *std::move(check);
  }
  r.set_skip_health_check(spec.skip_health_check);
  if (spec.lease != Lease::kNone) {
    r.set_lease(LeaseModeOf(spec.lease));
    r.set_lease_pid(LeaseHolder(spec.lease_pid));
  }
  return r;
}

absl::StatusOr<v1::Template> TemplateFromSpec(const std::string& name,
                                              const std::string& description,
                                              const std::string& image, const SandboxSpec& spec) {
  if (spec.health_check.has_value()) {
    return absl::InvalidArgumentError(
        "a template keeps no health check: give it to Sandbox::Create instead");
  }
  SandboxSpec own = spec;
  own.template_name.clear();
  own.lease = Lease::kNone;
  auto r = CreateRequestFromSpec(image, own);
  if (!r.ok()) return r.status();
  v1::Template t;
  t.set_name(name);
  t.set_description(description);
  t.set_image(r->image());
  t.set_snapshot_id(r->snapshot_id());
  *t.mutable_entrypoint() = r->entrypoint();
  if (r->has_timeout()) *t.mutable_timeout() = r->timeout();
  t.set_manual_cleanup(r->manual_cleanup());
  *t.mutable_resource_limits() = r->resource_limits();
  *t.mutable_env() = r->env();
  *t.mutable_metadata() = r->metadata();
  if (r->has_network_policy()) *t.mutable_network_policy() = r->network_policy();
  t.set_credential_proxy(r->credential_proxy());
  t.set_secure_access(r->secure_access());
  *t.mutable_volumes() = r->volumes();
  *t.mutable_extensions() = r->extensions();
  if (r->has_ready_timeout()) *t.mutable_ready_timeout() = r->ready_timeout();
  t.set_skip_health_check(r->skip_health_check());
  return t;
}

SandboxSpec SpecFromTemplate(const v1::Template& in) {
  SandboxSpec out;
  out.entrypoint.assign(in.entrypoint().begin(), in.entrypoint().end());
  if (in.has_timeout()) out.timeout = DurationFromProto(in.timeout());
  out.manual_cleanup = in.manual_cleanup();
  out.resource.insert(in.resource_limits().begin(), in.resource_limits().end());
  out.env.insert(in.env().begin(), in.env().end());
  out.metadata.insert(in.metadata().begin(), in.metadata().end());
  if (in.has_network_policy()) {
    NetworkPolicy policy;
    policy.default_allow = in.network_policy().default_action() == v1::NETWORK_ACTION_ALLOW;
    for (const auto& rule : in.network_policy().egress()) {
      policy.egress.push_back({rule.action() == v1::NETWORK_ACTION_ALLOW, rule.target()});
    }
    out.network_policy = std::move(policy);
  }
  out.credential_proxy = in.credential_proxy();
  out.secure_access = in.secure_access();
  for (const auto& v : in.volumes()) {
    Volume volume;
    volume.name = v.name();
    volume.mount_path = v.mount_path();
    volume.read_only = v.read_only();
    volume.sub_path = v.sub_path();
    volume.host_path = v.host().path();
    volume.claim_name = v.pvc().claim_name();
    volume.create_if_not_exists =
        !v.pvc().has_create_if_not_exists() || v.pvc().create_if_not_exists();
    volume.delete_on_sandbox_termination = v.pvc().delete_on_sandbox_termination();
    out.volumes.push_back(std::move(volume));
  }
  out.extensions.insert(in.extensions().begin(), in.extensions().end());
  out.snapshot_id = in.snapshot_id();
  if (in.has_ready_timeout()) out.ready_timeout = DurationFromProto(in.ready_timeout());
  out.skip_health_check = in.skip_health_check();
  return out;
}

}  // namespace opensandbox::internal
