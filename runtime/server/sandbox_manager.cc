#include "runtime/server/sandbox_manager.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rest/error.h"
#include "rest/ids.h"
#include "rest/metadata_labels.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"
#include "rest/time_util.h"
#include "runtime/common/agent_tasks.h"
#include "runtime/common/host_base.h"
#include "runtime/server/agent_exchange.h"
#include "runtime/server/tracked_process.h"
#include "runtime/server/dns_filter.h"
#include "runtime/server/egress.h"
#include "runtime/server/egress_policy.h"
#include "runtime/server/egress_routes.h"
#include "runtime/server/resource_limits.h"
#include "runtime/server/volume_plan.h"

namespace osb::runtime {

struct SandboxManager::Record {
  std::string id;
  absl::Time created_at;
  std::optional<absl::Time> expires_at;
  std::vector<std::string> entrypoint;
  std::string image_uri;
  std::string snapshot_id;  // the snapshot it was restored from, if any
  rest::StringMap metadata;
  std::string state;
  std::string reason;
  std::string message;
  absl::Time last_transition;
  std::unique_ptr<TrackedProcess> agent;  // under the manager's mutex; none before launch
  std::string access_token;
  std::string dir;
  std::string socket_path;
  std::vector<std::string> delete_on_kill;  // pvc directories with deleteOnSandboxTermination
  EgressPolicy egress_policy;               // what may leave (egress_policy.h)
  // Its names resolve through the DNS filter: decided at create (the policy's rules disagreed
  // with its default), whatever the egress API makes of the rules later.
  bool names_filtered = false;
  std::unique_ptr<TrackedProcess> network_helper;  // under the manager's mutex, as `agent`
  bool killing = false;

  // Held while the record is written to the store, so writes land in the order of the changes.
  absl::Mutex persist;

  // Held for the whole of a create, pause, resume or kill, so they happen one at a time (a kill
  // during create waits for it); taken before the manager's mutex, never after.
  absl::Mutex transition;
  std::unique_ptr<SandboxCgroup> cgroup ABSL_GUARDED_BY(transition);  // none without cgroups
  bool frozen ABSL_GUARDED_BY(transition) = false;

  // Whether it has a network helper: it had egress at create (rules changed later through the
  // egress API may leave nothing allowed, its helper stays).
  bool HasEgress() const { return egress_policy.egress() || names_filtered; }

  // The agent's host pid; -1 before it was launched and after it was destroyed.
  pid_t AgentPid() const { return agent != nullptr ? agent->pid() : -1; }

  rest::Sandbox ToSandbox() const {
    rest::Sandbox s;
    s.id = id;
    s.status.state = state;
    if (!reason.empty()) s.status.reason = reason;
    if (!message.empty()) s.status.message = message;
    s.status.last_transition_at = rest::FormatRfc3339(last_transition);
    s.created_at = rest::FormatRfc3339(created_at);
    s.entrypoint = entrypoint;
    s.image = rest::ImageSpec{image_uri, std::nullopt};
    if (!snapshot_id.empty()) s.snapshot_id = snapshot_id;
    s.metadata = metadata;
    if (expires_at.has_value()) s.expires_at = rest::FormatRfc3339(*expires_at);
    return s;
  }

  StoredSandbox ToStored() const {
    StoredSandbox s{ToSandbox(), access_token, AgentPid(),
                    agent != nullptr ? agent->start_ticks() : 0, delete_on_kill};
    s.network_policy = egress_policy.ToJson();
    s.egress_by_name = names_filtered;
    if (HasEgress()) {
      s.egress_pid = network_helper != nullptr ? network_helper->pid() : 0;
      s.egress_start_ticks = network_helper != nullptr ? network_helper->start_ticks() : 0;
    }
    return s;
  }

  // The record of a stored sandbox; its agent and cgroup are the caller's to re-adopt.
  static absl::StatusOr<std::shared_ptr<Record>> FromStored(const StoredSandbox& stored,
                                                            const std::string& state_dir) {
    const rest::Sandbox& s = stored.sandbox;
    auto r = std::make_shared<Record>();
    r->id = s.id;
    auto created = rest::ParseRfc3339(s.created_at);
    if (!created.ok()) return created.status();
    r->created_at = *created;
    if (s.expires_at.has_value()) {
      auto expires = rest::ParseRfc3339(*s.expires_at);
      if (!expires.ok()) return expires.status();
      r->expires_at = *expires;
    }
    r->last_transition = r->created_at;
    if (s.status.last_transition_at.has_value()) {
      auto at = rest::ParseRfc3339(*s.status.last_transition_at);
      if (at.ok()) r->last_transition = *at;
    }
    r->entrypoint = s.entrypoint;
    r->image_uri = s.image.has_value() ? s.image->uri : "";
    r->snapshot_id = s.snapshot_id.value_or("");
    r->metadata = s.metadata;
    r->state = s.status.state;
    r->reason = s.status.reason.value_or("");
    r->message = s.status.message.value_or("");
    r->access_token = stored.access_token;
    r->delete_on_kill = stored.delete_on_kill;
    if (stored.network_policy.has_value()) {
      auto policy = EgressPolicy::Parse(stored.network_policy);
      if (!policy.ok()) return policy.status();
      r->egress_policy = *std::move(policy);
    } else if (stored.egress_pid >= 0) {  // a record from before policies were stored
      r->egress_policy = EgressPolicy::AllowAll();
    }
    // (Records from before the flag: the policy, unchanged since create, says.)
    r->names_filtered = stored.egress_by_name || r->egress_policy.by_name();
    r->dir = absl::StrCat(state_dir, "/sandboxes/", r->id);
    r->socket_path = r->dir + "/sock";
    return r;
  }
};

struct SandboxManager::Spare {
  std::string id;
  std::string dir;
  std::unique_ptr<SandboxCgroup> cgroup;  // none without cgroups
  std::unique_ptr<TrackedProcess> agent;
  SpawnedAgent spawned;  // its configuration pipe
};

namespace {

// The official server's code for a renew it refuses (COMPAT.md §1.6).
constexpr std::string_view kInvalidExpiration = "DOCKER::INVALID_EXPIRATION";

// A create that failed once accepted (SANDBOX::START_FAILED); a deadline stays a deadline.
absl::Status StartFailed(const absl::Status& s) {
  return rest::MakeError(
      s.code() == absl::StatusCode::kDeadlineExceeded ? absl::StatusCode::kDeadlineExceeded
                                                      : absl::StatusCode::kInternal,
      rest::kSandboxStartFailed, absl::StrCat("sandbox failed to start: ", s.message()));
}

absl::Status NotFound(const std::string& id) {
  return rest::MakeError(absl::StatusCode::kNotFound, rest::kSandboxNotFound,
                         absl::StrCat("sandbox ", id, " not found"));
}

absl::Status WrongState(const std::string& id, const std::string& state, std::string_view code,
                        std::string_view wanted) {
  return rest::MakeError(
      absl::StatusCode::kFailedPrecondition, code,
      absl::StrCat("sandbox ", id, " is ", state, ", not ", rest::AbslView(wanted)));
}

absl::Status Unsupported(absl::string_view what) {
  return rest::MakeError(absl::StatusCode::kUnimplemented, "SANDBOX::API_NOT_SUPPORTED",
                         absl::StrCat(what, " is not supported by this osb-runtime yet"));
}

// cp -a of a directory's contents into `dest` (created when missing): modes, owners, times,
// links, device nodes (overlay whiteouts) and extended attributes (overlay's opaque marks) kept.
absl::Status CopyTree(const std::string& src, const std::string& dest) {
  if (::mkdir(dest.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("mkdir " + dest, errno);
  }
  ChildResult cp = RunToCompletion({"cp", "-a", "--reflink=auto", src + "/.", dest});
  if (cp.exit_code != 0) {
    return absl::InternalError(absl::StrCat("copying ", src, " failed: ",
                                            absl::StripAsciiWhitespace(cp.err)));
  }
  return absl::OkStatus();
}

// A sandbox's agent runs as an unprivileged host id and must reach its own directory under the
// state directory, so every ancestor must let others traverse it.
absl::Status CheckTraversable(const std::string& state_dir) {
  char resolved[PATH_MAX];
  if (::realpath(state_dir.c_str(), resolved) == nullptr) {
    return ErrnoStatus("realpath " + state_dir, errno);
  }
  std::string path = resolved;
  while (!path.empty()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
    if ((st.st_mode & S_IXOTH) == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sandboxes cannot reach the state directory ", state_dir, ": ", path,
          " is not traversable by other users (chmod o+x it, or choose another --state-dir)"));
    }
    path = path.substr(0, path.rfind('/'));
  }
  return absl::OkStatus();
}

}  // namespace

SandboxManager::SandboxManager(RuntimeOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<SandboxManager>> SandboxManager::Start(RuntimeOptions options) {
  std::unique_ptr<SandboxManager> m(new SandboxManager(std::move(options)));
  const std::string& state = m->options_.state_dir;
  // 0711: the sandbox's mapped root must traverse to its own directory, and no one may list.
  for (const std::string& dir : {state, state + "/sandboxes"}) {
    if (auto s = MakeDirs(dir, 0711); !s.ok()) return s;
    if (::chmod(dir.c_str(), 0711) != 0) return ErrnoStatus("chmod " + dir, errno);
  }
  // The records hold each sandbox's access token: for the runtime's eyes only.
  if (auto s = MakeDirs(state + "/records", 0700); !s.ok()) return s;
  // Named volumes and prepared images: opened by each sandbox's agent, so traversable.
  for (const std::string& dir : {state + "/volumes", state + "/images"}) {
    if (auto s = MakeDirs(dir, 0711); !s.ok()) return s;
  }
  m->images_ = std::make_unique<ImageTable>(m->options_.images, state + "/images",
                                            m->options_.ids);
  m->store_ = std::make_unique<SandboxStore>(state + "/records");
  if (auto s = CheckTraversable(state); !s.ok()) return s;
  m->cgroup_env_ = NewRealCgroupEnv();
  CgroupOptions cgroup_options;
  cgroup_options.root = m->options_.cgroup_root;
  m->cgroups_ = CgroupHost::Detect(*m->cgroup_env_, cgroup_options);
  m->base_dir_ = state + "/base-" + std::to_string(kHostBaseVersion);
  struct stat st {};
  if (::stat(m->base_dir_.c_str(), &st) != 0) {
    if (auto s = BuildHostBase(m->base_dir_, m->options_.ids.host_uid, m->options_.ids.host_gid);
        !s.ok()) {
      return s;
    }
  }
  m->pasta_ = FindPasta();
  if (!m->pasta_.empty()) {
    auto filter = DnsFilter::Start(m->options_.egress_dns);
    if (!filter.ok()) return filter.status();
    m->dns_filter_ = *std::move(filter);
  }
  m->Restore();
  m->watcher_ = std::thread([raw = m.get()] { raw->Watch(); });
  m->spare_maker_ = std::thread([raw = m.get()] { raw->MakeSpares(); });
  m->releaser_ = std::thread([raw = m.get()] { raw->ReleaseKilled(); });
  return m;
}

SandboxManager::~SandboxManager() {
  DiscardSpares();
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
  {
    absl::MutexLock lock(&mu_);
    releaser_stopping_ = true;  // what was killed is still released before the thread ends
  }
  if (releaser_.joinable()) releaser_.join();
}

absl::Status SandboxManager::MakeSandboxDir(const std::string& dir) {
  const IdMapping& ids = options_.ids;
  for (const char* sub : {"", "/upper", "/work", "/rootfs"}) {
    std::string path = dir + sub;
    if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus("mkdir " + path, errno);
    if (::chown(path.c_str(), ids.host_uid, ids.host_gid) != 0) {
      return ErrnoStatus("chown " + path, errno);
    }
  }
  if (::chmod((dir + "/upper").c_str(), 0755) != 0) return ErrnoStatus("chmod upper", errno);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SandboxManager::Spare>> SandboxManager::SpawnSpare() {
  auto spare = std::make_unique<Spare>();
  spare->id = rest::NewUuid4();
  spare->dir = absl::StrCat(options_.state_dir, "/sandboxes/", spare->id);
  auto fail = [&](absl::Status s) {
    Discard(*spare);
    return s;
  };
  if (auto s = MakeSandboxDir(spare->dir); !s.ok()) return fail(s);
  AgentSpawn spawn{options_.agent_binary, spare->dir, spare->dir + "/agent.log", options_.ids,
                   nullptr};
  if (cgroups_->usable()) {
    auto cgroup = cgroups_->Create(spare->id);
    if (!cgroup.ok()) return fail(cgroup.status());
    spare->cgroup = std::move(*cgroup);
    spawn.before_start = [cgroup = spare->cgroup.get()](pid_t pid) {
      return cgroup->Attach(pid);
    };
  }
  auto spawned = SpawnAgent(spawn);
  if (!spawned.ok()) return fail(spawned.status());
  auto agent = TrackedProcess::Launched(spawned->pid);
  if (!agent.ok()) {
    ::kill(spawned->pid, SIGKILL);
    ::waitpid(spawned->pid, nullptr, 0);
    return fail(agent.status());
  }
  spare->agent = std::move(*agent);
  spare->spawned = *std::move(spawned);
  return spare;
}

void SandboxManager::Discard(Spare& spare) {
  if (spare.agent != nullptr) {
    spare.agent->Kill();
    spare.agent->Wait();
    spare.agent.reset();
  }
  if (spare.cgroup != nullptr) (void)spare.cgroup->Remove();
  spare.cgroup.reset();
  if (!spare.dir.empty()) (void)RemoveTree(spare.dir);
}

std::unique_ptr<SandboxManager::Spare> SandboxManager::TakeSpare() {
  while (true) {
    std::unique_ptr<Spare> spare;
    {
      absl::MutexLock lock(&mu_);
      if (spares_.empty()) return nullptr;
      spare = std::move(spares_.back());
      spares_.pop_back();
    }
    if (!spare->agent->Exited()) return spare;
    Discard(*spare);  // killed from outside meanwhile: the next one, or none
  }
}

void SandboxManager::MakeSpares() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto wanted = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return spares_stopping_ || (creating_ == 0 && spares_.size() < options_.spare_agents);
      };
      mu_.Await(absl::Condition(&wanted));
      if (spares_stopping_) return;
      spare_maker_busy_ = true;
    }
    auto spare = SpawnSpare();
    bool discard = false;
    {
      absl::MutexLock lock(&mu_);
      spare_maker_busy_ = false;
      if (spare.ok() && !spares_stopping_) {
        spares_.push_back(*std::move(spare));
      } else {
        discard = spare.ok();
      }
    }
    if (discard) Discard(**spare);
    if (!spare.ok()) {
      std::fprintf(stderr, "osb-runtime: no spare agent (creates start one each): %s\n",
                   std::string(spare.status().message()).c_str());
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&spares_stopping_), absl::Seconds(10));
    }
  }
}

void SandboxManager::DiscardSpares() {
  std::vector<std::unique_ptr<Spare>> spares;
  {
    absl::MutexLock lock(&mu_);
    spares_stopping_ = true;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !spare_maker_busy_; };
    mu_.Await(absl::Condition(&idle));
    spares.swap(spares_);
  }
  for (auto& spare : spares) Discard(*spare);
  std::call_once(spare_maker_joined_, [this] {
    if (spare_maker_.joinable()) spare_maker_.join();
  });
}

std::shared_ptr<SandboxManager::Record> SandboxManager::Find(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : it->second;
}

absl::StatusOr<rest::Sandbox> SandboxManager::Create(const rest::CreateSandboxRequest& request,
                                                     const LayerSource* restore) {
  {
    absl::MutexLock lock(&mu_);
    ++creating_;  // the spare maker waits meanwhile: it would compete for the CPU
  }
  absl::Cleanup created = [this] {
    absl::MutexLock lock(&mu_);
    --creating_;
  };
  if (auto s = rest::ValidateCreateSandboxRequest(request); !s.ok()) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidParameter,
                           rest::StdView(s.message()));
  }
  if (auto s = rest::ValidateMetadata(request.metadata); !s.ok()) return s;
  // Refused rather than ignored: a caller who asked for either must not believe it has it. 400,
  // as the official Docker server answers.
  if (request.credential_proxy) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, "SANDBOX::API_NOT_SUPPORTED",
                           "the credential-vault proxy (credentialProxy) is not supported by "
                           "osb-runtime");
  }
  if (request.secure_access) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, "SANDBOX::API_NOT_SUPPORTED",
                           "secureAccess (the Kubernetes gateway's) is not supported by "
                           "osb-runtime");
  }
  if (request.snapshot_id.has_value() && restore == nullptr) {
    return Unsupported("creating a sandbox from a snapshot without its layer");
  }
  auto limits = ParseResourceLimits(request.resource_limits);
  if (!limits.ok()) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidParameter,
                           rest::StdView(limits.status().message()));
  }

  VolumeOptions volume_options;
  volume_options.allowed_host_paths = options_.allowed_host_paths;
  volume_options.pvc_root = options_.state_dir + "/volumes";
  volume_options.owner_uid = options_.ids.host_uid;
  volume_options.owner_gid = options_.ids.host_gid;
  auto volumes = PlanVolumes(request.volumes.value_or(nlohmann::json()), volume_options);
  if (!volumes.ok()) return volumes.status();

  auto policy = EgressPolicy::Parse(request.network_policy);
  if (!policy.ok()) return policy.status();
  const bool egress = policy->egress();
  if (egress && (pasta_.empty() || dns_filter_ == nullptr)) {
    return rest::MakeError(absl::StatusCode::kUnimplemented, "SANDBOX::API_NOT_SUPPORTED",
                           "network egress needs pasta (Debian package passt), which this host "
                           "does not have: sandboxes here have loopback only");
  }
  // The image table names a root filesystem; any other image runs on the host base, and the
  // status says so.
  const std::string image_uri = restore != nullptr ? restore->image_uri
                                : request.image.has_value() ? request.image->uri
                                                            : "";
  std::optional<absl::StatusOr<std::string>> rootfs = images_->Rootfs(image_uri);
  if (rootfs.has_value() && !rootfs->ok()) return StartFailed(rootfs->status());
  // Last: the request is accepted, and only now do its pvc directories come to be.
  if (auto s = PrepareVolumes(*volumes, volume_options); !s.ok()) return StartFailed(s);

  // A spare agent already has its namespaces, cgroup and process: it needs only its sandbox.
  // Without one waiting, this create starts its own the same way.
  std::unique_ptr<Spare> spare = TakeSpare();
  if (spare == nullptr) {
    auto spawned = SpawnSpare();
    if (!spawned.ok()) return StartFailed(spawned.status());
    spare = *std::move(spawned);
  }
  auto record = std::make_shared<Record>();
  record->id = spare->id;
  record->delete_on_kill = volumes->delete_on_kill;
  record->egress_policy = *policy;
  record->names_filtered = policy->by_name();
  record->created_at = absl::Now();
  record->last_transition = record->created_at;
  if (request.timeout_seconds.has_value()) {
    record->expires_at = record->created_at + absl::Seconds(*request.timeout_seconds);
  }
  record->entrypoint = request.entrypoint;
  record->image_uri = image_uri;
  if (restore != nullptr) {
    if (record->entrypoint.empty()) record->entrypoint = restore->entrypoint;
    record->snapshot_id = request.snapshot_id.value_or("");
  }
  record->metadata = request.metadata;
  record->state = "Pending";
  record->access_token = rest::RandomHex(24);
  record->dir = absl::StrCat(options_.state_dir, "/sandboxes/", record->id);
  record->socket_path = record->dir + "/sock";
  const bool from_table = rootfs.has_value();
  record->message = absl::StrCat(
      cgroups_->Enforcement(*limits), "; network: ",
      !egress             ? "loopback only"
      : policy->by_name() ? absl::StrCat("egress through pasta, by name (default ",
                                         policy->default_allow() ? "allow" : "deny", ")")
                          : "egress through pasta",
      "; image: ",
      from_table ? "rootfs " + images_->SourceOf(record->image_uri)
                 : (record->image_uri == "host" ? std::string("host base")
                                                : absl::StrCat("host base (", record->image_uri,
                                                               " is not in the image table)")));

  const IdMapping& ids = options_.ids;
  absl::MutexLock transition(&record->transition);
  auto fail = [&](absl::Status s) {
    {
      absl::MutexLock lock(&mu_);
      record->killing = true;  // a kill that waited for this create finds nothing left to do
    }
    Destroy(*record);
    {
      absl::MutexLock lock(&mu_);
      records_.erase(record->id);
    }
    Reweigh();
    return StartFailed(s);
  };
  {
    absl::MutexLock lock(&mu_);
    records_[record->id] = record;
  }
  Reweigh();
  {
    // The record holds them now: a failure from here on destroys them with it.
    absl::MutexLock lock(&mu_);
    record->agent = std::move(spare->agent);
    record->cgroup = std::move(spare->cgroup);
  }
  if (restore != nullptr) {
    if (auto s = CopyTree(restore->layer_dir, record->dir + "/upper"); !s.ok()) return fail(s);
  }
  if (egress) {
    // The host base's resolv.conf is empty (no network); this sandbox's names resolve through
    // pasta's forwarder, or the runtime's DNS filter when names decide. Written into the
    // overlay's upper layer, so it is this sandbox's alone.
    // A restored layer may bring its own etc/ (its sandbox wrote there): a directory is used, a
    // symlink the sandbox made is refused, as this root process would write where it leads.
    const std::string etc = record->dir + "/upper/etc";
    const std::string resolv = etc + "/resolv.conf";
    struct stat st {};
    if (::mkdir(etc.c_str(), 0755) == 0) {
      if (::chown(etc.c_str(), ids.host_uid, ids.host_gid) != 0) {
        return fail(ErrnoStatus("chown " + etc, errno));
      }
    } else if (errno != EEXIST) {
      return fail(ErrnoStatus("mkdir " + etc, errno));
    } else if (::lstat(etc.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return fail(absl::FailedPreconditionError("the snapshot's /etc is not a directory"));
    }
    const std::string nameserver =
        absl::StrCat("nameserver ", policy->by_name() ? kFilterDns : kSandboxDns, "\n");
    if (auto s = WriteFileAtomic(resolv, nameserver, 0644); !s.ok()) return fail(s);
    if (::chown(resolv.c_str(), ids.host_uid, ids.host_gid) != 0) {
      return fail(ErrnoStatus("chown " + resolv, errno));
    }
  }

  AgentLaunch launch;
  launch.base_dir = from_table ? **rootfs : base_dir_;
  launch.bind_host_dirs = !from_table;
  launch.socket_path = record->socket_path;
  launch.hostname = absl::StrCat("osb-", record->id.substr(0, 8));
  launch.entrypoint = record->entrypoint;
  launch.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                "LANG=C.UTF-8", "HOSTNAME=" + launch.hostname};
  for (const auto& [k, v] : request.env) launch.env.push_back(absl::StrCat(k, "=", v));
  launch.volumes = volumes->mounts;
  if (record->cgroup != nullptr) {
    // The agent's own threads come on top, so `pids` counts the sandbox's processes and threads.
    ResourceLimits effective = *limits;
    effective.pids += kAgentTasks;
    if (auto s = record->cgroup->Apply(effective); !s.ok()) return fail(s);
    if (effective.cpu_millicores.has_value()) {
      launch.cpus = static_cast<double>(*effective.cpu_millicores) / 1000.0;
    }
    launch.memory_bytes = effective.memory_bytes;
  }
  if (auto s = ConfigureAgent(spare->spawned, launch); !s.ok()) return fail(s);
  // Recorded before it is Running, so that a runtime that dies now destroys it when it restarts.
  if (!Persist(*record)) return fail(absl::InternalError("cannot write the sandbox's record"));
  if (egress) {
    if (auto s = StartEgressFor(*record); !s.ok()) return fail(s);
  }

  const absl::Time configured = absl::Now();
  const absl::Time deadline = configured + options_.ready_timeout;
  absl::Status ping = absl::UnavailableError("not tried");
  while (absl::Now() < deadline) {
    ping = PingAgent(record->socket_path, absl::Seconds(1));
    if (ping.ok()) break;
    bool exited;
    {
      absl::MutexLock lock(&mu_);
      exited = record->agent->Exited();
    }
    if (exited) {
      auto log = ReadFile(record->dir + "/agent.log");
      return fail(absl::InternalError(
          absl::StrCat("osb-agent exited: ", log.ok() ? absl::StripAsciiWhitespace(*log) : "")));
    }
    // A failed ping costs a refused connect: the first ones come close together, for an agent
    // listens a few ms after its configuration, and every ms of a create counts.
    absl::SleepFor(absl::Now() - configured < absl::Milliseconds(100) ? absl::Microseconds(200)
                                                                       : absl::Milliseconds(2));
  }
  if (!ping.ok()) {
    return fail(absl::DeadlineExceededError(
        absl::StrCat("osb-agent did not answer within ",
                     absl::FormatDuration(options_.ready_timeout), ": ", ping.message())));
  }
  {
    absl::MutexLock lock(&mu_);
    record->state = "Running";
    record->reason = "SANDBOX_RUNNING";
    record->last_transition = absl::Now();
  }
  if (!Persist(*record)) return fail(absl::InternalError("cannot write the sandbox's record"));
  absl::MutexLock lock(&mu_);
  return record->ToSandbox();
}

absl::StatusOr<rest::Sandbox> SandboxManager::Get(const std::string& id) {
  auto record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock lock(&mu_);
  return record->ToSandbox();
}

absl::StatusOr<rest::ListSandboxesResponse> SandboxManager::List(const ListQuery& query) {
  if (auto s = rest::Paginate(0, query.page, query.page_size); !s.ok()) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidParameter,
                           rest::StdView(s.status().message()));
  }
  std::vector<rest::Sandbox> matching;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& entry : records_) {
      const auto& r = entry.second;  // a plain name: lambdas capture it (clang 14 cannot
                                     // capture structured bindings)
      bool state_ok =
          query.states.empty() ||
          std::any_of(query.states.begin(), query.states.end(),
                      [&](const std::string& s) { return absl::EqualsIgnoreCase(s, r->state); });
      bool metadata_ok =
          std::all_of(query.metadata.begin(), query.metadata.end(), [&](const auto& kv) {
            auto it = r->metadata.find(kv.first);
            return it != r->metadata.end() && it->second == kv.second;
          });
      if (state_ok && metadata_ok) matching.push_back(r->ToSandbox());
    }
  }
  // RFC 3339 UTC with fixed precision sorts as text: newest first.
  std::sort(matching.begin(), matching.end(), [](const rest::Sandbox& a, const rest::Sandbox& b) {
    return a.created_at > b.created_at;
  });
  auto window = rest::Paginate(static_cast<int64_t>(matching.size()), query.page,
                               query.page_size);
  rest::ListSandboxesResponse out;
  out.pagination = window->info;
  out.items.assign(matching.begin() + window->begin, matching.begin() + window->end);
  return out;
}

void SandboxManager::StopProcesses(Record& record) {
  std::unique_ptr<TrackedProcess> agent;
  {
    absl::MutexLock lock(&mu_);
    agent = std::move(record.agent);
  }
  // SIGKILL to a pid namespace's init kills every process in it; its exit is reported only once
  // all of them are gone. A frozen task dies only once thawed, so a paused sandbox is thawed
  // after the SIGKILL is pending: its init then exits at once and takes the rest with it.
  if (agent != nullptr) agent->Kill();
  if (record.frozen) {
    if (auto s = record.cgroup->Thaw(); !s.ok()) {
      std::fprintf(stderr, "osb-runtime: sandbox %s: %s\n", record.id.c_str(),
                   std::string(s.message()).c_str());
    }
    record.frozen = false;
  }
  if (agent != nullptr) agent->Wait();
  if (record.names_filtered && dns_filter_ != nullptr) dns_filter_->Remove(record.id);
  std::unique_ptr<TrackedProcess> helper;
  {
    absl::MutexLock lock(&mu_);
    helper = std::move(record.network_helper);
  }
  if (helper != nullptr) {
    helper->Kill();
    helper->Wait();
  }
  // A pvc directory outlives its sandbox under its claim's name: a new sandbox may claim it as
  // soon as the kill is answered, so it goes now, not with the rest.
  for (const std::string& volume : record.delete_on_kill) (void)RemoveTree(volume);
  absl::MutexLock lock(&mu_);  // Persist reads it under the manager's mutex
  record.delete_on_kill.clear();
}

void SandboxManager::Release(Record& record) {
  if (record.cgroup != nullptr) {
    if (auto s = record.cgroup->Remove(); !s.ok()) {
      std::fprintf(stderr, "osb-runtime: sandbox %s: cgroup left behind: %s\n", record.id.c_str(),
                   std::string(s.message()).c_str());
    }
    record.cgroup.reset();
  }
  (void)RemoveTree(record.dir);
  if (auto s = store_->Remove(record.id); !s.ok()) {
    std::fprintf(stderr, "osb-runtime: sandbox %s: %s\n", record.id.c_str(),
                 std::string(s.message()).c_str());
  }
}

void SandboxManager::Destroy(Record& record) {
  StopProcesses(record);
  Release(record);
}

// Killed sandboxes whose release may wait for creates to pause.
constexpr size_t kMaxReleasesDeferred = 16;

void SandboxManager::ReleaseKilled() {
  for (;;) {
    std::shared_ptr<Record> record;
    {
      absl::MutexLock lock(&mu_);
      // Like the spare maker, it leaves the machine to a create running now, unless creates
      // never pause and killed sandboxes pile up.
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return releaser_stopping_ ||
               (!to_release_.empty() && (draining_ || creating_ == 0 ||
                                         to_release_.size() > kMaxReleasesDeferred));
      };
      mu_.Await(absl::Condition(&ready));
      if (to_release_.empty()) return;  // stopping, and nothing is left to release
      record = to_release_.front();  // stays queued until released: FinishReleases waits for it
    }
    Release(*record);
    absl::MutexLock lock(&mu_);
    to_release_.pop_front();
  }
}

void SandboxManager::FinishReleases() {
  absl::MutexLock lock(&mu_);
  draining_ = true;  // no longer deferred for creates
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return to_release_.empty(); };
  mu_.Await(absl::Condition(&done));
}

absl::Status SandboxManager::Kill(const std::string& id) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock transition(&record->transition);
  {
    absl::MutexLock lock(&mu_);
    if (record->killing) return NotFound(id);
    record->killing = true;
    record->state = "Stopping";
  }
  Persist(*record);  // a runtime that dies now finishes the kill when it restarts
  // The kill is answered once nothing of the sandbox runs; its cgroup, files and record (which
  // still says Stopping, for a restart to finish) are released behind the answer.
  const bool had_volumes = !record->delete_on_kill.empty();
  StopProcesses(*record);
  // A restart must not remove them again: by then a new sandbox may have claimed them.
  // Without a record saying so, the next start takes what is left for a create cut short.
  if (had_volumes && !Persist(*record)) (void)store_->Remove(record->id);
  {
    absl::MutexLock lock(&mu_);
    records_.erase(id);
    to_release_.push_back(std::move(record));
  }
  Reweigh();
  return absl::OkStatus();
}

absl::Status SandboxManager::RequireState(Record& record, std::string_view state,
                                          std::string_view code) {
  absl::MutexLock lock(&mu_);
  if (record.killing) return NotFound(record.id);
  if (record.state != state) return WrongState(record.id, record.state, code, state);
  return absl::OkStatus();
}

absl::Status SandboxManager::Pause(const std::string& id) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock transition(&record->transition);
  if (auto s = RequireState(*record, "Running", rest::kSandboxNotRunning); !s.ok()) return s;
  if (record->cgroup == nullptr || !cgroups_->Has(Controller::kFreezer)) {
    return rest::MakeError(
        absl::StatusCode::kUnimplemented, "SANDBOX::API_NOT_SUPPORTED",
        absl::StrCat("pausing needs the cgroup freezer, which this osb-runtime cannot use: ",
                     cgroups_->WhyNot(Controller::kFreezer)));
  }
  {
    absl::MutexLock lock(&mu_);
    record->state = "Pausing";  // the proxy forwards nothing from here on
  }
  absl::Status frozen = record->cgroup->Freeze();
  absl::ReleasableMutexLock lock(&mu_);
  if (!frozen.ok()) {
    record->state = "Running";
    return rest::MakeError(
        frozen.code(), "SANDBOX::PAUSE_FAILED",
        absl::StrCat("sandbox ", id, " could not be paused: ", frozen.message()));
  }
  record->frozen = true;
  record->state = "Paused";
  record->reason = "SANDBOX_PAUSED";
  record->last_transition = absl::Now();
  lock.Release();
  Persist(*record);
  return absl::OkStatus();
}

absl::Status SandboxManager::Resume(const std::string& id) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock transition(&record->transition);
  {
    absl::MutexLock lock(&mu_);
    if (record->killing) return NotFound(id);
    if (record->state != "Paused") {
      return WrongState(id, record->state, rest::kSandboxNotPaused, "Paused");
    }
    record->state = "Resuming";
  }
  absl::Status thawed = record->cgroup->Thaw();
  absl::ReleasableMutexLock lock(&mu_);
  if (!thawed.ok()) {
    record->state = "Paused";
    return rest::MakeError(
        thawed.code(), "SANDBOX::RESUME_FAILED",
        absl::StrCat("sandbox ", id, " could not be resumed: ", thawed.message()));
  }
  record->frozen = false;
  record->state = "Running";
  record->reason = "SANDBOX_RUNNING";
  record->last_transition = absl::Now();
  lock.Release();
  Persist(*record);
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> SandboxManager::Renew(const std::string& id, absl::Time expires_at) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::ReleasableMutexLock lock(&mu_);
  if (record->killing) return NotFound(id);
  if (!record->expires_at.has_value()) {
    return rest::MakeError(absl::StatusCode::kFailedPrecondition, kInvalidExpiration,
                           absl::StrCat("sandbox ", id,
                                        " was created for manual cleanup: it has no expiry to "
                                        "renew"));
  }
  if (expires_at <= absl::Now()) {
    return rest::MakeError(
        absl::StatusCode::kInvalidArgument, kInvalidExpiration,
        absl::StrCat("expiresAt ", rest::FormatRfc3339(expires_at), " is not in the future"));
  }
  record->expires_at = expires_at;
  lock.Release();
  Persist(*record);
  return expires_at;
}

absl::StatusOr<rest::Sandbox> SandboxManager::PatchMetadata(const std::string& id,
                                                            const nlohmann::json& patch) {
  if (!patch.is_object()) {
    return rest::MakeError(absl::StatusCode::kInvalidArgument, "SANDBOX::INVALID_PARAMETER",
                           "the metadata patch must be a JSON object");
  }
  for (const auto& [key, value] : patch.items()) {
    if (!(value.is_string() || value.is_null())) {
      return rest::MakeError(absl::StatusCode::kInvalidArgument, "SANDBOX::INVALID_PARAMETER",
                             absl::StrCat("metadata patch entry '", key,
                                          "' must be a string (to set) or null (to remove)"));
    }
    if (value.is_string()) {
      if (auto s = rest::ValidateMetadataKey(key); !s.ok()) return s;
      if (auto s = rest::ValidateMetadataValue(key, value.get<std::string>()); !s.ok()) return s;
    }
  }
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::ReleasableMutexLock lock(&mu_);
  if (record->killing) return NotFound(id);
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      record->metadata.erase(key);
    } else {
      record->metadata[key] = value.get<std::string>();
    }
  }
  rest::Sandbox patched = record->ToSandbox();
  lock.Release();
  Persist(*record);
  return patched;
}

absl::StatusOr<AgentTarget> SandboxManager::Agent(const std::string& id) {
  auto record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock lock(&mu_);
  return AgentTarget{record->socket_path, record->access_token, record->state,
                     record->AgentPid(), record->HasEgress()};
}

absl::Status SandboxManager::CaptureLayer(const std::string& id, const std::string& dest) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock transition(&record->transition);
  if (auto s = RequireState(*record, "Running", "SNAPSHOT::INVALID_SOURCE_STATE"); !s.ok()) {
    return s;
  }
  const bool freeze = record->cgroup != nullptr && cgroups_->Has(Controller::kFreezer);
  if (freeze) {
    if (auto s = record->cgroup->Freeze(); !s.ok()) return s;
  }
  absl::Status copied = CopyTree(record->dir + "/upper", dest);
  if (freeze) {
    if (auto s = record->cgroup->Thaw(); !s.ok()) {
      std::fprintf(stderr, "osb-runtime: sandbox %s: %s\n", id.c_str(),
                   std::string(s.message()).c_str());
    }
  }
  return copied;
}

void SandboxManager::Reweigh() {
  // The weight of idle sandboxes goes to the busy ones: with no cap, one sandbox spinning among
  // a hundred idle ones would outweigh the runtime and its clients a hundredfold. At most four
  // processes' worth per core.
  static const std::size_t kMostWeight =
      4 * static_cast<std::size_t>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  absl::MutexLock order(&reweigh_mu_);
  std::size_t sandboxes;
  {
    absl::MutexLock lock(&mu_);
    sandboxes = std::min(records_.size(), kMostWeight);
  }
  if (absl::Status s = cgroups_->WeighSandboxes(sandboxes); !s.ok()) {
    std::fprintf(stderr, "osb-runtime: the sandboxes' cpu weight: %s\n",
                 std::string(s.message()).c_str());
  }
}

bool SandboxManager::Persist(Record& record) {
  absl::MutexLock persist(&record.persist);
  StoredSandbox stored;
  {
    absl::MutexLock lock(&mu_);
    stored = record.ToStored();
  }
  if (auto s = store_->Save(stored); !s.ok()) {
    std::fprintf(stderr, "osb-runtime: sandbox %s: its record is not saved: %s\n",
                 record.id.c_str(), std::string(s.message()).c_str());
    return false;
  }
  return true;
}

nlohmann::json SandboxManager::EgressStatusLocked(const Record& record) {
  const EgressPolicy& policy = record.egress_policy;
  nlohmann::json status = {{"status", "ok"},
                           {"mode", policy.default_allow() ? "allow_all" : "deny_all"},
                           {"policy", policy.ToJson()}};
  if (record.names_filtered) {
    // By name through the DNS filter; under deny, by the sandbox's routes as well.
    status["enforcementMode"] = policy.default_allow() ? "dns" : "dns+route";
  } else {
    status["enforcementMode"] = "none";
    status["reason"] =
        "created without egress rules: everything may leave, and the policy is fixed";
  }
  return status;
}

absl::StatusOr<nlohmann::json> SandboxManager::EgressStatus(const std::string& id) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock lock(&mu_);
  if (record->killing) return NotFound(id);
  return EgressStatusLocked(*record);
}

absl::StatusOr<nlohmann::json> SandboxManager::ChangeEgress(const std::string& id, bool remove,
                                                            const nlohmann::json& body) {
  std::shared_ptr<Record> record = Find(id);
  if (record == nullptr) return NotFound(id);
  absl::MutexLock transition(&record->transition);
  EgressPolicy current;
  {
    absl::MutexLock lock(&mu_);
    if (record->killing) return NotFound(id);
    if (!record->names_filtered) {
      return rest::MakeError(
          absl::StatusCode::kFailedPrecondition, "SANDBOX::API_NOT_SUPPORTED",
          absl::StrCat("sandbox ", id, " was created without egress rules, so its names do not "
                       "resolve through osb-runtime's DNS filter: its policy is fixed (create "
                       "it with rules to change them later)"));
    }
    current = record->egress_policy;
  }
  auto changed = remove ? current.WithoutTargets(body) : current.WithRules(body);
  if (!changed.ok()) return changed.status();
  if (changed->ToJson() != current.ToJson()) {  // a change that changes nothing leaves all be
    if (dns_filter_ == nullptr) return Unsupported("egress rules by name");
    bool applied = false;
    absl::Status s = dns_filter_->SetPolicy(id, *changed, &applied);
    if (applied) {
      {
        absl::MutexLock lock(&mu_);
        record->egress_policy = *std::move(changed);
      }
      if (!Persist(*record) && s.ok()) {
        s = absl::InternalError("it could not be saved: a restart of the runtime would undo it");
      }
    }
    if (!s.ok()) {
      return rest::MakeError(absl::StatusCode::kInternal, "SANDBOX::EGRESS_FAILED",
                             absl::StrCat(applied ? "the new egress policy is in force, but "
                                                  : "the new egress policy could not be applied: ",
                                          s.message()));
    }
  }
  absl::MutexLock lock(&mu_);
  return EgressStatusLocked(*record);
}

absl::Status SandboxManager::StartEgressFor(Record& record) {
  pid_t agent_pid;
  {
    absl::MutexLock lock(&mu_);
    agent_pid = record.AgentPid();
  }
  const EgressPolicy& policy = record.egress_policy;
  // Shut before the helper gives the namespace a way out, so nothing slips through meanwhile.
  const bool routed = record.names_filtered && !policy.default_allow();
  if (routed) {
    if (auto s = EgressRoutes::Close(agent_pid); !s.ok()) return s;
  }
  auto pid = StartEgress(pasta_, agent_pid, record.dir + "/network.log", record.names_filtered);
  if (!pid.ok()) return pid.status();
  auto helper = TrackedProcess::Launched(*pid);
  if (!helper.ok()) {
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    return helper.status();
  }
  {
    absl::MutexLock lock(&mu_);
    record.network_helper = std::move(*helper);
  }
  Persist(record);
  if (routed) {
    if (auto s = EgressRoutes::OpenGateway(agent_pid); !s.ok()) return s;
  }
  return ServeNamesFor(record);
}

absl::Status SandboxManager::ServeNamesFor(Record& record) {
  if (!record.names_filtered) return absl::OkStatus();
  pid_t agent_pid;
  {
    absl::MutexLock lock(&mu_);
    agent_pid = record.AgentPid();
  }
  return dns_filter_->Add(record.id, agent_pid, record.egress_policy);
}

void SandboxManager::Restore() {
  std::vector<std::string> problems;
  std::set<std::string> known;
  int running = 0, paused = 0, failed = 0, destroyed = 0;
  for (const StoredSandbox& stored : store_->LoadAll(&problems)) {
    known.insert(stored.sandbox.id);
    auto loaded = Record::FromStored(stored, options_.state_dir);
    if (!loaded.ok()) {
      problems.push_back(absl::StrCat("sandbox ", stored.sandbox.id, ": unreadable record (",
                                      loaded.status().message(), ")"));
      continue;
    }
    std::shared_ptr<Record> record = *loaded;
    Record& r = *record;
    absl::MutexLock transition(&r.transition);
    if (stored.agent_pid > 0) {
      auto agent = TrackedProcess::Adopt(stored.agent_pid, stored.agent_start_ticks);
      if (agent.ok()) r.agent = std::move(*agent);
    }
    if (stored.egress_pid > 0) {
      auto helper = TrackedProcess::Adopt(stored.egress_pid, stored.egress_start_ticks);
      if (helper.ok()) r.network_helper = std::move(*helper);
    }
    if (cgroups_->usable()) {
      if (auto cgroup = cgroups_->Open(r.id); cgroup.ok()) r.cgroup = std::move(*cgroup);
    }
    // Whatever the freezer's state, thawing is safe, and needed before a kill can land.
    const bool has_freezer = r.cgroup != nullptr && cgroups_->Has(Controller::kFreezer);
    if (r.state == "Pending" || r.state == "Stopping") {
      // Its creator or its killer is gone: finish the kill, processes the record missed included.
      r.killing = true;
      r.frozen = has_freezer;
      if (r.agent == nullptr && r.cgroup != nullptr) {
        if (auto pids = r.cgroup->Processes(); pids.ok()) {
          for (pid_t pid : *pids) ::kill(pid, SIGKILL);
        }
      }
      Destroy(r);
      ++destroyed;
      continue;
    }
    if (r.agent == nullptr && r.state != "Failed") {
      r.state = "Failed";
      r.reason = "AGENT_EXITED";
      r.message = "the sandbox's init process (osb-agent) exited while osb-runtime was not running";
      r.last_transition = absl::Now();
    } else if (r.state == "Pausing" || r.state == "Resuming") {
      // A pause or resume was cut short: the sandbox is thawed and Running again.
      if (has_freezer) (void)r.cgroup->Thaw();
      r.state = "Running";
      r.reason = "SANDBOX_RUNNING";
      r.last_transition = absl::Now();
    } else if (r.state == "Paused") {
      r.frozen = has_freezer;
    }
    if (r.HasEgress() && r.agent != nullptr) {
      // A helper killed while the runtime was down is replaced; names are answered again.
      absl::Status s = r.network_helper == nullptr ? StartEgressFor(r) : ServeNamesFor(r);
      if (!s.ok()) problems.push_back(absl::StrCat("sandbox ", r.id, ": no egress: ", s.message()));
    }
    if (r.state == "Running") ++running;
    if (r.state == "Paused") ++paused;
    if (r.state == "Failed") ++failed;
    {
      absl::MutexLock lock(&mu_);
      records_[r.id] = record;
    }
    Persist(r);
  }
  Reweigh();
  // A directory without a record is a create cut short before its first record was written.
  const std::string sandboxes = options_.state_dir + "/sandboxes";
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(sandboxes.c_str()), ::closedir);
  std::vector<std::string> orphans;
  while (dir != nullptr) {
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    const std::string name = entry->d_name;
    if (name != "." && name != ".." && known.count(name) == 0) orphans.push_back(name);
  }
  for (const std::string& id : orphans) {
    if (cgroups_->usable()) {
      if (auto cgroup = cgroups_->Open(id); cgroup.ok()) {
        if (auto pids = (*cgroup)->Processes(); pids.ok()) {
          for (pid_t pid : *pids) ::kill(pid, SIGKILL);
        }
        (void)(*cgroup)->Remove();
      }
    }
    (void)RemoveTree(sandboxes + "/" + id);
    ++destroyed;
  }
  for (const std::string& p : problems) std::fprintf(stderr, "osb-runtime: %s\n", p.c_str());
  if (running + paused + failed + destroyed > 0) {
    std::fprintf(stderr,
                 "osb-runtime: re-adopted %d running and %d paused sandboxes; %d failed while "
                 "osb-runtime was not running; %d left half-created or half-killed were removed\n",
                 running, paused, failed, destroyed);
  }
}

void SandboxManager::Watch() {
  while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(500))) {
    std::vector<std::string> expired;
    std::vector<std::shared_ptr<Record>> failed;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      for (auto& [id, r] : records_) {
        // A paused or failed sandbox expires too; one still being created or killed is busy.
        if (r->killing || r->state == "Pending") continue;
        if (r->expires_at.has_value() && *r->expires_at <= now) {
          expired.push_back(id);
          continue;
        }
        if (r->state == "Running" && r->agent != nullptr && r->agent->Exited()) {
          r->state = "Failed";
          r->reason = "AGENT_EXITED";
          r->message = "the sandbox's init process (osb-agent) exited";
          r->last_transition = now;
          failed.push_back(r);
        }
      }
    }
    for (const auto& r : failed) Persist(*r);
    for (const auto& id : expired) (void)Kill(id);
  }
}

}  // namespace osb::runtime
