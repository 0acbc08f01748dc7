#include "runtime/server/cgroups.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rest/string_views.h"

namespace osb::runtime {
namespace {

constexpr Controller kAll[] = {Controller::kCpu, Controller::kCpuacct, Controller::kMemory,
                               Controller::kPids, Controller::kFreezer};
// The controllers v2 must enable for children; cpuacct and freezer are built into every cgroup.
constexpr Controller kV2Enabled[] = {Controller::kCpu, Controller::kMemory, Controller::kPids};

std::vector<std::string> Words(const std::string& text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
}

// The value after `key` in a flat keyed file (cgroup.events, cpu.stat): "frozen 1" → "1".
std::optional<std::string> KeyedValue(const std::string& text, std::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<std::string> words = Words(std::string(line));
    if (words.size() == 2 && words[0] == key) return words[1];
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> ReadNumber(CgroupEnv& env, const std::string& path) {
  auto text = env.Read(path);
  if (!text.ok()) return text.status();
  int64_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &n)) {
    return absl::InternalError(absl::StrCat(path, " holds no number: ", *text));
  }
  return n;
}

}  // namespace

const char* ControllerName(Controller c) {
  switch (c) {
    case Controller::kCpu:
      return "cpu";
    case Controller::kCpuacct:
      return "cpuacct";
    case Controller::kMemory:
      return "memory";
    case Controller::kPids:
      return "pids";
    case Controller::kFreezer:
      return "freezer";
  }
  return "?";
}

std::unique_ptr<CgroupHost> CgroupHost::Detect(CgroupEnv& env, CgroupOptions options) {
  std::unique_ptr<CgroupHost> host(new CgroupHost(env, std::move(options)));
  auto controllers = env.Read(host->options_.root + "/cgroup.controllers");
  bool v2 = false;
  if (controllers.ok()) {
    for (const std::string& word : Words(*controllers)) {
      v2 = v2 || word == "cpu" || word == "memory" || word == "pids";
    }
  }
  if (v2) {
    host->DetectV2(*controllers);
  } else {
    host->DetectV1();
  }
  return host;
}

void CgroupHost::DetectV1() {
  for (Controller c : kAll) {
    const std::string name(ControllerName(c));
    const std::string mount = absl::StrCat(options_.root, "/", name);
    if (!env_.Exists(mount + "/cgroup.procs")) {
      why_not_[c] = absl::StrCat("no ", name, " controller under ", options_.root);
      continue;
    }
    version_ = 1;
    // cpu and cpuacct mounted together (cpu,cpuacct with two symlinks) resolve to one directory,
    // so the sandbox gets one cgroup there, not two paths to the same one.
    auto real = env_.RealPath(mount);
    if (!real.ok()) {
      why_not_[c] = std::string(real.status().message());
      continue;
    }
    const std::string parent = absl::StrCat(*real, "/", kCgroupParent);
    if (auto s = env_.MakeDir(parent); !s.ok()) {
      why_not_[c] = std::string(s.message());
      continue;
    }
    parents_[c] = parent;
  }
  swap_limited_ = Has(Controller::kMemory) &&
                  env_.Exists(parents_[Controller::kMemory] + "/memory.memsw.limit_in_bytes");
}

void CgroupHost::DetectV2(const std::string& controllers) {
  version_ = 2;
  const std::string parent = absl::StrCat(options_.root, "/", kCgroupParent);
  if (auto s = env_.MakeDir(parent); !s.ok()) {
    for (Controller c : kAll) why_not_[c] = std::string(s.message());
    return;
  }
  const std::vector<std::string> offered = Words(controllers);
  for (Controller c : kV2Enabled) {
    const std::string name(ControllerName(c));
    if (std::find(offered.begin(), offered.end(), name) == offered.end()) {
      why_not_[c] = absl::StrCat("the cgroup v2 root ", options_.root, " does not offer ", name);
      continue;
    }
    // One controller per write: the kernel refuses a whole line for one controller it cannot
    // enable, and the others are still worth having.
    absl::Status s = env_.Write(options_.root + "/cgroup.subtree_control", "+" + name);
    if (s.ok()) s = env_.Write(parent + "/cgroup.subtree_control", "+" + name);
    if (!s.ok()) {
      why_not_[c] = std::string(s.message());
      continue;
    }
    parents_[c] = parent;
  }
  parents_[Controller::kCpuacct] = parent;
  if (env_.Exists(parent + "/cgroup.freeze")) {
    parents_[Controller::kFreezer] = parent;
  } else {
    why_not_[Controller::kFreezer] =
        "the kernel has no cgroup v2 freezer (cgroup.freeze, Linux 5.2+)";
  }
  swap_limited_ = Has(Controller::kMemory) && env_.Exists(parent + "/memory.swap.max");
}

std::string CgroupHost::WhyNot(Controller c) const {
  if (Has(c)) return "";
  auto it = why_not_.find(c);
  return it == why_not_.end() ? "unknown" : it->second;
}

std::string CgroupHost::Summary() const {
  std::vector<std::string> used, unused;
  for (Controller c : kAll) {
    if (Has(c)) {
      used.emplace_back(ControllerName(c));
    } else {
      unused.push_back(absl::StrCat(ControllerName(c), " (", WhyNot(c), ")"));
    }
  }
  if (!usable()) {
    return absl::StrCat("no usable cgroups under ", options_.root, ": ",
                        absl::StrJoin(unused, "; "),
                        ". Resource limits are NOT enforced and pause/resume is unavailable");
  }
  std::string out =
      absl::StrCat("cgroup v", version_, " under ", options_.root, ": ", absl::StrJoin(used, ", "));
  if (Has(Controller::kMemory) && !swap_limited_) absl::StrAppend(&out, " (swap not limited)");
  if (!unused.empty()) absl::StrAppend(&out, "; not usable: ", absl::StrJoin(unused, "; "));
  return out;
}

std::string CgroupHost::Enforcement(const ResourceLimits& limits) const {
  std::vector<std::string> enforced, not_enforced;
  auto sort = [&](Controller c, std::string item) {
    if (Has(c)) {
      enforced.push_back(std::move(item));
    } else {
      not_enforced.push_back(usable() ? absl::StrCat(item, " (", WhyNot(c), ")") : std::move(item));
    }
  };
  if (limits.cpu_millicores.has_value()) {
    sort(Controller::kCpu, "cpu " + limits.requested.at("cpu"));
  }
  if (limits.memory_bytes.has_value()) {
    std::string item = "memory " + limits.requested.at("memory");
    if (Has(Controller::kMemory) && !swap_limited_) item += " (RAM only: swap is not limited)";
    sort(Controller::kMemory, std::move(item));
  }
  sort(Controller::kPids, limits.pids_defaulted ? absl::StrCat("pids ", limits.pids, " (default)")
                                                : absl::StrCat("pids ", limits.pids));
  for (const auto& [key, value] : limits.requested) {
    if (key == "cpu" || key == "memory" || key == "pids") continue;
    not_enforced.push_back(absl::StrCat(key, " ", value,
                                        key == "gpu" ? " (osb-runtime has no GPU support)"
                                                     : " (not a resource osb-runtime knows)"));
  }
  if (!usable()) {
    return absl::StrCat("resource limits NOT enforced (no usable cgroups: ", WhyNot(kAll[0]),
                        "): ", absl::StrJoin(not_enforced, ", "));
  }
  std::string out;
  if (!enforced.empty()) {
    out = absl::StrCat("resource limits enforced (cgroup v", version_,
                       "): ", absl::StrJoin(enforced, ", "));
  }
  if (!not_enforced.empty()) {
    absl::StrAppend(&out, out.empty() ? "resource limits " : "; ",
                    "NOT enforced: ", absl::StrJoin(not_enforced, ", "));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SandboxCgroup>> CgroupHost::Create(
    const std::string& sandbox_id) const {
  return Build(sandbox_id, /*create=*/true);
}

absl::StatusOr<std::unique_ptr<SandboxCgroup>> CgroupHost::Open(
    const std::string& sandbox_id) const {
  return Build(sandbox_id, /*create=*/false);
}

absl::StatusOr<std::unique_ptr<SandboxCgroup>> CgroupHost::Build(const std::string& sandbox_id,
                                                                 bool create) const {
  if (!usable()) {
    return absl::FailedPreconditionError(absl::StrCat("no usable cgroups: ", Summary()));
  }
  if (sandbox_id.empty() || sandbox_id == "." || sandbox_id == ".." ||
      sandbox_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad cgroup name \"", sandbox_id, "\""));
  }
  std::unique_ptr<SandboxCgroup> cgroup(new SandboxCgroup(env_, options_, version_));
  cgroup->swap_limited_ = swap_limited_;
  std::set<std::string> made;
  for (const auto& [c, parent] : parents_) {
    const std::string dir = absl::StrCat(parent, "/", sandbox_id);
    if (!create && !env_.Exists(dir)) continue;
    cgroup->dir_of_[c] = dir;
    if (made.count(dir) != 0) continue;
    if (create) {
      if (auto s = env_.MakeDir(dir); !s.ok()) {
        for (const std::string& d : cgroup->dirs_) (void)env_.RemoveDir(d);
        return s;
      }
    }
    made.insert(dir);
    cgroup->dirs_.push_back(dir);
  }
  if (cgroup->dirs_.empty()) {
    return absl::NotFoundError(absl::StrCat("no cgroup opensandbox/", sandbox_id));
  }
  return cgroup;
}

std::string SandboxCgroup::File(Controller c, std::string_view name) const {
  return absl::StrCat(dir_of_.at(c), "/", rest::AbslView(name));
}

absl::Status CgroupHost::WeighSandboxes(std::size_t sandboxes) const {
  auto parent = parents_.find(Controller::kCpu);
  if (parent == parents_.end()) return absl::OkStatus();
  // A nice-0 process weighs 1024 (v1 shares) or 100 (v2 weight); the kernel's maxima are 2^18
  // and 10000.
  const bool v1 = version_ == 1;
  const uint64_t one = v1 ? 1024 : 100, most = v1 ? 262144 : 10000;
  const uint64_t weight = std::clamp<uint64_t>(one * sandboxes, one, most);
  return env_.Write(absl::StrCat(parent->second, v1 ? "/cpu.shares" : "/cpu.weight"),
                    absl::StrCat(weight));
}

absl::Status SandboxCgroup::Apply(const ResourceLimits& limits) {
  const bool v1 = version_ == 1;
  if (limits.cpu_millicores.has_value() && dir_of_.count(Controller::kCpu) != 0) {
    // 1000 µs is the smallest quota the kernel takes; Kubernetes clamps the same way.
    const int64_t quota = std::max<int64_t>(1000, *limits.cpu_millicores * kCpuPeriodUs / 1000);
    if (v1) {
      if (auto s =
              env_.Write(File(Controller::kCpu, "cpu.cfs_period_us"), absl::StrCat(kCpuPeriodUs));
          !s.ok()) {
        return s;
      }
      if (auto s = env_.Write(File(Controller::kCpu, "cpu.cfs_quota_us"), absl::StrCat(quota));
          !s.ok()) {
        return s;
      }
    } else if (auto s = env_.Write(File(Controller::kCpu, "cpu.max"),
                                   absl::StrCat(quota, " ", kCpuPeriodUs));
               !s.ok()) {
      return s;
    }
  }
  if (limits.memory_bytes.has_value() && dir_of_.count(Controller::kMemory) != 0) {
    const std::string bytes = absl::StrCat(*limits.memory_bytes);
    // RAM first: v1 refuses a memsw limit below the memory limit.
    if (auto s = env_.Write(File(Controller::kMemory, v1 ? "memory.limit_in_bytes" : "memory.max"),
                            bytes);
        !s.ok()) {
      return s;
    }
    if (swap_limited_) {
      // v1 bounds RAM+swap together; v2 bounds swap alone, so none is allowed.
      if (auto s = v1 ? env_.Write(File(Controller::kMemory, "memory.memsw.limit_in_bytes"), bytes)
                      : env_.Write(File(Controller::kMemory, "memory.swap.max"), "0");
          !s.ok()) {
        return s;
      }
    }
  }
  if (dir_of_.count(Controller::kPids) != 0) {
    if (auto s = env_.Write(File(Controller::kPids, "pids.max"), absl::StrCat(limits.pids));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status SandboxCgroup::Attach(pid_t pid) {
  for (const std::string& dir : dirs_) {
    if (auto s = env_.Write(dir + "/cgroup.procs", absl::StrCat(pid)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SandboxCgroup::WaitForFreezerState(bool frozen) {
  const bool v1 = version_ == 1;
  const std::string file = File(Controller::kFreezer, v1 ? "freezer.state" : "cgroup.events");
  const std::string want = v1 ? (frozen ? "FROZEN" : "THAWED") : (frozen ? "1" : "0");
  const absl::Time deadline = env_.Now() + options_.freeze_timeout;
  for (;;) {
    auto text = env_.Read(file);
    if (!text.ok()) return text.status();
    std::optional<std::string> state =
        v1 ? std::optional<std::string>(absl::StripAsciiWhitespace(*text))
           : KeyedValue(*text, "frozen");
    if (state == want) return absl::OkStatus();
    if (env_.Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the sandbox's processes were not ", frozen ? "frozen" : "thawed",
                       " within ", absl::FormatDuration(options_.freeze_timeout), " (", file, ": ",
                       absl::StripAsciiWhitespace(*text), ")"));
    }
    env_.SleepFor(options_.poll_interval);
    if (v1 && frozen) {
      // The v1 freezer tries again to freeze tasks it could not stop (say, in a vfork) only when
      // FROZEN is written again.
      if (auto s = env_.Write(file, "FROZEN"); !s.ok()) return s;
    }
  }
}

absl::Status SandboxCgroup::Freeze() {
  if (dir_of_.count(Controller::kFreezer) == 0) {
    return absl::FailedPreconditionError("the sandbox's cgroup has no freezer");
  }
  const bool v1 = version_ == 1;
  if (auto s = env_.Write(File(Controller::kFreezer, v1 ? "freezer.state" : "cgroup.freeze"),
                          v1 ? "FROZEN" : "1");
      !s.ok()) {
    return s;
  }
  absl::Status frozen = WaitForFreezerState(true);
  if (!frozen.ok()) (void)Thaw();  // half-frozen is neither paused nor running
  return frozen;
}

absl::Status SandboxCgroup::Thaw() {
  if (dir_of_.count(Controller::kFreezer) == 0) {
    return absl::FailedPreconditionError("the sandbox's cgroup has no freezer");
  }
  const bool v1 = version_ == 1;
  if (auto s = env_.Write(File(Controller::kFreezer, v1 ? "freezer.state" : "cgroup.freeze"),
                          v1 ? "THAWED" : "0");
      !s.ok()) {
    return s;
  }
  return WaitForFreezerState(false);
}

absl::Status SandboxCgroup::Remove() {
  absl::Status first_error;
  for (const std::string& dir : dirs_) {
    const absl::Time deadline = env_.Now() + options_.remove_timeout;
    for (;;) {
      absl::Status s = env_.RemoveDir(dir);
      if (s.ok() || absl::IsNotFound(s)) break;
      if (absl::IsUnavailable(s) && env_.Now() < deadline) {
        env_.SleepFor(options_.poll_interval);
        continue;
      }
      if (first_error.ok()) first_error = s;
      break;
    }
  }
  return first_error;
}

absl::StatusOr<std::vector<pid_t>> SandboxCgroup::Processes() {
  auto procs = env_.Read(dirs_.front() + "/cgroup.procs");
  if (!procs.ok()) return procs.status();
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(*procs, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(line, &pid)) pids.push_back(pid);
  }
  return pids;
}

absl::StatusOr<CgroupUsage> SandboxCgroup::Usage() {
  CgroupUsage usage;
  const bool v1 = version_ == 1;
  if (dir_of_.count(Controller::kCpuacct) != 0) {
    if (v1) {
      auto ns = ReadNumber(env_, File(Controller::kCpuacct, "cpuacct.usage"));
      if (!ns.ok()) return ns.status();
      usage.cpu_ns = *ns;
    } else {
      const std::string file = File(Controller::kCpuacct, "cpu.stat");
      auto stat = env_.Read(file);
      if (!stat.ok()) return stat.status();
      int64_t usec = 0;
      auto value = KeyedValue(*stat, "usage_usec");
      if (!value.has_value() || !absl::SimpleAtoi(*value, &usec)) {
        return absl::InternalError(absl::StrCat(file, " has no usage_usec"));
      }
      usage.cpu_ns = usec * 1000;
    }
  }
  if (dir_of_.count(Controller::kMemory) != 0) {
    auto bytes = ReadNumber(
        env_, File(Controller::kMemory, v1 ? "memory.usage_in_bytes" : "memory.current"));
    if (!bytes.ok()) return bytes.status();
    usage.memory_bytes = *bytes;
  }
  return usage;
}

}  // namespace osb::runtime
