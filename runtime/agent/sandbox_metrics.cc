#include "runtime/agent/sandbox_metrics.h"

#include <sched.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"

namespace osb::agent {
namespace {

constexpr double kMib = 1024.0 * 1024.0;

// A /proc file's text; "" once the process is gone.
std::string ReadProcFile(const std::string& path) { return ReadFile(path).value_or(""); }

// utime + stime + cutime + cstime of one /proc/<pid>/stat, in clock ticks; 0 when it is gone.
// The fields after the command name, which may hold spaces and parentheses, are read after its
// last ')'.
int64_t ProcessTicks(const std::string& stat) {
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); utime..cstime are fields 14..17.
  if (fields.size() < 15) return 0;
  int64_t total = 0;
  for (int i = 11; i <= 14; ++i) {
    int64_t v = 0;
    if (absl::SimpleAtoi(fields[static_cast<std::size_t>(i)], &v)) total += v;
  }
  return total;
}

// "Pss:" of /proc/<pid>/smaps_rollup in kB; the resident set (statm) where it is missing.
int64_t ProcessPssKib(const std::string& dir) {
  std::string rollup = ReadProcFile(dir + "/smaps_rollup");
  for (absl::string_view line : absl::StrSplit(rollup, '\n')) {
    if (absl::ConsumePrefix(&line, "Pss:")) {
      line = absl::StripAsciiWhitespace(line);
      absl::ConsumeSuffix(&line, "kB");
      int64_t kib = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib)) return kib;
    }
  }
  std::vector<std::string> statm = absl::StrSplit(ReadProcFile(dir + "/statm"), ' ');
  int64_t pages = 0;
  if (statm.size() > 1 && absl::SimpleAtoi(statm[1], &pages)) {
    return pages * (::sysconf(_SC_PAGESIZE) / 1024);
  }
  return 0;
}

}  // namespace

double MetricsSampler::CpuSeconds() const {
  int64_t ticks = 0;
  for (pid_t pid : ProcessIds(proc_root_)) {
    ticks += ProcessTicks(ReadProcFile(absl::StrCat(proc_root_, "/", pid, "/stat")));
  }
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int64_t MetricsSampler::MemoryBytes() const {
  int64_t kib = 0;
  for (pid_t pid : ProcessIds(proc_root_)) {
    kib += ProcessPssKib(absl::StrCat(proc_root_, "/", pid));
  }
  return kib * 1024;
}

double MetricsSampler::CpuCount() const {
  if (limits_.cpus.has_value()) return *limits_.cpus;
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN));
}

double MetricsSampler::MemoryTotalMib() const {
  if (limits_.memory_bytes.has_value()) return static_cast<double>(*limits_.memory_bytes) / kMib;
  return static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
         static_cast<double>(::sysconf(_SC_PAGESIZE)) / kMib;
}

rest::Metrics MetricsSampler::Sample(double cpu_before, absl::Time before) const {
  const absl::Time now = absl::Now();
  const double used = CpuSeconds() - cpu_before;
  const double wall = absl::ToDoubleSeconds(now - before);
  rest::Metrics m;
  m.cpu_count = CpuCount();
  if (wall > 0 && m.cpu_count > 0) {
    m.cpu_used_pct = std::clamp(100.0 * used / (wall * m.cpu_count), 0.0, 100.0);
  }
  m.mem_total_mib = MemoryTotalMib();
  m.mem_used_mib = static_cast<double>(MemoryBytes()) / kMib;
  m.timestamp_ms = absl::ToUnixMillis(now);
  return m;
}

}  // namespace osb::agent
