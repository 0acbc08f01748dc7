// The execd API (specs/execd-api.yaml, COMPAT.md §2) as C++ types with their JSON mapping,
// shared by osbd (client side) and osb-agent (server side).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rest {

// POST /command.
struct RunCommandRequest {
  // The shell text run with `bash -c`. For a request with `argv`, the parser sets it to run
  // exactly those words (`exec` + each quoted).
  std::string command;
  // An executable and its literal arguments instead of `command` (newer execd and SDKs).
  std::vector<std::string> argv;
  std::optional<std::string> cwd;
  bool background = false;
  std::optional<int64_t> timeout_ms;  // ≥ 1 when present
  std::optional<int64_t> uid;         // ≥ 0
  std::optional<int64_t> gid;         // ≥ 0, requires uid
  std::map<std::string, std::string> envs;
};

// Parses and validates: InvalidArgument naming the field for a missing or empty command (or
// neither or both of command and argv, an empty executable, NUL in argv), a wrong type,
// timeout < 1, negative ids, or gid without uid.
absl::StatusOr<RunCommandRequest> ParseRunCommandRequest(const nlohmann::json& j);
nlohmann::json ToJson(const RunCommandRequest& r);

// POST /session (the body is optional: none is an empty request).
struct CreateSessionRequest {
  std::optional<std::string> cwd;  // absent or empty: `/`
};
// InvalidArgument for a body that is not an object or a cwd that is not a string.
absl::StatusOr<CreateSessionRequest> ParseCreateSessionRequest(const nlohmann::json& j);
nlohmann::json ToJson(const CreateSessionRequest& r);

// POST /pty (the body is optional: none is an empty request).
struct CreatePtyRequest {
  std::string cwd;      // empty: `/`
  std::string command;  // empty: an interactive shell
};
// InvalidArgument for a body that is not an object or a field that is not a string.
absl::StatusOr<CreatePtyRequest> ParseCreatePtyRequest(const nlohmann::json& j);

// POST /session/{id}/run.
struct SessionRunRequest {
  std::string command;  // required, non-empty
  std::optional<std::string> cwd;
  std::optional<int64_t> timeout_ms;  // absent or 0: no limit
};
// InvalidArgument naming the field for a missing or empty command, a wrong type or a negative
// timeout.
absl::StatusOr<SessionRunRequest> ParseSessionRunRequest(const nlohmann::json& j);
nlohmann::json ToJson(const SessionRunRequest& r);

// GET /metrics, and each line of GET /metrics/watch (COMPAT.md §2.2, §2.7).
struct Metrics {
  double cpu_count = 0;     // CPUs the sandbox may use (a fraction under a CPU limit)
  double cpu_used_pct = 0;  // 0-100, of cpu_count
  double mem_total_mib = 0;
  double mem_used_mib = 0;
  int64_t timestamp_ms = 0;  // unix ms
};
// InvalidArgument naming the field when one is missing or not a number.
absl::StatusOr<Metrics> ParseMetrics(const nlohmann::json& j);
nlohmann::json ToJson(const Metrics& m);

// Event type strings, exactly as execd sends them.
inline constexpr std::string_view kEventInit = "init";
inline constexpr std::string_view kEventStatus = "status";
inline constexpr std::string_view kEventError = "error";
inline constexpr std::string_view kEventStdout = "stdout";
inline constexpr std::string_view kEventStderr = "stderr";
inline constexpr std::string_view kEventResult = "result";
inline constexpr std::string_view kEventExecutionComplete = "execution_complete";
inline constexpr std::string_view kEventExecutionCount = "execution_count";
inline constexpr std::string_view kEventPing = "ping";

struct EventError {
  std::string ename;
  std::string evalue;
  std::vector<std::string> traceback;  // always written as an array; null is read as empty
};

// One streamed event. Zero values are omitted on the wire (Go omitempty), except `timestamp`,
// which is always written; `traceback` is always an array when `error` is present.
struct ServerStreamEvent {
  std::string type;
  std::string text;
  int64_t execution_count = 0;
  int64_t execution_time_ms = 0;
  int64_t timestamp_ms = 0;
  std::optional<nlohmann::json> results;
  std::optional<EventError> error;
};

// Parses one event. InvalidArgument when `type` is missing or a field has the wrong type.
absl::StatusOr<ServerStreamEvent> ParseServerStreamEvent(const nlohmann::json& j);
absl::StatusOr<ServerStreamEvent> ParseServerStreamEvent(std::string_view json_text);
// A std::string or a literal converts to both nlohmann::json and std::string_view, which would
// make a call ambiguous; these pick the text overload.
inline absl::StatusOr<ServerStreamEvent> ParseServerStreamEvent(const std::string& json_text) {
  return ParseServerStreamEvent(std::string_view(json_text));
}
inline absl::StatusOr<ServerStreamEvent> ParseServerStreamEvent(const char* json_text) {
  return ParseServerStreamEvent(std::string_view(json_text));
}

// The compact JSON text of an event. Text that is not valid UTF-8 is written with each invalid
// byte replaced by U+FFFD, so encoding never fails. The text never contains a line break (they
// are escaped), so it is framed as an event by appending a blank line.
std::string SerializeEvent(const ServerStreamEvent& e);

// The event as it goes on the wire: its JSON and a blank line (execd's framing, COMPAT.md §2.3).
std::string FrameEvent(const ServerStreamEvent& e);

// Appends what FrameEvent writes for {type, text, timestamp} with nothing else set: the hot path
// of streamed output, which builds no event.
void AppendOutputEvent(std::string_view type, std::string_view text, int64_t timestamp_ms,
                       std::string* out);

// Exit code of a terminal event: 0 for execution_complete, the decimal `evalue` of a
// CommandExecError, nullopt otherwise (including non-numeric evalue).
std::optional<int> ExitCodeOf(const ServerStreamEvent& e);

}  // namespace rest
