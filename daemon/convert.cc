#include "daemon/convert.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/services/field_error.h"
#include "google/protobuf/util/time_util.h"
#include "rest/time_util.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

constexpr int64_t kDefaultTimeoutSeconds = 600;
constexpr int64_t kMinTimeoutSeconds = 60;

std::string ActionName(v1::NetworkAction a) {
  return a == v1::NETWORK_ACTION_ALLOW ? "allow" : "deny";
}

nlohmann::json VolumeJson(const v1::Volume& v) {
  nlohmann::json j = {
      {"name", v.name()}, {"mountPath", v.mount_path()}, {"readOnly", v.read_only()}};
  if (!v.sub_path().empty()) j["subPath"] = v.sub_path();
  if (v.has_host()) j["host"] = {{"path", v.host().path()}};
  if (v.has_pvc()) {
    const v1::PvcVolume& p = v.pvc();
    nlohmann::json pvc = {{"claimName", p.claim_name()},
                          {"deleteOnSandboxTermination", p.delete_on_sandbox_termination()}};
    if (p.has_create_if_not_exists()) pvc["createIfNotExists"] = p.create_if_not_exists();
    if (!p.storage_class().empty()) pvc["storageClass"] = p.storage_class();
    if (!p.storage().empty()) pvc["storage"] = p.storage();
    if (p.access_modes_size() > 0) pvc["accessModes"] = p.access_modes();
    j["pvc"] = pvc;
  }
  if (v.has_ossfs()) {
    const v1::OssfsVolume& o = v.ossfs();
    j["ossfs"] = {{"bucket", o.bucket()},
                  {"endpoint", o.endpoint()},
                  {"version", o.version().empty() ? "2.0" : o.version()},
                  {"options", o.options()},
                  {"accessKeyId", o.access_key_id()},
                  {"accessKeySecret", o.access_key_secret()}};
  }
  return j;
}

google::protobuf::Timestamp ToTimestamp(const std::string& rfc3339) {
  auto t = rest::ParseRfc3339(rfc3339);
  if (!t.ok()) return {};
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*t));
}

}  // namespace

absl::Duration ToAbsl(const google::protobuf::Duration& d) {
  return absl::Milliseconds(TimeUtil::DurationToMilliseconds(d));
}

absl::StatusOr<rest::CreateSandboxRequest> ToRest(const v1::CreateSandboxRequest& in) {
  if (!in.template_().empty()) {
    return absl::InternalError("the template must be applied before the request is converted");
  }
  if (in.lease() == v1::LEASE_MODE_RENEW_WHILE_ALIVE && in.manual_cleanup()) {
    return InvalidField("lease",
                        "RENEW_WHILE_ALIVE needs a timeout to renew, not manual_cleanup");
  }
  if (in.credential_proxy() && !in.has_network_policy()) {
    return InvalidField("credential_proxy", "needs a network_policy");
  }
  if (in.image().empty() == in.snapshot_id().empty()) {
    return InvalidField("image", "or snapshot_id must be set, and not both");
  }
  rest::CreateSandboxRequest out;
  if (!in.image().empty()) {
    out.image = rest::ImageSpec{in.image(), std::nullopt};
    if (in.has_image_auth()) {
      out.image->auth = rest::ImageAuth{in.image_auth().username(), in.image_auth().password()};
    }
  } else {
    out.snapshot_id = in.snapshot_id();
  }
  if (in.has_platform())
    out.platform = rest::PlatformSpec{in.platform().os(), in.platform().arch()};
  if (in.manual_cleanup()) {
    if (in.has_timeout()) {
      return InvalidField("timeout", "cannot be combined with manual_cleanup");
    }
  } else {
    int64_t seconds =
        in.has_timeout() ? TimeUtil::DurationToSeconds(in.timeout()) : kDefaultTimeoutSeconds;
    if (seconds < kMinTimeoutSeconds) {
      return InvalidField("timeout", absl::StrCat("must be at least ", kMinTimeoutSeconds,
                                                  " s, got ", seconds, " s"));
    }
    out.timeout_seconds = seconds;
  }
  out.resource_limits = {in.resource_limits().begin(), in.resource_limits().end()};
  if (out.resource_limits.empty()) out.resource_limits = {{"cpu", "1"}, {"memory", "2Gi"}};
  out.env = {in.env().begin(), in.env().end()};
  out.metadata = {in.metadata().begin(), in.metadata().end()};
  out.entrypoint = {in.entrypoint().begin(), in.entrypoint().end()};
  if (out.entrypoint.empty()) out.entrypoint = {"tail", "-f", "/dev/null"};
  if (in.has_network_policy()) {
    nlohmann::json egress = nlohmann::json::array();
    for (const auto& rule : in.network_policy().egress()) {
      egress.push_back({{"action", ActionName(rule.action())}, {"target", rule.target()}});
    }
    out.network_policy = {{"defaultAction", ActionName(in.network_policy().default_action())},
                          {"egress", egress}};
  }
  if (in.volumes_size() > 0) {
    nlohmann::json volumes = nlohmann::json::array();
    for (const auto& v : in.volumes()) volumes.push_back(VolumeJson(v));
    out.volumes = volumes;
  }
  out.extensions = {in.extensions().begin(), in.extensions().end()};
  out.secure_access = in.secure_access();
  out.credential_proxy = in.credential_proxy();
  return out;
}

v1::Snapshot ToProto(const rest::Snapshot& in) {
  v1::Snapshot out;
  out.set_id(in.id);
  out.set_sandbox_id(in.sandbox_id);
  out.set_name(in.name.value_or(""));
  out.mutable_status()->set_state(in.status.state);
  out.mutable_status()->set_reason(in.status.reason.value_or(""));
  out.mutable_status()->set_message(in.status.message.value_or(""));
  if (in.status.last_transition_at.has_value()) {
    *out.mutable_status()->mutable_last_transition_at() =
        ToTimestamp(*in.status.last_transition_at);
  }
  *out.mutable_created_at() = ToTimestamp(in.created_at);
  return out;
}

v1::Sandbox ToProto(const rest::Sandbox& in) {
  v1::Sandbox out;
  out.set_id(in.id);
  out.mutable_status()->set_state(in.status.state);
  out.mutable_status()->set_reason(in.status.reason.value_or(""));
  out.mutable_status()->set_message(in.status.message.value_or(""));
  if (in.status.last_transition_at.has_value()) {
    *out.mutable_status()->mutable_last_transition_at() =
        ToTimestamp(*in.status.last_transition_at);
  }
  *out.mutable_created_at() = ToTimestamp(in.created_at);
  if (in.expires_at.has_value()) *out.mutable_expires_at() = ToTimestamp(*in.expires_at);
  for (const auto& e : in.entrypoint) out.add_entrypoint(e);
  if (in.image.has_value()) out.set_image(in.image->uri);
  out.set_snapshot_id(in.snapshot_id.value_or(""));
  if (in.platform.has_value()) {
    out.mutable_platform()->set_os(in.platform->os);
    out.mutable_platform()->set_arch(in.platform->arch);
  }
  out.mutable_metadata()->insert(in.metadata.begin(), in.metadata.end());
  return out;
}

namespace {

// A command's timeout in ms; InvalidArgument under 1 ms.
absl::StatusOr<int64_t> TimeoutMs(const google::protobuf::Duration& timeout) {
  int64_t ms = TimeUtil::DurationToMilliseconds(timeout);
  if (ms < 1) return InvalidField("timeout", "must be at least 1 ms");
  return ms;
}

}  // namespace

absl::StatusOr<rest::RunCommandRequest> ToRest(const v1::RunCommandRequest& in) {
  if (absl::Status s = RequiredField(in.command(), "command"); !s.ok()) return s;
  rest::RunCommandRequest out;
  out.command = in.command();
  if (!in.cwd().empty()) out.cwd = in.cwd();
  out.background = in.background();
  if (in.has_timeout()) {
    auto ms = TimeoutMs(in.timeout());
    if (!ms.ok()) return ms.status();
    out.timeout_ms = *ms;
  }
  constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
  if (in.has_uid()) {
    if (in.uid() < 0 || in.uid() > kMaxId) return InvalidField("uid", "is out of range");
    out.uid = in.uid();
  }
  if (in.has_gid()) {
    if (!in.has_uid()) return InvalidField("gid", "requires uid");
    if (in.gid() < 0 || in.gid() > kMaxId) return InvalidField("gid", "is out of range");
    out.gid = in.gid();
  }
  out.envs = {in.envs().begin(), in.envs().end()};
  return out;
}

absl::StatusOr<rest::SessionRunRequest> ToRest(const v1::RunInSessionRequest& in) {
  if (absl::Status s = RequiredField(in.session_id(), "session_id"); !s.ok()) return s;
  if (absl::Status s = RequiredField(in.command(), "command"); !s.ok()) return s;
  rest::SessionRunRequest out;
  out.command = in.command();
  if (!in.cwd().empty()) out.cwd = in.cwd();
  if (in.has_timeout()) {
    auto ms = TimeoutMs(in.timeout());
    if (!ms.ok()) return ms.status();
    out.timeout_ms = *ms;
  }
  return out;
}

std::optional<v1::CommandEvent> ToProto(const rest::ServerStreamEvent& in, uint64_t seq) {
  v1::CommandEvent out;
  out.set_seq(seq);
  *out.mutable_time() = TimeUtil::MillisecondsToTimestamp(in.timestamp_ms);
  if (in.type == rest::kEventInit) {
    out.mutable_started()->set_command_id(in.text);
  } else if (in.type == rest::kEventStdout) {
    out.mutable_stdout()->set_data(in.text);
  } else if (in.type == rest::kEventStderr) {
    out.mutable_stderr()->set_data(in.text);
  } else if (in.type == rest::kEventExecutionComplete) {
    *out.mutable_completed()->mutable_execution_time() =
        TimeUtil::MillisecondsToDuration(in.execution_time_ms);
  } else if (in.type == rest::kEventError) {
    v1::CommandFailed* failed = out.mutable_failed();
    rest::EventError error = in.error.value_or(rest::EventError{});
    failed->set_name(error.ename);
    failed->set_value(error.evalue);
    for (const auto& line : error.traceback) failed->add_traceback(line);
    if (auto code = rest::ExitCodeOf(in); code.has_value()) failed->set_exit_code(*code);
  } else {
    return std::nullopt;
  }
  return out;
}

std::optional<v1::CodeEvent> ToCodeEvent(const rest::ServerStreamEvent& in) {
  v1::CodeEvent out;
  *out.mutable_time() = TimeUtil::MillisecondsToTimestamp(in.timestamp_ms);
  if (in.type == rest::kEventInit) {
    out.mutable_started()->set_context_id(in.text);
  } else if (in.type == rest::kEventStdout) {
    out.mutable_stdout()->set_data(in.text);
  } else if (in.type == rest::kEventStderr) {
    out.mutable_stderr()->set_data(in.text);
  } else if (in.type == rest::kEventResult) {
    auto& data = *out.mutable_result()->mutable_data();
    if (in.results.has_value() && in.results->is_object()) {
      for (const auto& [mime, value] : in.results->items()) {
        data[mime] = value.is_string() ? value.get<std::string>() : value.dump();
      }
    }
  } else if (in.type == rest::kEventExecutionCount) {
    out.set_execution_count(static_cast<int32_t>(in.execution_count));
  } else if (in.type == rest::kEventStatus) {
    out.set_status(in.text);
  } else if (in.type == rest::kEventExecutionComplete) {
    *out.mutable_completed()->mutable_execution_time() =
        TimeUtil::MillisecondsToDuration(in.execution_time_ms);
  } else if (in.type == rest::kEventError) {
    v1::CodeError* error = out.mutable_error();
    rest::EventError e = in.error.value_or(rest::EventError{});
    error->set_name(e.ename);
    error->set_value(e.evalue);
    for (const auto& line : e.traceback) error->add_traceback(line);
  } else {
    return std::nullopt;
  }
  return out;
}

v1::CodeContext ToProto(const rest::CodeContext& in) {
  v1::CodeContext out;
  out.set_id(in.id);
  out.set_language(in.language);
  if (in.cwd.has_value()) out.set_cwd(*in.cwd);
  return out;
}

v1::SandboxMetrics ToProto(const rest::Metrics& in) {
  v1::SandboxMetrics out;
  out.set_cpu_count(in.cpu_count);
  out.set_cpu_used_percent(in.cpu_used_pct);
  out.set_memory_total_mib(in.mem_total_mib);
  out.set_memory_used_mib(in.mem_used_mib);
  *out.mutable_time() = TimeUtil::MillisecondsToTimestamp(in.timestamp_ms);
  return out;
}

v1::FileInfo ToProto(const rest::FileInfo& in) {
  v1::FileInfo out;
  out.set_path(in.path);
  if (in.type == "file") {
    out.set_type(v1::FILE_TYPE_FILE);
  } else if (in.type == "directory") {
    out.set_type(v1::FILE_TYPE_DIRECTORY);
  } else if (in.type == "symlink") {
    out.set_type(v1::FILE_TYPE_SYMLINK);
  } else {
    out.set_type(v1::FILE_TYPE_OTHER);
  }
  out.set_size(in.size);
  *out.mutable_modified_at() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(in.modified_at));
  *out.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(in.created_at));
  out.set_owner(in.owner);
  out.set_group(in.group);
  out.set_mode(in.mode);
  return out;
}

v1::CommandStatus ToProto(const rest::CommandStatus& in) {
  v1::CommandStatus out;
  out.set_command_id(in.id);
  out.set_command(in.content);
  out.set_running(in.running);
  if (in.exit_code.has_value()) out.set_exit_code(*in.exit_code);
  out.set_error(in.error);
  *out.mutable_started_at() = TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(in.started_at));
  if (in.finished_at.has_value()) {
    *out.mutable_finished_at() =
        TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(*in.finished_at));
  }
  return out;
}

}  // namespace osb::daemon
