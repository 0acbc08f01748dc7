// execd's metrics (COMPAT.md §2.2, §2.7) measured from inside the sandbox, where osb-agent is
// PID 1 and /proc shows the sandbox's processes only:
// - cpu_count: the sandbox's CPU limit when the runtime enforces one, else the CPUs this
//   process may run on;
// - cpu_used_pct: CPU time used over an interval, in percent of cpu_count. The time is every live
//   process's own plus what its reaped children used (so exited processes count too);
// - mem_total_mib: the sandbox's memory limit when enforced, else the machine's memory;
// - mem_used_mib: the sum of the processes' proportional set sizes (PSS: a page shared with
//   other processes counts in part, so shared libraries are not counted many times).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "rest/execd.h"

namespace osb::agent {

// What the runtime enforces on the sandbox, from osb-agent's command line.
struct SandboxLimits {
  std::optional<double> cpus;
  std::optional<int64_t> memory_bytes;
};

class MetricsSampler {
 public:
  explicit MetricsSampler(SandboxLimits limits, std::string proc_root = "/proc")
      : limits_(limits), proc_root_(std::move(proc_root)) {}

  // CPU seconds used by the sandbox's processes so far.
  double CpuSeconds() const;
  // Bytes of memory the sandbox's processes use (PSS).
  int64_t MemoryBytes() const;

  // A sample whose CPU use is measured between `cpu_before` (CpuSeconds() at `before`) and now.
  rest::Metrics Sample(double cpu_before, absl::Time before) const;

 private:
  double CpuCount() const;
  double MemoryTotalMib() const;

  SandboxLimits limits_;
  std::string proc_root_;
};

}  // namespace osb::agent
