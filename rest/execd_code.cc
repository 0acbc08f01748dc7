#include "rest/execd_code.h"

#include <utility>

#include "absl/status/status.h"
#include "rest/json_fields.h"

namespace rest {
namespace {

using internal::ExpectObject;
using internal::FindField;
using internal::ReadRequiredString;
using internal::ReadString;
using internal::TypeError;

void DropEmpty(std::optional<std::string>& s) {
  if (s.has_value() && s->empty()) s.reset();
}

}  // namespace

absl::StatusOr<CodeContextRequest> ParseCodeContextRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "code context request"));
  CodeContextRequest r;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "language", &r.language));
  if (r.language.empty()) return absl::InvalidArgumentError("'language' must not be empty");
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "cwd", &r.cwd));
  DropEmpty(r.cwd);
  return r;
}

nlohmann::json ToJson(const CodeContextRequest& r) {
  nlohmann::json j = {{"language", r.language}};
  if (r.cwd.has_value()) j["cwd"] = *r.cwd;
  return j;
}

absl::StatusOr<CodeContext> ParseCodeContext(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "code context"));
  CodeContext c;
  std::optional<std::string> id;
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "id", &id));
  c.id = id.value_or("");
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "language", &c.language));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "cwd", &c.cwd));
  return c;
}

nlohmann::json ToJson(const CodeContext& c) {
  nlohmann::json j = {{"id", c.id}, {"language", c.language}};
  if (c.cwd.has_value()) j["cwd"] = *c.cwd;
  return j;
}

absl::StatusOr<RunCodeRequest> ParseRunCodeRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "run code request"));
  RunCodeRequest r;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "code", &r.code));
  if (r.code.empty()) return absl::InvalidArgumentError("'code' must not be empty");
  if (const nlohmann::json* context = FindField(j, "context"); context != nullptr) {
    if (!context->is_object()) return TypeError("context", "an object", *context);
    OSB_REST_RETURN_IF_ERROR(ReadString(*context, "context", "id", &r.context_id));
    OSB_REST_RETURN_IF_ERROR(ReadString(*context, "context", "language", &r.language));
    DropEmpty(r.context_id);
    DropEmpty(r.language);
  }
  return r;
}

nlohmann::json ToJson(const RunCodeRequest& r) {
  nlohmann::json j = {{"code", r.code}};
  if (r.context_id.has_value() || r.language.has_value()) {
    nlohmann::json context = nlohmann::json::object();
    if (r.context_id.has_value()) context["id"] = *r.context_id;
    if (r.language.has_value()) context["language"] = *r.language;
    j["context"] = std::move(context);
  }
  return j;
}

}  // namespace rest
