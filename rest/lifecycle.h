// The OpenSandbox lifecycle API (specs/sandbox-lifecycle.yml) as C++ types with their JSON
// mapping, shared by osbd (client side) and osb-runtime (server side). Field names on the wire are
// camelCase; absent optional fields are omitted, never written as null (COMPAT.md §1.3).
//
// Parsing is strict about types and lenient about unknown fields: a field of the wrong type is
// an InvalidArgument naming the field; unknown fields are ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rest {

using StringMap = std::map<std::string, std::string>;

struct ImageAuth {
  std::string username;
  std::string password;
};

struct ImageSpec {
  std::string uri;  // required, non-empty
  std::optional<ImageAuth> auth;
};

struct PlatformSpec {
  std::string os;    // "linux" | "windows"
  std::string arch;  // "amd64" | "arm64"
};

// POST /v1/sandboxes. Exactly one of `image` and `snapshot_id` is set (validated by
// ValidateCreateSandboxRequest, not by parsing). Members the runtime does not interpret yet
// (network policy, volumes, ...) are kept as raw JSON so they can be stored and echoed.
struct CreateSandboxRequest {
  std::optional<ImageSpec> image;
  std::optional<std::string> snapshot_id;
  std::optional<PlatformSpec> platform;
  std::optional<int64_t> timeout_seconds;  // absent and null both mean manual cleanup
  StringMap resource_limits;
  StringMap env;  // null values are dropped, as the official server does
  StringMap metadata;
  std::vector<std::string> entrypoint;
  std::optional<nlohmann::json> network_policy;
  std::optional<nlohmann::json> volumes;
  StringMap extensions;
  bool secure_access = false;
  bool credential_proxy = false;  // `credentialProxy.enabled`; needs a network policy
};

absl::StatusOr<CreateSandboxRequest> ParseCreateSandboxRequest(const nlohmann::json& j);
nlohmann::json ToJson(const CreateSandboxRequest& r);

// Checks the rules the schema states in prose: exactly one of image/snapshotId, a non-empty
// image uri, entrypoint non-empty when an image is given, timeout ≥ 60 when present, a network
// policy when the credential proxy is enabled.
// InvalidArgument with a message naming the field.
absl::Status ValidateCreateSandboxRequest(const CreateSandboxRequest& r);

struct SandboxStatus {
  std::string state;  // Pending, Running, Pausing, Paused, Resuming, Stopping, Terminated, Failed
  std::optional<std::string> reason;
  std::optional<std::string> message;
  std::optional<std::string> last_transition_at;  // RFC 3339
};

// GET /v1/sandboxes/{id}, list items, PATCH result. The create response is the same object
// without image/snapshotId (ToCreateResponseJson).
struct Sandbox {
  std::string id;
  SandboxStatus status;
  std::string created_at;  // RFC 3339
  std::vector<std::string> entrypoint;
  std::optional<ImageSpec> image;
  std::optional<std::string> snapshot_id;
  std::optional<PlatformSpec> platform;
  StringMap metadata;                     // omitted from JSON when empty
  std::optional<std::string> expires_at;  // absent for manual cleanup
};

absl::StatusOr<Sandbox> ParseSandbox(const nlohmann::json& j);
nlohmann::json ToJson(const Sandbox& s);
nlohmann::json ToCreateResponseJson(const Sandbox& s);

struct PaginationInfo {
  int64_t page = 1;
  int64_t page_size = 20;
  int64_t total_items = 0;
  int64_t total_pages = 0;
  bool has_next_page = false;
};

nlohmann::json ToJson(const PaginationInfo& p);

// One page of a list of `total_items` (newest first, as the caller sorted it): the pagination
// object and the half-open range [begin, end) of the items on the page (empty past the end).
// InvalidArgument for a page below 1 or a pageSize outside 1..200.
struct PageWindow {
  PaginationInfo info;
  int64_t begin = 0;
  int64_t end = 0;
};
absl::StatusOr<PageWindow> Paginate(int64_t total_items, int64_t page, int64_t page_size);

struct ListSandboxesResponse {
  std::vector<Sandbox> items;
  PaginationInfo pagination;
};

absl::StatusOr<ListSandboxesResponse> ParseListSandboxesResponse(const nlohmann::json& j);
nlohmann::json ToJson(const ListSandboxesResponse& r);

// GET /v1/sandboxes/{id}/endpoints/{port}: `endpoint` has no scheme; `headers` must be sent on
// every request to it.
// A snapshot (COMPAT.md §1.4); its status has the sandbox status's shape (states Creating,
// Deleting, Ready, Failed).
struct Snapshot {
  std::string id;
  std::string sandbox_id;
  std::optional<std::string> name;
  SandboxStatus status;
  std::string created_at;  // RFC 3339
};

absl::StatusOr<Snapshot> ParseSnapshot(const nlohmann::json& j);
nlohmann::json ToJson(const Snapshot& s);

struct ListSnapshotsResponse {
  std::vector<Snapshot> items;
  PaginationInfo pagination;
};

absl::StatusOr<ListSnapshotsResponse> ParseListSnapshotsResponse(const nlohmann::json& j);
nlohmann::json ToJson(const ListSnapshotsResponse& r);

struct Endpoint {
  std::string endpoint;
  StringMap headers;
};

absl::StatusOr<Endpoint> ParseEndpoint(const nlohmann::json& j);
nlohmann::json ToJson(const Endpoint& e);

}  // namespace rest
