// The OpenSandbox lifecycle API over HTTP (COMPAT.md §1), mounted at /v1 and at /, plus the
// sandbox proxy /sandboxes/{id}/proxy/{port}/... (§1.5). Translates HTTP to SandboxManager calls
// and back; every error leaves as `{"code","message"}`, every response carries X-Request-ID.
#pragma once

#include <httplib.h>

#include <string>

#include "absl/status/status.h"
#include "runtime/common/http_server.h"
#include "runtime/server/agent_exchange.h"
#include "runtime/server/sandbox_manager.h"
#include "runtime/server/snapshot_manager.h"

namespace osb::runtime {

class LifecycleApi {
 public:
  // `api_key`: required in OPEN-SANDBOX-API-KEY on every route but /health and the proxy; empty
  // disables the check (as the official server does without a configured key).
  LifecycleApi(SandboxManager& sandboxes, SnapshotManager& snapshots, std::string api_key);

  HttpServer& http() { return server_; }

 private:
  // The API key check: false, after answering 401, when it fails.
  bool Authorized(const httplib::Request& req, httplib::Response& res) const;
  // `handler` behind the API key check. Requests with a body are checked there, once httplib has
  // read the body; the others before routing.
  httplib::Server::Handler Guard(httplib::Server::Handler handler);

  void CreateSandbox(const httplib::Request& req, httplib::Response& res);
  void ListSandboxes(const httplib::Request& req, httplib::Response& res);
  void CreateSnapshot(const httplib::Request& req, httplib::Response& res);
  void ListSnapshots(const httplib::Request& req, httplib::Response& res);
  void GetEndpoint(const httplib::Request& req, httplib::Response& res);
  // `body_reader` is set for requests whose body is streamed on (POST, PUT, PATCH with one).
  void Proxy(const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* body_reader);
  // Port 18080 of a sandbox: the egress API's /policy, answered by the runtime itself.
  void EgressApi(const std::string& id, const std::string& path, const httplib::Request& req,
                 httplib::Response& res, const httplib::ContentReader* body_reader);
  // Streams the request body to `exchange`; `gather` sends it in larger pieces (for bodies the
  // other side reads whole before it answers).
  absl::Status RelayBody(const httplib::ContentReader& reader, bool gather,
                         AgentExchange& exchange);

  SandboxManager& sandboxes_;
  SnapshotManager& snapshots_;
  std::string api_key_;
  HttpServer server_;
};

}  // namespace osb::runtime
