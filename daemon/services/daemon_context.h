// What every osbd service shares: the upstream loop and clients, and the daemon's default
// connection. Owned by main; services hold a reference.
#pragma once

#include <grpcpp/server_context.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/call_stats.h"
#include "daemon/command_journals.h"
#include "daemon/lease_keeper.h"
#include "daemon/owner_id.h"
#include "daemon/template_store.h"
#include "daemon/upstream/curl_loop.h"
#include "daemon/upstream/endpoint_cache.h"
#include "daemon/upstream/execd_client.h"
#include "daemon/upstream/lifecycle_client.h"
#include "daemon/upstream/origin.h"
#include "opensandbox/v1/common.pb.h"

namespace osb::daemon {

class WarmPools;

struct DaemonInfo {
  std::string version = "0.1.0";
  std::string state_dir;
  // Tags what this osbd owns (owner_id.h); main sets the one kept in state_dir.
  std::string owner = NewOwnerId();
  std::string embedded_runtime_address;  // empty when a domain is configured
  std::optional<gid_t> access_group;     // its members may connect, and hold leases
  absl::Time started_at = absl::Now();
};

class DaemonContext {
 public:
  // Loads the templates and pools saved under info.state_dir (none kept on disk when it is
  // empty) and starts the pools.
  // `profiles` are the config file's named connections, each already laid over the default.
  DaemonContext(Origin default_origin, DaemonInfo info,
                std::map<std::string, Origin> profiles = {});
  // Stops the pools, then the loop (its last callbacks still find every member), then the rest.
  ~DaemonContext();

  // The request's connection over its profile (the daemon's default when it names none): a field
  // set in `connection` wins. A different domain never inherits the profile's API key.
  // InvalidArgument for an unknown profile or a malformed domain or protocol.
  // With `call`, the upstream request timeout is also cut to the call's deadline, so that a call
  // that has timed out does not leave its upstream request running; with `cancel` (a unary
  // call's: UnaryCall), a cancelled call aborts them.
  absl::StatusOr<Origin> Resolve(const opensandbox::v1::Connection& connection,
                                 const grpc::ServerContextBase* call = nullptr,
                                 std::shared_ptr<CancelToken> cancel = nullptr) const;
  // Resolve for a call about one sandbox: also InvalidArgument when `sandbox_id` is empty.
  absl::StatusOr<Origin> ResolveForSandbox(const opensandbox::v1::Connection& connection,
                                           const std::string& sandbox_id,
                                           const grpc::ServerContextBase* call = nullptr,
                                           std::shared_ptr<CancelToken> cancel = nullptr) const;

  // The execd endpoint of a sandbox, from the cache or asked of the lifecycle API (and cached).
  // `done` may run on the calling thread (cached) or on the loop thread.
  void WithExecd(const Origin& origin, const std::string& sandbox_id,
                 std::function<void(absl::StatusOr<ExecdEndpoint>)> done);

  // Deletes a sandbox (DELETE /sandboxes/{id}) after forgetting its cached endpoint; `done`, when
  // given, receives the lifecycle API's answer.
  void DeleteSandbox(const Origin& origin, const std::string& sandbox_id,
                     std::function<void(absl::Status)> done = nullptr);

  CurlLoop& loop() { return loop_; }
  LifecycleClient& lifecycle() { return lifecycle_; }
  ExecdClient& execd() { return execd_; }
  EndpointCache& endpoints() { return endpoints_; }
  LeaseKeeper& leases() { return leases_; }
  CommandJournals& journals() { return journals_; }
  CallStats& call_stats() { return call_stats_; }
  TemplateStore& templates() { return *templates_; }
  WarmPools& pools() { return *pools_; }
  const Origin& default_origin() const { return default_origin_; }
  // The config file's named connections, by name.
  const std::map<std::string, Origin>& profiles() const { return profiles_; }
  const DaemonInfo& info() const { return info_; }

 private:
  Origin default_origin_;
  std::map<std::string, Origin> profiles_;
  DaemonInfo info_;
  CurlLoop loop_;
  LifecycleClient lifecycle_;
  ExecdClient execd_;
  EndpointCache endpoints_;
  CommandJournals journals_;
  CallStats call_stats_;
  std::unique_ptr<TemplateStore> templates_;
  std::unique_ptr<WarmPools> pools_;
  LeaseKeeper leases_;  // last: stopped before the loop it calls through
};

}  // namespace osb::daemon
