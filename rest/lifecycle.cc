#include "rest/lifecycle.h"

#include <algorithm>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/json_fields.h"
#include "rest/string_views.h"

namespace rest {
namespace {

using Json = nlohmann::json;
using internal::ExpectObject;
using internal::FieldPath;
using internal::FindField;
using internal::MissingField;
using internal::NullValues;
using internal::ReadBool;
using internal::ReadInt;
using internal::ReadRequiredBool;
using internal::ReadRequiredInt;
using internal::ReadRequiredString;
using internal::ReadString;
using internal::ReadStringArray;
using internal::ReadStringMap;
using internal::TypeError;

// The largest `timeout`: beyond it `expiresAt` would leave RFC 3339 (year 9999) or overflow.
constexpr int64_t kMaxTimeoutSeconds = int64_t{100} * 365 * 24 * 3600 + 25 * 24 * 3600;

// The smallest `timeout` the official server accepts (pydantic `ge=60`).
constexpr int64_t kMinTimeoutSeconds = 60;

bool IsBlank(std::string_view s) { return absl::StripAsciiWhitespace(AbslView(s)).empty(); }

absl::Status ParseImageSpec(const Json& j, std::string_view path, ImageSpec* out) {
  if (!j.is_object()) return TypeError(path, "an object", j);
  ImageSpec image;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, path, "uri", &image.uri));
  if (const Json* auth = FindField(j, "auth"); auth != nullptr) {
    const std::string auth_path = FieldPath(path, "auth");
    if (!auth->is_object()) return TypeError(auth_path, "an object", *auth);
    ImageAuth credentials;
    OSB_REST_RETURN_IF_ERROR(
        ReadRequiredString(*auth, auth_path, "username", &credentials.username));
    OSB_REST_RETURN_IF_ERROR(
        ReadRequiredString(*auth, auth_path, "password", &credentials.password));
    image.auth = std::move(credentials);
  }
  *out = std::move(image);
  return absl::OkStatus();
}

// Reads the optional `image` member of `obj`, whose path is `prefix`.
absl::Status ReadImage(const Json& obj, std::string_view prefix, std::optional<ImageSpec>* out) {
  const Json* v = FindField(obj, "image");
  if (v == nullptr) return absl::OkStatus();
  ImageSpec image;
  OSB_REST_RETURN_IF_ERROR(ParseImageSpec(*v, FieldPath(prefix, "image"), &image));
  *out = std::move(image);
  return absl::OkStatus();
}

absl::Status ReadPlatform(const Json& obj, std::string_view prefix,
                          std::optional<PlatformSpec>* out) {
  const Json* v = FindField(obj, "platform");
  if (v == nullptr) return absl::OkStatus();
  const std::string path = FieldPath(prefix, "platform");
  if (!v->is_object()) return TypeError(path, "an object", *v);
  PlatformSpec platform;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(*v, path, "os", &platform.os));
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(*v, path, "arch", &platform.arch));
  *out = std::move(platform);
  return absl::OkStatus();
}

// `credentialProxy`: `{"enabled": bool}`, absent or null meaning disabled.
absl::Status ReadCredentialProxy(const Json& obj, bool* enabled) {
  const Json* v = FindField(obj, "credentialProxy");
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_object()) return TypeError("credentialProxy", "an object", *v);
  std::optional<bool> value;
  OSB_REST_RETURN_IF_ERROR(ReadBool(*v, "credentialProxy", "enabled", &value));
  *enabled = value.value_or(false);
  return absl::OkStatus();
}

// Members kept as raw JSON are still checked for their outer type, so a bad request fails here
// with the field's name rather than later in whoever interprets it.
absl::Status ReadRaw(const Json& obj, std::string_view key, bool want_array,
                     std::optional<Json>* out) {
  const Json* v = FindField(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (want_array ? !v->is_array() : !v->is_object()) {
    return TypeError(key, want_array ? "an array" : "an object", *v);
  }
  *out = *v;
  return absl::OkStatus();
}

absl::Status ParseStatus(const Json& obj, std::string_view prefix, SandboxStatus* out) {
  const std::string path = FieldPath(prefix, "status");
  const Json* v = FindField(obj, "status");
  if (v == nullptr) return MissingField(path);
  if (!v->is_object()) return TypeError(path, "an object", *v);
  SandboxStatus status;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(*v, path, "state", &status.state));
  OSB_REST_RETURN_IF_ERROR(ReadString(*v, path, "reason", &status.reason));
  OSB_REST_RETURN_IF_ERROR(ReadString(*v, path, "message", &status.message));
  OSB_REST_RETURN_IF_ERROR(ReadString(*v, path, "lastTransitionAt", &status.last_transition_at));
  *out = std::move(status);
  return absl::OkStatus();
}

// `path` names the sandbox in errors: "" at the top level, "items[3]" inside a list.
absl::Status ParseSandboxAt(const Json& j, std::string_view path, Sandbox* out) {
  Sandbox s;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, path, "id", &s.id));
  OSB_REST_RETURN_IF_ERROR(ParseStatus(j, path, &s.status));
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, path, "createdAt", &s.created_at));
  // `entrypoint` is required by the schema, but a sandbox without one is still worth showing.
  OSB_REST_RETURN_IF_ERROR(ReadStringArray(j, path, "entrypoint", &s.entrypoint));
  OSB_REST_RETURN_IF_ERROR(ReadImage(j, path, &s.image));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, path, "snapshotId", &s.snapshot_id));
  OSB_REST_RETURN_IF_ERROR(ReadPlatform(j, path, &s.platform));
  OSB_REST_RETURN_IF_ERROR(ReadStringMap(j, path, "metadata", NullValues::kReject, &s.metadata));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, path, "expiresAt", &s.expires_at));
  *out = std::move(s);
  return absl::OkStatus();
}

absl::Status ParseSnapshotAt(const Json& j, std::string_view path, Snapshot* out) {
  Snapshot s;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, path, "id", &s.id));
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, path, "sandboxId", &s.sandbox_id));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, path, "name", &s.name));
  OSB_REST_RETURN_IF_ERROR(ParseStatus(j, path, &s.status));
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, path, "createdAt", &s.created_at));
  *out = std::move(s);
  return absl::OkStatus();
}

absl::Status ParsePagination(const Json& j, PaginationInfo* out) {
  const Json* pagination = FindField(j, "pagination");
  if (pagination == nullptr) return MissingField("pagination");
  if (!pagination->is_object()) return TypeError("pagination", "an object", *pagination);
  PaginationInfo& p = *out;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredInt(*pagination, "pagination", "page", &p.page));
  OSB_REST_RETURN_IF_ERROR(ReadRequiredInt(*pagination, "pagination", "pageSize", &p.page_size));
  OSB_REST_RETURN_IF_ERROR(
      ReadRequiredInt(*pagination, "pagination", "totalItems", &p.total_items));
  OSB_REST_RETURN_IF_ERROR(
      ReadRequiredInt(*pagination, "pagination", "totalPages", &p.total_pages));
  OSB_REST_RETURN_IF_ERROR(
      ReadRequiredBool(*pagination, "pagination", "hasNextPage", &p.has_next_page));
  return absl::OkStatus();
}

Json ToJson(const PlatformSpec& p) { return Json{{"os", p.os}, {"arch", p.arch}}; }

Json ToJson(const SandboxStatus& s) {
  Json j = Json::object();
  j["state"] = s.state;
  if (s.reason.has_value()) j["reason"] = *s.reason;
  if (s.message.has_value()) j["message"] = *s.message;
  if (s.last_transition_at.has_value()) j["lastTransitionAt"] = *s.last_transition_at;
  return j;
}

}  // namespace

absl::StatusOr<CreateSandboxRequest> ParseCreateSandboxRequest(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "create sandbox request"));
  CreateSandboxRequest r;
  OSB_REST_RETURN_IF_ERROR(ReadImage(j, "", &r.image));
  OSB_REST_RETURN_IF_ERROR(ReadString(j, "", "snapshotId", &r.snapshot_id));
  OSB_REST_RETURN_IF_ERROR(ReadPlatform(j, "", &r.platform));
  OSB_REST_RETURN_IF_ERROR(ReadInt(j, "", "timeout", &r.timeout_seconds));
  OSB_REST_RETURN_IF_ERROR(
      ReadStringMap(j, "", "resourceLimits", NullValues::kReject, &r.resource_limits));
  OSB_REST_RETURN_IF_ERROR(ReadStringMap(j, "", "env", NullValues::kDrop, &r.env));
  OSB_REST_RETURN_IF_ERROR(ReadStringMap(j, "", "metadata", NullValues::kReject, &r.metadata));
  OSB_REST_RETURN_IF_ERROR(ReadStringArray(j, "", "entrypoint", &r.entrypoint));
  OSB_REST_RETURN_IF_ERROR(ReadRaw(j, "networkPolicy", /*want_array=*/false, &r.network_policy));
  OSB_REST_RETURN_IF_ERROR(ReadRaw(j, "volumes", /*want_array=*/true, &r.volumes));
  OSB_REST_RETURN_IF_ERROR(ReadStringMap(j, "", "extensions", NullValues::kReject, &r.extensions));
  std::optional<bool> secure_access;
  OSB_REST_RETURN_IF_ERROR(ReadBool(j, "", "secureAccess", &secure_access));
  r.secure_access = secure_access.value_or(false);
  OSB_REST_RETURN_IF_ERROR(ReadCredentialProxy(j, &r.credential_proxy));
  return r;
}

nlohmann::json ToJson(const CreateSandboxRequest& r) {
  Json j = Json::object();
  if (r.image.has_value()) {
    j["image"] = Json{{"uri", r.image->uri}};
    if (r.image->auth.has_value()) {
      j["image"]["auth"] =
          Json{{"username", r.image->auth->username}, {"password", r.image->auth->password}};
    }
  }
  if (r.snapshot_id.has_value()) j["snapshotId"] = *r.snapshot_id;
  if (r.platform.has_value()) j["platform"] = ToJson(*r.platform);
  // Left out for manual cleanup: the JS and Go SDKs do the same, and the server reads absent as
  // null.
  if (r.timeout_seconds.has_value()) j["timeout"] = *r.timeout_seconds;
  if (!r.resource_limits.empty()) j["resourceLimits"] = r.resource_limits;
  if (!r.env.empty()) j["env"] = r.env;
  if (!r.metadata.empty()) j["metadata"] = r.metadata;
  if (!r.entrypoint.empty()) j["entrypoint"] = r.entrypoint;
  if (r.network_policy.has_value() && !r.network_policy->is_null()) {
    j["networkPolicy"] = *r.network_policy;
  }
  if (r.volumes.has_value() && !r.volumes->is_null()) j["volumes"] = *r.volumes;
  if (!r.extensions.empty()) j["extensions"] = r.extensions;
  if (r.secure_access) j["secureAccess"] = true;
  if (r.credential_proxy) j["credentialProxy"] = Json{{"enabled", true}};
  return j;
}

absl::Status ValidateCreateSandboxRequest(const CreateSandboxRequest& r) {
  if (r.snapshot_id.has_value() && IsBlank(*r.snapshot_id)) {
    return absl::InvalidArgumentError("'snapshotId' must not be blank");
  }
  const bool has_image = r.image.has_value();
  const bool has_snapshot = r.snapshot_id.has_value();
  if (has_image == has_snapshot) {
    return absl::InvalidArgumentError(
        absl::StrCat("exactly one of 'image' and 'snapshotId' must be given, got ",
                     has_image ? "both" : "neither"));
  }
  if (has_image && IsBlank(r.image->uri)) {
    return absl::InvalidArgumentError("'image.uri' must not be empty");
  }
  if (has_image && r.entrypoint.empty()) {
    return absl::InvalidArgumentError(
        "'entrypoint' must have at least one element when 'image' is given");
  }
  if (r.timeout_seconds.has_value() && *r.timeout_seconds < kMinTimeoutSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("'timeout' must be at least ", kMinTimeoutSeconds, " seconds, got ",
                     *r.timeout_seconds, " (omit it or send null for manual cleanup)"));
  }
  if (r.credential_proxy && !r.network_policy.has_value()) {
    return absl::InvalidArgumentError("'credentialProxy' needs a 'networkPolicy'");
  }
  if (r.timeout_seconds.has_value() && *r.timeout_seconds > kMaxTimeoutSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("'timeout' must be at most ", kMaxTimeoutSeconds, " seconds (100 years), got ",
                     *r.timeout_seconds, " (omit it or send null for manual cleanup)"));
  }
  return absl::OkStatus();
}

nlohmann::json ToJson(const PaginationInfo& p) {
  return Json{{"page", p.page},
              {"pageSize", p.page_size},
              {"totalItems", p.total_items},
              {"totalPages", p.total_pages},
              {"hasNextPage", p.has_next_page}};
}

absl::StatusOr<PageWindow> Paginate(int64_t total_items, int64_t page, int64_t page_size) {
  if (page < 1) return absl::InvalidArgumentError("page must be at least 1");
  if (page_size < 1 || page_size > 200) {
    return absl::InvalidArgumentError("pageSize must be between 1 and 200");
  }
  PageWindow w;
  w.info.page = page;
  w.info.page_size = page_size;
  w.info.total_items = total_items;
  w.info.total_pages = (total_items + page_size - 1) / page_size;
  w.info.has_next_page = page < w.info.total_pages;
  // A page past the end is empty; (page - 1) * page_size would overflow for a huge page.
  w.begin = page - 1 >= w.info.total_pages ? total_items : (page - 1) * page_size;
  w.end = std::min(total_items, w.begin + page_size);
  return w;
}

absl::StatusOr<Sandbox> ParseSandbox(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "sandbox"));
  Sandbox s;
  OSB_REST_RETURN_IF_ERROR(ParseSandboxAt(j, "", &s));
  return s;
}

nlohmann::json ToJson(const Sandbox& s) {
  Json j = Json::object();
  j["id"] = s.id;
  j["status"] = ToJson(s.status);
  j["createdAt"] = s.created_at;
  j["entrypoint"] = s.entrypoint;
  // Only the uri, as the official server: registry credentials must never be echoed back.
  if (s.image.has_value()) j["image"] = Json{{"uri", s.image->uri}};
  if (s.snapshot_id.has_value()) j["snapshotId"] = *s.snapshot_id;
  if (s.platform.has_value()) j["platform"] = ToJson(*s.platform);
  if (!s.metadata.empty()) j["metadata"] = s.metadata;
  if (s.expires_at.has_value()) j["expiresAt"] = *s.expires_at;
  return j;
}

nlohmann::json ToCreateResponseJson(const Sandbox& s) {
  Json j = ToJson(s);
  j.erase("image");
  j.erase("snapshotId");
  return j;
}

absl::StatusOr<ListSandboxesResponse> ParseListSandboxesResponse(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "sandbox list"));
  ListSandboxesResponse r;
  const Json* items = FindField(j, "items");
  if (items == nullptr) return MissingField("items");
  if (!items->is_array()) return TypeError("items", "an array", *items);
  r.items.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string path = absl::StrCat("items[", i, "]");
    const Json& item = (*items)[i];
    if (!item.is_object()) return TypeError(path, "an object", item);
    Sandbox s;
    OSB_REST_RETURN_IF_ERROR(ParseSandboxAt(item, path, &s));
    r.items.push_back(std::move(s));
  }
  OSB_REST_RETURN_IF_ERROR(ParsePagination(j, &r.pagination));
  return r;
}

absl::StatusOr<Snapshot> ParseSnapshot(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "snapshot"));
  Snapshot s;
  OSB_REST_RETURN_IF_ERROR(ParseSnapshotAt(j, "", &s));
  return s;
}

nlohmann::json ToJson(const Snapshot& s) {
  Json j = {{"id", s.id},
            {"sandboxId", s.sandbox_id},
            {"status", ToJson(s.status)},
            {"createdAt", s.created_at}};
  if (s.name.has_value()) j["name"] = *s.name;
  return j;
}

absl::StatusOr<ListSnapshotsResponse> ParseListSnapshotsResponse(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "snapshot list"));
  ListSnapshotsResponse r;
  const Json* items = FindField(j, "items");
  if (items == nullptr) return MissingField("items");
  if (!items->is_array()) return TypeError("items", "an array", *items);
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string path = absl::StrCat("items[", i, "]");
    const Json& item = (*items)[i];
    if (!item.is_object()) return TypeError(path, "an object", item);
    Snapshot s;
    OSB_REST_RETURN_IF_ERROR(ParseSnapshotAt(item, path, &s));
    r.items.push_back(std::move(s));
  }
  OSB_REST_RETURN_IF_ERROR(ParsePagination(j, &r.pagination));
  return r;
}

nlohmann::json ToJson(const ListSnapshotsResponse& r) {
  Json items = Json::array();
  for (const Snapshot& s : r.items) items.push_back(ToJson(s));
  return Json{{"items", std::move(items)}, {"pagination", ToJson(r.pagination)}};
}

nlohmann::json ToJson(const ListSandboxesResponse& r) {
  Json items = Json::array();
  for (const Sandbox& s : r.items) items.push_back(ToJson(s));
  return Json{{"items", std::move(items)}, {"pagination", ToJson(r.pagination)}};
}

absl::StatusOr<Endpoint> ParseEndpoint(const nlohmann::json& j) {
  OSB_REST_RETURN_IF_ERROR(ExpectObject(j, "endpoint"));
  Endpoint e;
  OSB_REST_RETURN_IF_ERROR(ReadRequiredString(j, "", "endpoint", &e.endpoint));
  OSB_REST_RETURN_IF_ERROR(ReadStringMap(j, "", "headers", NullValues::kReject, &e.headers));
  return e;
}

nlohmann::json ToJson(const Endpoint& e) {
  Json j = Json::object();
  j["endpoint"] = e.endpoint;
  if (!e.headers.empty()) j["headers"] = e.headers;
  return j;
}

}  // namespace rest
