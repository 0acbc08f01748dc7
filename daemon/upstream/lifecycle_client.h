// The lifecycle API (COMPAT.md §1) as asynchronous calls on the CurlLoop. Every callback runs on
// the loop thread. Errors carry the OpenSandbox code, HTTP status and request id
// (rest::StatusFromHttp); transport failures are Unavailable or DeadlineExceeded.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/upstream/curl_loop.h"
#include "daemon/upstream/origin.h"
#include "nlohmann/json.hpp"
#include "rest/lifecycle.h"

namespace osb::daemon {

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;

// One JSON exchange: a non-2xx answer becomes the error its body describes (with the server's
// Retry-After, if any: rest::RetryAfterOf); a 2xx body that is not JSON is DataLoss. An empty 2xx
// body yields null. Sent under the retry policy of retrying_send.h.
void CallJson(CurlLoop& loop, HttpRequest request, Callback<nlohmann::json> done);

class LifecycleClient {
 public:
  explicit LifecycleClient(CurlLoop& loop) : loop_(loop) {}

  void Create(const Origin& origin, const rest::CreateSandboxRequest& request,
              Callback<rest::Sandbox> done);
  void Get(const Origin& origin, const std::string& id, Callback<rest::Sandbox> done);
  void Delete(const Origin& origin, const std::string& id, std::function<void(absl::Status)> done);
  // GET /sandboxes with repeated `state`, one `metadata` parameter ("k=v&k2=v2"), page, pageSize.
  void List(const Origin& origin, const std::vector<std::string>& states,
            const std::map<std::string, std::string>& metadata, int page, int page_size,
            Callback<rest::ListSandboxesResponse> done);
  // POST /sandboxes/{id}/pause or /resume (202, no body).
  void Pause(const Origin& origin, const std::string& id, std::function<void(absl::Status)> done);
  void Resume(const Origin& origin, const std::string& id, std::function<void(absl::Status)> done);
  // POST /sandboxes/{id}/renew-expiration {"expiresAt"}: the new expiry, RFC 3339.
  void Renew(const Origin& origin, const std::string& id, absl::Time expires_at,
             Callback<std::string> done);
  // PATCH /sandboxes/{id}/metadata with a JSON merge patch (null deletes a key).
  void PatchMetadata(const Origin& origin, const std::string& id, const nlohmann::json& patch,
                     Callback<rest::Sandbox> done);
  // POST /sandboxes/{id}/snapshots {"name"} (name omitted when empty): the accepted snapshot.
  void CreateSnapshot(const Origin& origin, const std::string& sandbox_id, const std::string& name,
                      Callback<rest::Snapshot> done);
  void GetSnapshot(const Origin& origin, const std::string& id, Callback<rest::Snapshot> done);
  // GET /snapshots with `sandboxId` (when not empty), repeated `state`, page, pageSize (when > 0).
  void ListSnapshots(const Origin& origin, const std::string& sandbox_id,
                     const std::vector<std::string>& states, int page, int page_size,
                     Callback<rest::ListSnapshotsResponse> done);
  void DeleteSnapshot(const Origin& origin, const std::string& id,
                      std::function<void(absl::Status)> done);
  // GET /sandboxes/{id}/endpoints/{port}?use_server_proxy=...[&expires=...], as an execd
  // endpoint. `expires_unix_seconds` asks for a signed route valid until then (OSEP-0011).
  void GetEndpoint(const Origin& origin, const std::string& id, int port,
                   Callback<ExecdEndpoint> done,
                   std::optional<int64_t> expires_unix_seconds = std::nullopt);

 private:
  HttpRequest Request(const Origin& origin, std::string method, std::string path) const;

  CurlLoop& loop_;
};

}  // namespace osb::daemon
