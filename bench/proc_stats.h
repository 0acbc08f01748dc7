// What the footprint and connection figures are read from: /proc (resident memory, process
// trees, a process's TCP connections) and the machine's description.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

namespace osb::bench {

// Resident set size of `pid` (VmRSS) in KiB; 0 when the process is gone.
uint64_t RssKiB(pid_t pid);

// Direct children of `pid`.
std::vector<pid_t> ChildrenOf(pid_t pid);

// The first process whose command line (its arguments joined by spaces) contains `needle`; 0
// when none does.
pid_t FindProcess(const std::string& needle);

// Proportional set size of `pid` (Pss of smaps_rollup: shared pages divided among the processes
// that map them) in KiB; 0 when the process is gone.
uint64_t PssKiB(pid_t pid);

// Memory of `pid` and every descendant, in KiB.
struct TreeMemory {
  uint64_t rss_kib = 0;
  uint64_t pss_kib = 0;
};
TreeMemory TreeMemoryOf(pid_t pid);

// The number of `pid`'s sockets that are ESTABLISHED TCP connections to port `remote_port`
// (IPv4 or IPv6), matched by socket inode between /proc/<pid>/fd and /proc/<pid>/net/tcp{,6}.
int EstablishedConnections(pid_t pid, int remote_port);

// MemAvailable of the machine, in KiB.
uint64_t MemAvailableKiB();

// Cores, kernel, CPU model, memory: the machine the figures come from.
nlohmann::json DescribeMachine();

// Calls `sample` every `interval` on a thread of its own and keeps the largest value: the peak
// of a figure (a process's RSS, its connections) while something runs.
//
//   PeakSampler rss([pid] { return RssKiB(pid); });
//   ... the load ...
//   uint64_t peak_kib = rss.Stop();
class PeakSampler {
 public:
  explicit PeakSampler(std::function<uint64_t()> sample,
                       std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  ~PeakSampler();
  // Stops sampling; returns the peak.
  uint64_t Stop();

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> peak_{0};
  std::thread thread_;
};

// The peak RSS of `pid`, in KiB, while it runs.
class PeakRssSampler : public PeakSampler {
 public:
  explicit PeakRssSampler(pid_t pid) : PeakSampler([pid] { return RssKiB(pid); }) {}
};

// The peak of EstablishedConnections(pid, remote_port) while it runs.
class PeakConnectionsSampler : public PeakSampler {
 public:
  PeakConnectionsSampler(pid_t pid, int remote_port)
      : PeakSampler([pid, remote_port] {
          return static_cast<uint64_t>(EstablishedConnections(pid, remote_port));
        }, std::chrono::milliseconds(50)) {}
};

}  // namespace osb::bench
