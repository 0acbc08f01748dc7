// Sandbox cgroups: what the host's cgroup filesystem offers (v1 controller hierarchies or the v2
// unified tree), and each sandbox's own cgroup `opensandbox/<sandbox-id>`, which holds its limits
// (cpu, memory, pids), its freezer (pause/resume) and its usage counters.
//
//   auto env = NewRealCgroupEnv();
//   auto host = CgroupHost::Detect(*env);               // once, at start; never fails
//   std::fprintf(stderr, "%s\n", host->Summary().c_str());
//   auto cgroup = host->Create(sandbox_id);             // per sandbox
//   (*cgroup)->Apply(limits);                           // what host->Enforcement(limits) reports
//   (*cgroup)->Attach(agent_pid);                       // before the agent runs anything
//   (*cgroup)->Freeze(); (*cgroup)->Thaw();             // pause, resume
//   (*cgroup)->Remove();                                // once every process in it is gone
//
// A controller that is missing, or that this process may not use (not root, no delegation), is
// not an error: the host records why, Apply skips it, and Enforcement says so in words, so the
// runtime never claims a limit it did not apply.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/server/cgroup_env.h"
#include "runtime/server/resource_limits.h"

namespace osb::runtime {

// What the runtime uses a cgroup for. In v2, cpuacct stands for cpu.stat's usage and freezer for
// cgroup.freeze, both built into every cgroup.
enum class Controller { kCpu, kCpuacct, kMemory, kPids, kFreezer };

const char* ControllerName(Controller c);

// The directory, in each hierarchy, that holds every sandbox's cgroup.
inline constexpr char kCgroupParent[] = "opensandbox";
// CFS period for cpu limits: a quota of N cores is N × this per period.
inline constexpr int64_t kCpuPeriodUs = 100000;

struct CgroupOptions {
  std::string root = "/sys/fs/cgroup";
  absl::Duration freeze_timeout = absl::Seconds(5);  // tasks in uninterruptible I/O delay a freeze
  absl::Duration remove_timeout = absl::Seconds(2);  // exited tasks leave their cgroup lazily
  absl::Duration poll_interval = absl::Milliseconds(1);
};

struct CgroupUsage {
  std::optional<int64_t> cpu_ns;        // CPU time used by every task ever in the cgroup
  std::optional<int64_t> memory_bytes;  // memory charged to it now
};

class SandboxCgroup;

// The host's cgroup setup, detected once. Immutable after Detect, so safe to share.
class CgroupHost {
 public:
  // Looks under `options.root`: cgroup v2 when its cgroup.controllers lists cpu, memory or pids,
  // otherwise v1 with one hierarchy per controller directory (cpu and cpuacct may be one mount).
  // Creates the shared parent `opensandbox` in each hierarchy and, in v2, enables cpu, memory and
  // pids for its children through cgroup.subtree_control. `env` must outlive the host and every
  // cgroup it creates.
  static std::unique_ptr<CgroupHost> Detect(CgroupEnv& env, CgroupOptions options = {});

  int version() const { return version_; }  // 1 or 2; 0 when neither is mounted under the root
  bool usable() const { return !parents_.empty(); }
  bool Has(Controller c) const { return parents_.count(c) != 0; }
  // Why `c` cannot be used ("no pids controller under /sys/fs/cgroup", "mkdir ...: Permission
  // denied"); "" when it can.
  std::string WhyNot(Controller c) const;

  // One line for the runtime's start banner: the version and controllers in use, and what is not
  // usable and why.
  std::string Summary() const;

  // For a sandbox's status message: which of `limits` this host enforces and which it does not,
  // with the reason ("resource limits enforced (cgroup v1): cpu 500m, pids 4096 (default); NOT
  // enforced: memory 128Mi (no memory controller under /sys/fs/cgroup)").
  std::string Enforcement(const ResourceLimits& limits) const;

  // Gives the sandboxes together the CPU weight of `sandboxes` busy host processes: the parent's
  // cpu.shares (v1, 1024 each) or cpu.weight (v2, 100 each), at least one and within the
  // kernel's maximum. Each sandbox's own cgroup keeps the default weight. At the default parent
  // weight all sandboxes together weigh one process, and a host with many busy threads (the
  // runtime's, its clients') starved them for seconds. No-op without a cpu controller.
  // Thread-safe; concurrent callers must serialize for the last count to win. Runtimes sharing a
  // host share the parent: the last one to write sets it.
  absl::Status WeighSandboxes(std::size_t sandboxes) const;

  // Creates `opensandbox/<sandbox_id>` in every usable hierarchy. FailedPrecondition when none is
  // usable, InvalidArgument for an id that is not a single path component; on any failure nothing
  // is left behind.
  absl::StatusOr<std::unique_ptr<SandboxCgroup>> Create(const std::string& sandbox_id) const;

  // The cgroup `opensandbox/<sandbox_id>` made by an earlier run of the runtime, to manage it
  // again. NotFound when it exists in no usable hierarchy (a hierarchy where it is missing is left
  // out); FailedPrecondition and InvalidArgument as for Create.
  absl::StatusOr<std::unique_ptr<SandboxCgroup>> Open(const std::string& sandbox_id) const;

 private:
  absl::StatusOr<std::unique_ptr<SandboxCgroup>> Build(const std::string& sandbox_id,
                                                       bool create) const;
  CgroupHost(CgroupEnv& env, CgroupOptions options) : env_(env), options_(std::move(options)) {}
  void DetectV1();
  void DetectV2(const std::string& controllers);

  CgroupEnv& env_;
  CgroupOptions options_;
  int version_ = 0;
  std::map<Controller, std::string> parents_;  // usable controller → its `opensandbox` directory
  std::map<Controller, std::string> why_not_;
  bool swap_limited_ = false;  // memory limits also bound swap (v1 memsw, v2 memory.swap.max)
};

// One sandbox's cgroup. Not thread-safe: the sandbox's owner serializes calls.
class SandboxCgroup {
 public:
  // Writes the limits for every controller the host can use (CgroupHost::Enforcement names the
  // rest): cpu as a CFS quota per kCpuPeriodUs (never below the kernel's 1 ms), memory for RAM and,
  // where the kernel accounts it, swap (so the sandbox cannot swap past it), and pids. An error
  // is the kernel refusing a value; the caller must not run the sandbox then.
  absl::Status Apply(const ResourceLimits& limits);

  // Moves `pid` (the whole process) into the cgroup in every hierarchy; children it forks later
  // are born inside.
  absl::Status Attach(pid_t pid);

  // Freezes every task: returns once the kernel reports the cgroup frozen. FailedPrecondition
  // without a freezer; DeadlineExceeded when it is not frozen within the freeze timeout, after
  // which the cgroup is thawed again.
  absl::Status Freeze();

  // Thaws every task and waits until the kernel reports it thawed. FailedPrecondition without a
  // freezer.
  absl::Status Thaw();

  // Removes the cgroup's directories, retrying while the kernel still counts exiting tasks in
  // them (up to the remove timeout). Call once every process in it has been reaped. A directory
  // already gone is not an error.
  absl::Status Remove();

  // CPU time (cpuacct.usage, v2 cpu.stat usage_usec) and memory now (memory.usage_in_bytes,
  // memory.current); a field is empty when its controller is not usable.
  absl::StatusOr<CgroupUsage> Usage();

  // The processes in the cgroup now (cgroup.procs of its first hierarchy).
  absl::StatusOr<std::vector<pid_t>> Processes();

  // The cgroup's directories, one per hierarchy.
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  friend class CgroupHost;
  SandboxCgroup(CgroupEnv& env, const CgroupOptions& options, int version)
      : env_(env), options_(options), version_(version) {}
  std::string File(Controller c, std::string_view name) const;
  absl::Status WaitForFreezerState(bool frozen);

  CgroupEnv& env_;
  CgroupOptions options_;
  int version_;
  bool swap_limited_ = false;
  std::map<Controller, std::string> dir_of_;
  std::vector<std::string> dirs_;
};

}  // namespace osb::runtime
