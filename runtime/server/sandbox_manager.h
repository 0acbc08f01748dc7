// The sandboxes of one osb-runtime: creating them (directories, cgroup and limits, agent launch,
// readiness), their records (kept on disk, so a restarted runtime re-adopts the sandboxes that
// still run), listing, pausing and resuming, killing, expiry, and noticing agents that died.
#pragma once

#include <sys/types.h>

#include <deque>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/lifecycle.h"
#include "runtime/server/agent_launcher.h"
#include "runtime/server/cgroup_env.h"
#include "runtime/server/cgroups.h"
#include "runtime/server/dns_filter.h"
#include "runtime/server/image_table.h"
#include "runtime/server/sandbox_store.h"

namespace osb::runtime {

struct RuntimeOptions {
  std::string state_dir;     // created 0711 when missing
  std::string agent_binary;  // osb-agent
  IdMapping ids;
  absl::Duration ready_timeout = absl::Seconds(10);  // agent start → first /ping answered
  std::string cgroup_root = "/sys/fs/cgroup";
  std::vector<std::string> allowed_host_paths;  // for `host` volumes (runtime_config.h)
  std::map<std::string, std::string> images;    // the image table: image.uri → rootfs
  std::string egress_dns;  // the DNS server behind egress rules (dns_filter.h); "": the host's
  // Agents spawned ahead of need (agent_launcher.h): a create takes one instead of waiting ~20 ms
  // for the namespaces, the cgroup move and the exec. Refilled when no create is running.
  size_t spare_agents = 1;
};

// What the proxy and the endpoint route need to reach a sandbox's agent.
struct AgentTarget {
  std::string socket_path;
  std::string access_token;
  std::string state;
  pid_t agent_pid = -1;  // host pid: its network namespace is the sandbox's
  // Port 18080 is the egress API's (SandboxManager::EgressStatus), not the sandbox's own: it was
  // created with a network policy that lets something out, as the official server starts its
  // egress sidecar.
  bool egress_api = false;
};

// A snapshot's layer a new sandbox starts from (snapshot_manager.h), and what it defaults to.
struct LayerSource {
  std::string layer_dir;  // copied into the sandbox's writable layer before it starts
  std::string image_uri;
  std::vector<std::string> entrypoint;  // used when the request has none
};

struct ListQuery {
  std::vector<std::string> states;              // OR, case-insensitive; empty = all
  std::map<std::string, std::string> metadata;  // AND, exact values
  int64_t page = 1;
  int64_t page_size = 20;
};

class SandboxManager {
 public:
  // Prepares the state directory and the host base, takes back the sandboxes an earlier run left
  // (Restore), and starts the watcher (expiry, dead agents).
  static absl::StatusOr<std::unique_ptr<SandboxManager>> Start(RuntimeOptions options);
  ~SandboxManager();  // stops the watcher and discards the spare agents; sandboxes keep running

  // Stops making spare agents and kills those waiting, with their cgroups and directories: what
  // a runtime that is stopping leaves behind is its sandboxes only. Idempotent.
  void DiscardSpares();
  // Returns once the sandboxes killed so far have had their cgroups, files and records removed
  // (Kill answers before that). For a runtime that is stopping.
  void FinishReleases();

  // Validates, creates the sandbox's cgroup with its limits, launches the agent inside it and
  // waits until it answers /ping: the sandbox is Running when this returns. InvalidArgument for a
  // bad request (a malformed resourceLimits quantity or volume included; volume_plan.h has the
  // volume errors), Unimplemented for what this runtime cannot honour yet (snapshots, egress),
  // Internal/DeadlineExceeded when the sandbox cannot start (nothing of it is left behind then,
  // its cgroup included). The status message
  // says which limits are enforced and which are not, and why.
  // With `restore`, the request's snapshotId names it: the sandbox starts from its layer, image
  // and (unless the request has one) entrypoint.
  absl::StatusOr<rest::Sandbox> Create(const rest::CreateSandboxRequest& request,
                                       const LayerSource* restore = nullptr);

  // Copies a Running sandbox's writable layer into `dest` (created), with the sandbox frozen for
  // the copy when the freezer is usable, so the layer is consistent. NotFound; FailedPrecondition
  // (SNAPSHOT::INVALID_SOURCE_STATE) unless Running; Internal when the copy fails.
  absl::Status CaptureLayer(const std::string& id, const std::string& dest);

  absl::StatusOr<rest::Sandbox> Get(const std::string& id);
  absl::StatusOr<rest::ListSandboxesResponse> List(const ListQuery& query);

  // Kills every process of the sandbox (a paused one included) and forgets it: on return nothing
  // of it runs, its id is unknown and its pvc directories with deleteOnSandboxTermination are
  // gone; its cgroup, files and record are removed right after, in the background (a runtime
  // stopping first removes them, or finishes the kill when it restarts). NotFound for an
  // unknown id.
  absl::Status Kill(const std::string& id);

  // Freezes every process of a Running sandbox through the cgroup freezer: Paused on return.
  // NotFound for an unknown id; FailedPrecondition (SANDBOX::NOT_RUNNING) in any other state;
  // Unimplemented when this host gives the runtime no freezer; DeadlineExceeded when the
  // processes do not freeze in time (the sandbox is then left Running).
  absl::Status Pause(const std::string& id);

  // Thaws a Paused sandbox: Running on return. NotFound for an unknown id; FailedPrecondition
  // (SANDBOX::NOT_PAUSED) in any other state.
  absl::Status Resume(const std::string& id);

  // Moves the sandbox's expiry to `expires_at` and returns it. NotFound for an unknown id;
  // FailedPrecondition (INVALID_EXPIRATION, HTTP 409) for a sandbox created for manual cleanup,
  // which has no expiry to move; InvalidArgument (INVALID_EXPIRATION) for a time not in the
  // future.
  absl::StatusOr<absl::Time> Renew(const std::string& id, absl::Time expires_at);

  // Applies a JSON merge patch to the metadata: a string adds or replaces, null removes, an
  // absent key stays. InvalidArgument for a patch that is not an object of strings and nulls, or
  // whose entries break the label rules (rest/metadata_labels.h); nothing is changed then.
  // NotFound for an unknown id. Returns the sandbox after the patch.
  absl::StatusOr<rest::Sandbox> PatchMetadata(const std::string& id, const nlohmann::json& patch);

  absl::StatusOr<AgentTarget> Agent(const std::string& id);

  // The egress API, which osb-runtime answers itself at port 18080 of a sandbox's endpoint, as
  // the official egress sidecar does: the policy in force (PolicyStatusResponse). NotFound for
  // an unknown id.
  absl::StatusOr<nlohmann::json> EgressStatus(const std::string& id);
  // PATCH /policy (`remove` false: `body`'s rules merged in, EgressPolicy::WithRules) or DELETE
  // /policy (`body`'s targets removed); in force, through the DNS filter, on return, and kept in
  // the sandbox's record. FailedPrecondition (409) for a sandbox whose names do not resolve
  // through the filter (created without rules: its policy is fixed); InvalidArgument for a
  // malformed body, nothing changed.
  absl::StatusOr<nlohmann::json> ChangeEgress(const std::string& id, bool remove,
                                              const nlohmann::json& body);

  // The cgroups this runtime found at start, for its banner.
  const CgroupHost& cgroups() const { return *cgroups_; }
  // The network helper that gives sandboxes egress; "" when the host has none.
  const std::string& network_helper() const { return pasta_; }
  // The DNS server behind egress rules by name; "" without egress.
  std::string egress_dns() const { return dns_filter_ != nullptr ? dns_filter_->upstream() : ""; }

 private:
  struct Record;
  struct Spare;
  static nlohmann::json EgressStatusLocked(const Record& record);
  explicit SandboxManager(RuntimeOptions options);
  // The spare maker's thread: keeps options_.spare_agents spares while no create runs.
  void MakeSpares();
  // An agent in a fresh sandbox directory, namespaces and cgroup, waiting for its sandbox: kept
  // ahead of need by the spare maker, or started by a create that found none.
  absl::StatusOr<std::unique_ptr<Spare>> SpawnSpare();
  // A spare whose agent still waits, or nullptr.
  std::unique_ptr<Spare> TakeSpare();
  void Discard(Spare& spare);
  // The sandbox's directory with upper/, work/ and rootfs/, owned by the sandbox's root.
  absl::Status MakeSandboxDir(const std::string& dir);
  void Watch();
  // Re-adopts the sandboxes in the store whose agent still runs (a paused one stays paused);
  // those whose agent exited become Failed; those caught mid-create or mid-kill, and sandbox
  // directories without a record, are destroyed. Runs before anything else can see a record.
  void Restore();
  // OK when the record is in `state` and not being killed; else NotFound, or FailedPrecondition
  // with `code`. The caller holds record.transition.
  absl::Status RequireState(Record& record, std::string_view state, std::string_view code);
  // Starts the network helper of a sandbox whose policy allows egress. The caller holds
  // record.transition.
  absl::Status StartEgressFor(Record& record);
  // Has the DNS filter answer for a sandbox whose policy decides by name (nothing for others).
  absl::Status ServeNamesFor(Record& record);
  // Weighs the sandboxes' CPU share by how many there are now, up to four per core
  // (CgroupHost::WeighSandboxes), after one is added or removed. Call without mu_ held.
  void Reweigh() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes the record's current state to the store; false (and a line on stderr) if it failed.
  bool Persist(Record& record);
  std::shared_ptr<Record> Find(const std::string& id);
  // Kills the agent and waits for it (every process of the sandbox is gone then), stops
  // answering its names, stops its network helper and removes its pvc directories with
  // deleteOnSandboxTermination. The caller holds record.transition.
  void StopProcesses(Record& record);
  // After StopProcesses: removes its cgroup, directory and record.
  void Release(Record& record);
  // StopProcesses, then Release.
  void Destroy(Record& record);
  // The releaser's thread: Release for each record Kill queued, until the manager stops and the
  // queue is empty.
  void ReleaseKilled();

  RuntimeOptions options_;
  std::string base_dir_;
  std::unique_ptr<CgroupEnv> cgroup_env_;
  std::unique_ptr<CgroupHost> cgroups_;
  std::unique_ptr<SandboxStore> store_;
  std::unique_ptr<ImageTable> images_;
  std::string pasta_;  // the network helper for egress; "" when the host has none
  std::unique_ptr<DnsFilter> dns_filter_;  // with pasta: for policies that decide by name
  absl::Mutex reweigh_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // orders Reweigh's writes: the last count wins
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Record>> records_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread watcher_;
  std::vector<std::unique_ptr<Spare>> spares_ ABSL_GUARDED_BY(mu_);
  int creating_ ABSL_GUARDED_BY(mu_) = 0;  // creates running now
  bool spares_stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool spare_maker_busy_ ABSL_GUARDED_BY(mu_) = false;
  std::thread spare_maker_;
  std::once_flag spare_maker_joined_;
  std::deque<std::shared_ptr<Record>> to_release_ ABSL_GUARDED_BY(mu_);  // killed, not released
  bool releaser_stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // FinishReleases was called
  std::thread releaser_;
};

}  // namespace osb::runtime
