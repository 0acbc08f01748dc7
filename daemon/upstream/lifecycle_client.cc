#include "daemon/upstream/lifecycle_client.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/upstream/retrying_send.h"
#include "rest/error.h"
#include "rest/string_views.h"
#include "rest/time_util.h"
#include "rest/url_encode.h"

namespace osb::daemon {

void CallJson(CurlLoop& loop, HttpRequest request, Callback<nlohmann::json> done) {
  SendWithRetries(loop, std::move(request), [done = std::move(done)](HttpResult r) {
    if (!r.transport.ok()) return done(r.transport);
    if (r.status < 200 || r.status > 299) {
      absl::Status error = rest::StatusFromHttp(r.status, r.body, r.header("x-request-id"));
      if (auto after = RetryAfterOf(r); after.has_value()) rest::SetRetryAfter(error, *after);
      return done(std::move(error));
    }
    if (r.body.empty()) return done(nlohmann::json());
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded()) {
      return done(absl::DataLossError(
          absl::StrCat("the server answered ", r.status, " with a body that is not JSON")));
    }
    done(std::move(j));
  });
}

HttpRequest LifecycleClient::Request(const Origin& origin, std::string method,
                                     std::string path) const {
  HttpRequest r;
  r.method = std::move(method);
  r.url = origin.LifecycleBase() + path;
  r.timeout = origin.request_timeout;
  r.cancel = origin.cancel;
  r.ca_file = origin.ca_file;
  r.headers = origin.headers;
  r.headers.emplace_back("Accept", "application/json");
  r.headers.emplace_back("User-Agent", "osbd/0.1.0");
  if (!origin.api_key.empty()) r.headers.emplace_back("OPEN-SANDBOX-API-KEY", origin.api_key);
  return r;
}

void LifecycleClient::Create(const Origin& origin, const rest::CreateSandboxRequest& request,
                             Callback<rest::Sandbox> done) {
  HttpRequest r = Request(origin, "POST", "/sandboxes");
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = rest::ToJson(request).dump();
  CallJson(loop_, std::move(r), [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
    if (!j.ok()) return done(j.status());
    done(rest::ParseSandbox(*j));
  });
}

void LifecycleClient::Get(const Origin& origin, const std::string& id,
                          Callback<rest::Sandbox> done) {
  CallJson(loop_, Request(origin, "GET", "/sandboxes/" + id),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
             if (!j.ok()) return done(j.status());
             done(rest::ParseSandbox(*j));
           });
}

void LifecycleClient::Delete(const Origin& origin, const std::string& id,
                             std::function<void(absl::Status)> done) {
  CallJson(loop_, Request(origin, "DELETE", "/sandboxes/" + id),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) { done(j.status()); });
}

void LifecycleClient::List(const Origin& origin, const std::vector<std::string>& states,
                           const std::map<std::string, std::string>& metadata, int page,
                           int page_size, Callback<rest::ListSandboxesResponse> done) {
  std::string query;
  auto add = [&query](absl::string_view name, absl::string_view value) {
    absl::StrAppend(&query, query.empty() ? "?" : "&", name, "=",
                    rest::UrlEncode(rest::StdView(value)));
  };
  for (const auto& state : states) add("state", state);
  if (!metadata.empty()) {
    std::string pairs;
    for (const auto& [k, v] : metadata)
      absl::StrAppend(&pairs, pairs.empty() ? "" : "&", k, "=", v);
    add("metadata", pairs);
  }
  if (page > 0) add("page", absl::StrCat(page));
  if (page_size > 0) add("pageSize", absl::StrCat(page_size));
  CallJson(loop_, Request(origin, "GET", "/sandboxes" + query),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
             if (!j.ok()) return done(j.status());
             done(rest::ParseListSandboxesResponse(*j));
           });
}

void LifecycleClient::CreateSnapshot(const Origin& origin, const std::string& sandbox_id,
                                     const std::string& name, Callback<rest::Snapshot> done) {
  HttpRequest r = Request(origin, "POST", "/sandboxes/" + sandbox_id + "/snapshots");
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = name.empty() ? "{}" : nlohmann::json{{"name", name}}.dump();
  CallJson(loop_, std::move(r), [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
    if (!j.ok()) return done(j.status());
    done(rest::ParseSnapshot(*j));
  });
}

void LifecycleClient::GetSnapshot(const Origin& origin, const std::string& id,
                                  Callback<rest::Snapshot> done) {
  CallJson(loop_, Request(origin, "GET", "/snapshots/" + rest::UrlEncode(id)),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
             if (!j.ok()) return done(j.status());
             done(rest::ParseSnapshot(*j));
           });
}

void LifecycleClient::ListSnapshots(const Origin& origin, const std::string& sandbox_id,
                                    const std::vector<std::string>& states, int page,
                                    int page_size, Callback<rest::ListSnapshotsResponse> done) {
  std::string query;
  auto add = [&query](absl::string_view name, absl::string_view value) {
    absl::StrAppend(&query, query.empty() ? "?" : "&", name, "=",
                    rest::UrlEncode(rest::StdView(value)));
  };
  if (!sandbox_id.empty()) add("sandboxId", sandbox_id);
  for (const auto& state : states) add("state", state);
  if (page > 0) add("page", absl::StrCat(page));
  if (page_size > 0) add("pageSize", absl::StrCat(page_size));
  CallJson(loop_, Request(origin, "GET", "/snapshots" + query),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
             if (!j.ok()) return done(j.status());
             done(rest::ParseListSnapshotsResponse(*j));
           });
}

void LifecycleClient::DeleteSnapshot(const Origin& origin, const std::string& id,
                                     std::function<void(absl::Status)> done) {
  CallJson(loop_, Request(origin, "DELETE", "/snapshots/" + rest::UrlEncode(id)),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) { done(j.status()); });
}

void LifecycleClient::Pause(const Origin& origin, const std::string& id,
                            std::function<void(absl::Status)> done) {
  CallJson(loop_, Request(origin, "POST", "/sandboxes/" + id + "/pause"),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) { done(j.status()); });
}

void LifecycleClient::Resume(const Origin& origin, const std::string& id,
                             std::function<void(absl::Status)> done) {
  CallJson(loop_, Request(origin, "POST", "/sandboxes/" + id + "/resume"),
           [done = std::move(done)](absl::StatusOr<nlohmann::json> j) { done(j.status()); });
}

void LifecycleClient::Renew(const Origin& origin, const std::string& id, absl::Time expires_at,
                            Callback<std::string> done) {
  HttpRequest r = Request(origin, "POST", "/sandboxes/" + id + "/renew-expiration");
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = nlohmann::json{{"expiresAt", rest::FormatRfc3339(expires_at)}}.dump();
  CallJson(loop_, std::move(r), [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
    if (!j.ok()) return done(j.status());
    if (!j->is_object() || !(*j)["expiresAt"].is_string()) {
      return done(absl::DataLossError("renew-expiration answered without expiresAt"));
    }
    done((*j)["expiresAt"].get<std::string>());
  });
}

void LifecycleClient::PatchMetadata(const Origin& origin, const std::string& id,
                                    const nlohmann::json& patch, Callback<rest::Sandbox> done) {
  HttpRequest r = Request(origin, "PATCH", "/sandboxes/" + id + "/metadata");
  r.headers.emplace_back("Content-Type", "application/merge-patch+json");
  r.body = patch.dump();
  CallJson(loop_, std::move(r), [done = std::move(done)](absl::StatusOr<nlohmann::json> j) {
    if (!j.ok()) return done(j.status());
    done(rest::ParseSandbox(*j));
  });
}

void LifecycleClient::GetEndpoint(const Origin& origin, const std::string& id, int port,
                                  Callback<ExecdEndpoint> done,
                                  std::optional<int64_t> expires_unix_seconds) {
  std::string path = absl::StrCat("/sandboxes/", id, "/endpoints/", port,
                                  "?use_server_proxy=", origin.use_server_proxy ? "true" : "false");
  if (expires_unix_seconds.has_value()) absl::StrAppend(&path, "&expires=", *expires_unix_seconds);
  CallJson(loop_, Request(origin, "GET", path),
           [done = std::move(done), protocol = origin.protocol,
            ca_file = origin.ca_file](absl::StatusOr<nlohmann::json> j) {
             if (!j.ok()) return done(j.status());
             auto endpoint = rest::ParseEndpoint(*j);
             if (!endpoint.ok()) return done(endpoint.status());
             ExecdEndpoint e;
             e.endpoint = endpoint->endpoint;
             e.ca_file = ca_file;
             // The endpoint has no scheme; tolerate servers that add one anyway.
             e.base_url = absl::StrContains(endpoint->endpoint, "://")
                              ? endpoint->endpoint
                              : absl::StrCat(protocol, "://", endpoint->endpoint);
             while (!e.base_url.empty() && e.base_url.back() == '/') e.base_url.pop_back();
             for (const auto& [k, v] : endpoint->headers) e.headers.emplace_back(k, v);
             done(std::move(e));
           });
}

}  // namespace osb::daemon
