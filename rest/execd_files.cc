#include "rest/execd_files.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rest/json_fields.h"
#include "rest/string_views.h"
#include "rest/time_util.h"

namespace rest {
namespace {

using Json = nlohmann::json;
using internal::ExpectObject;
using internal::FieldPath;
using internal::ReadBool;
using internal::ReadInt;
using internal::ReadRequiredString;
using internal::ReadString;
using internal::TypeError;

absl::Status ReadMode(const Json& obj, std::string_view prefix, std::optional<uint32_t>* out) {
  std::optional<int64_t> digits;
  OSB_REST_RETURN_IF_ERROR(ReadInt(obj, prefix, "mode", &digits));
  if (!digits.has_value()) return absl::OkStatus();
  auto mode = ModeFromOctalDigits(*digits);
  if (!mode.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AbslView(FieldPath(prefix, "mode")), "': ", mode.status().message()));
  }
  *out = *mode;
  return absl::OkStatus();
}

absl::Status ReadTime(const Json& obj, std::string_view key, absl::Time* out) {
  std::optional<std::string> text;
  OSB_REST_RETURN_IF_ERROR(ReadString(obj, "", key, &text));
  if (!text.has_value()) return absl::OkStatus();
  auto t = ParseRfc3339(*text);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AbslView(key), "': ", t.status().message()));
  }
  *out = *t;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint32_t> ModeFromOctalDigits(int64_t digits) {
  if (digits < 0 || digits > 7777) {
    return absl::InvalidArgumentError(
        absl::StrCat("mode ", digits, " is not an octal permission such as 755"));
  }
  uint32_t mode = 0;
  int shift = 0;
  for (int64_t rest = digits; rest > 0; rest /= 10, shift += 3) {
    int64_t d = rest % 10;
    if (d > 7) {
      return absl::InvalidArgumentError(
          absl::StrCat("mode ", digits, " has the digit ", d, ", which is not octal"));
    }
    mode |= static_cast<uint32_t>(d) << shift;
  }
  return mode;
}

int64_t OctalDigitsFromMode(uint32_t mode) {
  mode &= 07777;
  int64_t digits = 0;
  for (int64_t place = 1; mode != 0; mode >>= 3, place *= 10) digits += (mode & 7) * place;
  return digits;
}

Json ToJson(const FileInfo& f) {
  return Json{{"path", f.path},
              {"type", f.type},
              {"size", f.size},
              {"modified_at", FormatRfc3339(f.modified_at)},
              {"created_at", FormatRfc3339(f.created_at)},
              {"owner", f.owner},
              {"group", f.group},
              {"mode", OctalDigitsFromMode(f.mode)}};
}

absl::StatusOr<FileInfo> ParseFileInfo(const Json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "file info"));
  FileInfo f;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "path", &f.path));
  std::optional<std::string> type, owner, group;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "type", &type));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "owner", &owner));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "group", &group));
  f.type = type.value_or("file");
  f.owner = owner.value_or("");
  f.group = group.value_or("");
  std::optional<int64_t> size;
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "size", &size));
  f.size = size.value_or(0);
  std::optional<uint32_t> mode;
  OSB_REST_RETURN_IF_ERROR(ReadMode(j, "", &mode));
  f.mode = mode.value_or(0);
  OSB_REST_RETURN_IF_ERROR(ReadTime(j, "modified_at", &f.modified_at));
  OSB_REST_RETURN_IF_ERROR(ReadTime(j, "created_at", &f.created_at));
  return f;
}

Json ToJson(const Permission& p) {
  Json j{{"mode", OctalDigitsFromMode(p.mode)}};
  if (p.owner.has_value()) j["owner"] = *p.owner;
  if (p.group.has_value()) j["group"] = *p.group;
  return j;
}

absl::StatusOr<std::vector<std::pair<std::string, Permission>>> ParsePermissionMap(const Json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "request body"));
  std::vector<std::pair<std::string, Permission>> out;
  for (const auto& [path, value] : j.items()) {
    if (!value.is_object()) return TypeError(path, "an object", value);
    Permission p;
    OSB_REST_RETURN_IF_ERROR(ReadString(value, path, "owner", &p.owner));
    OSB_REST_RETURN_IF_ERROR(ReadString(value, path, "group", &p.group));
    std::optional<uint32_t> mode;
    OSB_REST_RETURN_IF_ERROR(ReadMode(value, path, &mode));
    p.mode = mode.value_or(0);
    out.emplace_back(path, std::move(p));
  }
  return out;
}

Json ToJson(const FileMetadata& m) {
  Json j{{"path", m.path}};
  if (m.owner.has_value()) j["owner"] = *m.owner;
  if (m.group.has_value()) j["group"] = *m.group;
  if (m.mode.has_value()) j["mode"] = OctalDigitsFromMode(*m.mode);
  return j;
}

absl::StatusOr<FileMetadata> ParseFileMetadata(const Json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "file metadata"));
  FileMetadata m;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "path", &m.path));
  if (m.path.empty()) return absl::InvalidArgumentError("'path' must not be empty");
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "owner", &m.owner));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "group", &m.group));
  OSB_REST_RETURN_IF_ERROR(ReadMode(j, "", &m.mode));
  return m;
}

absl::StatusOr<std::vector<FileMove>> ParseMoveRequest(const Json& j) {
  if (!j.is_array()) return TypeError("request body", "an array of {src, dest}", j);
  std::vector<FileMove> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    std::string prefix = absl::StrCat("[", i, "]");
    if (!j[i].is_object()) return TypeError(prefix, "an object", j[i]);
    FileMove m;
    OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j[i], prefix, "src", &m.src));
    OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j[i], prefix, "dest", &m.dest));
    if (m.src.empty() || m.dest.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", prefix, "': src and dest must not be empty"));
    }
    out.push_back(std::move(m));
  }
  return out;
}

Json ToJson(const std::vector<FileMove>& moves) {
  Json j = Json::array();
  for (const auto& m : moves) j.push_back({{"src", m.src}, {"dest", m.dest}});
  return j;
}

absl::StatusOr<std::vector<std::pair<std::string, Replacement>>> ParseReplaceRequest(
    const Json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "request body"));
  std::vector<std::pair<std::string, Replacement>> out;
  for (const auto& [path, value] : j.items()) {
    if (!value.is_object()) return TypeError(path, "an object", value);
    Replacement r;
    OSB_REST_RETURN_IF_ERROR(ReadRequiredString(value, path, "old", &r.old_text));
    std::optional<std::string> new_text;
    OSB_REST_RETURN_IF_ERROR(ReadString(value, path, "new", &new_text));
    r.new_text = new_text.value_or("");
    if (r.old_text.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("'", path, ".old' must not be empty"));
    }
    out.emplace_back(path, std::move(r));
  }
  return out;
}

Json ToJson(const CommandStatus& s) {
  Json j{{"id", s.id},
         {"content", s.content},
         {"running", s.running},
         {"started_at", FormatRfc3339(s.started_at)}};
  if (s.exit_code.has_value()) j["exit_code"] = *s.exit_code;
  if (!s.error.empty()) j["error"] = s.error;
  if (s.finished_at.has_value()) j["finished_at"] = FormatRfc3339(*s.finished_at);
  return j;
}

absl::StatusOr<CommandStatus> ParseCommandStatus(const Json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "command status"));
  CommandStatus s;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "id", &s.id));
  std::optional<std::string> content, error;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "content", &content));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "error", &error));
  s.content = content.value_or("");
  s.error = error.value_or("");
  std::optional<bool> running;
  OSB_REST_RETURN_IF_ERROR(ReadBool(j, "", "running", &running));
  s.running = running.value_or(false);
  std::optional<int64_t> exit_code;
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "exit_code", &exit_code));
  if (exit_code.has_value()) s.exit_code = static_cast<int>(*exit_code);
  OSB_REST_RETURN_IF_ERROR(ReadTime(j, "started_at", &s.started_at));
  if (internal::FindField(j, "finished_at") != nullptr) {
    absl::Time finished;
    OSB_REST_RETURN_IF_ERROR(ReadTime(j, "finished_at", &finished));
    s.finished_at = finished;
  }
  return s;
}

}  // namespace rest
