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
#include "rest/event_scan.h"
#include "rest/json_fields.h"
#include "rest/shell_quote.h"
#include "rest/string_views.h"
#include "rest/utf8.h"

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

absl::StatusOr<CreatePtyRequest> ParseCreatePtyRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "create pty session request"));
  std::optional<std::string> cwd, command;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "cwd", &cwd));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "command", &command));
  return CreatePtyRequest{.cwd = cwd.value_or(""), .command = command.value_or("")};
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
  // Exactly one of `command` (shell text) and `argv` (an executable and literal arguments, as
  // execd since its argv support takes them).
  std::optional<std::string> command;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "command", &command));
  OSB_REST_RETURN_IF_ERROR(ReadStringArray(j, "", "argv", &r.argv));
  const bool has_argv = FindField(j, "argv") != nullptr;
  if (command.has_value() == has_argv) {
    return absl::InvalidArgumentError(has_argv ? "give 'command' or 'argv', not both"
                                               : "'command' is required (or 'argv')");
  }
  if (command.has_value()) {
    if (command->empty()) return absl::InvalidArgumentError("'command' must not be empty");
    r.command = *std::move(command);
  } else {
    if (r.argv.empty() || r.argv[0].empty()) {
      return absl::InvalidArgumentError("'argv' needs a non-empty executable first");
    }
    for (const std::string& arg : r.argv) {
      if (arg.find('\0') != std::string::npos) {
        return absl::InvalidArgumentError("'argv' must not contain NUL");
      }
    }
    // Run by the same bash as a command, with every word quoted: nothing is expanded, and
    // `exec` leaves the executable itself as the process.
    r.command = "exec " + ShellJoin(r.argv);
  }
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
  if (r.argv.empty()) {
    j["command"] = r.command;
  } else {
    j["argv"] = r.argv;
  }
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
  if (auto flat = internal::ScanFlatEvent(json_text); flat.has_value()) return *std::move(flat);
  const Json j = Json::parse(json_text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    const bool cut = json_text.size() > kMaxQuotedEvent;
    return absl::InvalidArgumentError(absl::StrCat("event is not valid JSON: '",
                                                   AbslView(json_text.substr(0, kMaxQuotedEvent)),
                                                   cut ? "...'" : "'"));
  }
  return ParseServerStreamEvent(j);
}

namespace {

// `s` as a JSON string, escaped as nlohmann::json writes it (ensure_ascii off); each byte that
// is not part of well-formed UTF-8 becomes U+FFFD. Runs of plain ASCII are copied at once: this
// is the hot path of streamed command output.
void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out->append(s.data() + run, i - run);
    if (c >= 0x80) {
      const std::size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
    } else {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\b':
          out->append("\\b");
          break;
        case '\f':
          out->append("\\f");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
      }
      ++i;
    }
    run = i;
  }
  out->append(s.data() + run, i - run);
  out->push_back('"');
}

}  // namespace

void AppendOutputEvent(std::string_view type, std::string_view text, int64_t timestamp_ms,
                       std::string* out) {
  out->append("{\"type\":");
  AppendJsonString(type, out);
  if (!text.empty()) {
    out->append(",\"text\":");
    AppendJsonString(text, out);
  }
  absl::StrAppend(out, ",\"timestamp\":", timestamp_ms, "}\n\n");
}

std::string SerializeEvent(const ServerStreamEvent& e) {
  // execd's member order (type first, timestamp last), which makes streams easy to compare with
  // the official server's by eye.
  std::string out;
  out.reserve(64 + e.text.size());
  out.append("{\"type\":");
  AppendJsonString(e.type, &out);
  if (!e.text.empty()) {
    out.append(",\"text\":");
    AppendJsonString(e.text, &out);
  }
  if (e.execution_count != 0) absl::StrAppend(&out, ",\"execution_count\":", e.execution_count);
  if (e.execution_time_ms != 0) {
    absl::StrAppend(&out, ",\"execution_time\":", e.execution_time_ms);
  }
  if (e.results.has_value() && !e.results->is_null()) {
    // Arbitrary JSON: `replace` writes U+FFFD for invalid UTF-8 instead of throwing.
    out.append(",\"results\":");
    out.append(nlohmann::ordered_json(*e.results)
                   .dump(-1, ' ', /*ensure_ascii=*/false,
                         nlohmann::ordered_json::error_handler_t::replace));
  }
  if (e.error.has_value()) {
    out.append(",\"error\":{\"ename\":");
    AppendJsonString(e.error->ename, &out);
    out.append(",\"evalue\":");
    AppendJsonString(e.error->evalue, &out);
    // Always an array: a null broke the Python SDK (issue #700).
    out.append(",\"traceback\":[");
    for (std::size_t i = 0; i < e.error->traceback.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(e.error->traceback[i], &out);
    }
    out.append("]}");
  }
  absl::StrAppend(&out, ",\"timestamp\":", e.timestamp_ms, "}");
  return out;
}

std::string FrameEvent(const ServerStreamEvent& e) { return SerializeEvent(e) + "\n\n"; }

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
