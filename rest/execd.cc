#include "rest/execd.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/json_fields.h"
#include "rest/string_views.h"

namespace rest {
namespace {

using Json = nlohmann::json;
using internal::ExpectObject;
using internal::FindField;
using internal::MissingField;
using internal::NullValues;
using internal::ReadBool;
using internal::ReadInt;
using internal::ReadRequiredInt;
using internal::ReadRequiredString;
using internal::ReadString;
using internal::ReadStringArray;
using internal::ReadStringMap;
using internal::TypeError;

// The ename execd gives a command that ran and exited non-zero (COMPAT.md §2.4).
constexpr std::string_view kCommandExecError = "CommandExecError";

// How much of an unparsable event a message quotes.
constexpr std::size_t kMaxQuotedEvent = 200;

// uid and gid become uid_t/gid_t when the command is spawned; a larger value would be truncated
// there (4294967296 to 0, root), so it is refused here. The spec says int32.
absl::Status CheckId(const std::optional<int64_t>& id, std::string_view name) {
  if (!id.has_value()) return absl::OkStatus();
  if (*id < 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", AbslView(name), "' must not be negative"));
  }
  if (*id > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("'", AbslView(name), "' is out of range"));
  }
  return absl::OkStatus();
}

absl::Status ParseEventError(const Json& v, EventError* out) {
  if (!v.is_object()) return TypeError("error", "an object", v);
  EventError error;
  std::optional<std::string> ename, evalue;
  OSB_REST_RETURN_IF_ERROR(ReadString(v, "error", "ename", &ename));
  OSB_REST_RETURN_IF_ERROR(ReadString(v, "error", "evalue", &evalue));
  // Older execd sent `traceback: null` (issue #700); FindField reads it as absent.
  OSB_REST_RETURN_IF_ERROR(ReadStringArray(v, "error", "traceback", &error.traceback));
  error.ename = ename.value_or("");
  error.evalue = evalue.value_or("");
  *out = std::move(error);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Metrics> ParseMetrics(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "metrics"));
  Metrics m;
  for (auto [key, out] : {std::pair<const char*, double*>{"cpu_count", &m.cpu_count},
                          {"cpu_used_pct", &m.cpu_used_pct},
                          {"mem_total_mib", &m.mem_total_mib},
                          {"mem_used_mib", &m.mem_used_mib}}) {
    const nlohmann::json* v = FindField(j, key);
    if (v == nullptr) return MissingField(key);
    if (!v->is_number()) return TypeError(key, "a number", *v);
    *out = v->get<double>();
  }
  OSB_REST_RETURN_IF_ERROR(ReadRequiredInt(j, "", "timestamp", &m.timestamp_ms));
  return m;
}

nlohmann::json ToJson(const Metrics& m) {
  return {{"cpu_count", m.cpu_count},
          {"cpu_used_pct", m.cpu_used_pct},
          {"mem_total_mib", m.mem_total_mib},
          {"mem_used_mib", m.mem_used_mib},
          {"timestamp", m.timestamp_ms}};
}

absl::StatusOr<CreateSessionRequest> ParseCreateSessionRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "create session request"));
  std::optional<std::string> cwd;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "cwd", &cwd));
  CreateSessionRequest r;
  if (cwd.has_value() && !cwd->empty()) r.cwd = std::move(cwd);
  return r;
}

nlohmann::json ToJson(const CreateSessionRequest& r) {
  nlohmann::json j = nlohmann::json::object();
  if (r.cwd.has_value()) j["cwd"] = *r.cwd;
  return j;
}

absl::StatusOr<SessionRunRequest> ParseSessionRunRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "session run request"));
  SessionRunRequest r;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "command", &r.command));
  if (r.command.empty()) return absl::InvalidArgumentError("'command' must not be empty");
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "cwd", &r.cwd));
  if (r.cwd.has_value() && r.cwd->empty()) r.cwd.reset();
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "timeout", &r.timeout_ms));
  if (r.timeout_ms.has_value() && *r.timeout_ms < 0) {
    return absl::InvalidArgumentError("'timeout' must not be negative");
  }
  if (r.timeout_ms == 0) r.timeout_ms.reset();
  return r;
}

nlohmann::json ToJson(const SessionRunRequest& r) {
  nlohmann::json j{{"command", r.command}};
  if (r.cwd.has_value()) j["cwd"] = *r.cwd;
  if (r.timeout_ms.has_value()) j["timeout"] = *r.timeout_ms;
  return j;
}

absl::StatusOr<RunCommandRequest> ParseRunCommandRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "run command request"));
  RunCommandRequest r;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "command", &r.command));
  if (r.command.empty()) return absl::InvalidArgumentError("'command' must not be empty");
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "cwd", &r.cwd));
  // execd (Go) cannot tell "" from absent and uses its own directory for both.
  if (r.cwd.has_value() && r.cwd->empty()) r.cwd.reset();
  std::optional<bool> background;
  OSB_REST_RETURN_IF_ERROR(ReadBool(j, "", "background", &background));
  r.background = background.value_or(false);
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "timeout", &r.timeout_ms));
  if (r.timeout_ms.has_value() && *r.timeout_ms < 1) {
    return absl::InvalidArgumentError(absl::StrCat("'timeout' must be at least 1 millisecond, got ",
                                                   *r.timeout_ms, " (omit it for no limit)"));
  }
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "uid", &r.uid));
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "gid", &r.gid));
  OSB_REST_RETURN_IF_ERROR(CheckId(r.uid, "uid"));
  OSB_REST_RETURN_IF_ERROR(CheckId(r.gid, "gid"));
  if (r.gid.has_value() && !r.uid.has_value()) {
    return absl::InvalidArgumentError("'gid' requires 'uid'");
  }
  // Null values are dropped as for the lifecycle API's `env`.
  OSB_REST_RETURN_IF_ERROR(ReadStringMap(j, "", "envs", NullValues::kDrop, &r.envs));
  return r;
}

nlohmann::json ToJson(const RunCommandRequest& r) {
  Json j = Json::object();
  j["command"] = r.command;
  if (r.cwd.has_value()) j["cwd"] = *r.cwd;
  if (r.background) j["background"] = true;
  if (r.timeout_ms.has_value()) j["timeout"] = *r.timeout_ms;
  if (r.uid.has_value()) j["uid"] = *r.uid;
  if (r.gid.has_value()) j["gid"] = *r.gid;
  if (!r.envs.empty()) j["envs"] = r.envs;
  return j;
}

absl::StatusOr<ServerStreamEvent> ParseServerStreamEvent(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "event"));
  ServerStreamEvent e;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "type", &e.type));
  if (e.type.empty()) return MissingField("type");
  std::optional<std::string> text;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "text", &text));
  e.text = text.value_or("");
  std::optional<int64_t> execution_count, execution_time, timestamp;
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "execution_count", &execution_count));
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "execution_time", &execution_time));
  // Required by the Python SDK, but a client has no use for refusing an event without it.
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "timestamp", &timestamp));
  e.execution_count = execution_count.value_or(0);
  e.execution_time_ms = execution_time.value_or(0);
  e.timestamp_ms = timestamp.value_or(0);
  if (const Json* results = FindField(j, "results"); results != nullptr) {
    if (!results->is_object()) return TypeError("results", "an object", *results);
    e.results = *results;
  }
  if (const Json* error = FindField(j, "error"); error != nullptr) {
    EventError parsed;
    OSB_REST_RETURN_IF_ERROR(ParseEventError(*error, &parsed));
    e.error = std::move(parsed);
  }
  return e;
}

absl::StatusOr<ServerStreamEvent> ParseServerStreamEvent(std::string_view json_text) {
  const Json j = Json::parse(json_text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    const bool cut = json_text.size() > kMaxQuotedEvent;
    return absl::InvalidArgumentError(absl::StrCat("event is not valid JSON: '",
                                                   AbslView(json_text.substr(0, kMaxQuotedEvent)),
                                                   cut ? "...'" : "'"));
  }
  return ParseServerStreamEvent(j);
}

std::string SerializeEvent(const ServerStreamEvent& e) {
  // ordered_json keeps execd's member order (type first, timestamp last), which makes streams
  // easy to compare with the official server's by eye.
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["type"] = e.type;
  if (!e.text.empty()) j["text"] = e.text;
  if (e.execution_count != 0) j["execution_count"] = e.execution_count;
  if (e.execution_time_ms != 0) j["execution_time"] = e.execution_time_ms;
  if (e.results.has_value() && !e.results->is_null()) {
    j["results"] = nlohmann::ordered_json(*e.results);
  }
  if (e.error.has_value()) {
    // `traceback` is always an array: a null broke the Python SDK (issue #700).
    nlohmann::ordered_json traceback = nlohmann::ordered_json::array();
    for (const std::string& line : e.error->traceback) traceback.push_back(line);
    nlohmann::ordered_json error = nlohmann::ordered_json::object();
    error["ename"] = e.error->ename;
    error["evalue"] = e.error->evalue;
    error["traceback"] = std::move(traceback);
    j["error"] = std::move(error);
  }
  j["timestamp"] = e.timestamp_ms;
  // Command output is arbitrary bytes; `replace` writes U+FFFD for invalid UTF-8 instead of
  // throwing.
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<int> ExitCodeOf(const ServerStreamEvent& e) {
  if (e.type == kEventExecutionComplete) return 0;
  if (e.type != kEventError || !e.error.has_value() || e.error->ename != kCommandExecError) {
    return std::nullopt;
  }
  int code = 0;
  if (!absl::SimpleAtoi(e.error->evalue, &code)) return std::nullopt;
  return code;
}

}  // namespace rest
