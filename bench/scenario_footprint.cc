// Scenario 6: memory of osbd, osb-runtime and sandboxes, and how create latency and memory grow
// with the number of live sandboxes.
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/proc_stats.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"

namespace osb::bench {
namespace {

double MiB(uint64_t kib) { return static_cast<double>(kib) / 1024.0; }

}  // namespace

Metric OsbdLoadRssMetric(const Observations& observed) {
  if (observed.osbd_load_rss_kib == 0) {
    return ErrorMetric("footprint.osbd.load_rss", "osbd RSS under load",
                       "the throughput scenario did not run");
  }
  return ValueMetric("footprint.osbd.load_rss", "osbd RSS, peak under load (64 clients)",
                     MiB(observed.osbd_load_rss_kib), "MiB");
}

Scenario Footprint(const BenchConfig& config, const Observations& observed) {
  Scenario scenario{
      .id = "footprint",
      .title = "Footprint: resident memory, and create latency against live sandboxes"};
  scenario.metrics.push_back(ValueMetric("footprint.osbd.idle_rss", "osbd RSS, idle (at start)",
                                         MiB(observed.osbd_idle_rss_kib), "MiB"));
  if (observed.osbd_stream_rss_kib > 0) {
    scenario.metrics.push_back(ValueMetric("footprint.osbd.stream_rss",
                                           "osbd RSS, peak while streaming a large output",
                                           MiB(observed.osbd_stream_rss_kib), "MiB"));
  } else {
    scenario.metrics.push_back(ErrorMetric("footprint.osbd.stream_rss", "osbd RSS while streaming",
                                           "the streaming scenario did not run"));
  }
  RuntimeClient client(config.runtime_address, config.api_key);
  const uint64_t runtime_idle = RssKiB(config.runtime_pid);
  const uint64_t available_before = MemAvailableKiB();
  const std::vector<pid_t> agents_before = ChildrenOf(config.runtime_pid);
  scenario.metrics.push_back(
      ValueMetric("footprint.runtime.idle_rss",
                  absl::StrCat("osb-runtime RSS with ", agents_before.size(), " sandboxes"),
                  MiB(runtime_idle), "MiB"));

  const std::vector<int> levels =
      config.quick ? std::vector<int>{1, 10} : std::vector<int>{1, 10, 100, 200};
  const int probes = config.Pick(3, 10);
  std::vector<DirectSandbox> live;
  std::string error;
  for (int level : levels) {
    while (static_cast<int>(live.size()) < level) {
      auto s = client.Create();
      if (!s.ok()) {
        error = std::string(s.status().message());
        break;
      }
      live.push_back(*s);
    }
    const std::string id = absl::StrCat("footprint.create_at.", level);
    const std::string name =
        absl::StrCat("create (direct HTTP, until /ping answers) with ", level, " live sandboxes");
    if (static_cast<int>(live.size()) < level) {
      scenario.metrics.push_back(ErrorMetric(id, name, "could not reach the level: " + error));
      break;
    }
    // Memory at this level, before the probes add their own.
    uint64_t sandboxes_rss = 0, sandboxes_pss = 0;
    const std::vector<pid_t> agents = ChildrenOf(config.runtime_pid);
    for (pid_t agent : agents) {
      TreeMemory m = TreeMemoryOf(agent);
      sandboxes_rss += m.rss_kib;
      sandboxes_pss += m.pss_kib;
    }
    const uint64_t runtime_rss = RssKiB(config.runtime_pid);
    const uint64_t available = MemAvailableKiB();
    Samples create;
    for (int i = 0; i < probes; ++i) {
      const absl::Time start = absl::Now();
      auto s = client.Create();
      if (!s.ok()) {
        error = std::string(s.status().message());
        continue;
      }
      create.Add(absl::Now() - start);
      (void)client.Delete(s->id);
    }
    Metric m = create.empty() ? ErrorMetric(id, name, error) : LatencyMetric(id, name, create);
    if (m.error.empty()) {
      m.extra.emplace_back("live_sandboxes", static_cast<double>(agents.size()));
      m.extra.emplace_back("runtime_rss_mib", MiB(runtime_rss));
      m.extra.emplace_back("sandboxes_rss_mib", MiB(sandboxes_rss));
      m.extra.emplace_back("sandboxes_pss_mib", MiB(sandboxes_pss));
      m.extra.emplace_back("machine_memory_used_mib",
                           available_before > available ? MiB(available_before - available) : 0.0);
    }
    scenario.metrics.push_back(m);
    if (level == levels.back() && !agents.empty()) {
      const double n = static_cast<double>(agents.size());
      scenario.metrics.push_back(ValueMetric(
          "footprint.sandbox.rss",
          "per sandbox: RSS of osb-agent (PID 1) and its processes (shared library pages counted "
          "in full)",
          MiB(sandboxes_rss) / n, "MiB"));
      scenario.metrics.push_back(ValueMetric(
          "footprint.sandbox.pss",
          "per sandbox: PSS of osb-agent and its processes (shared pages divided among sharers)",
          MiB(sandboxes_pss) / n, "MiB"));
      scenario.metrics.push_back(ValueMetric(
          "footprint.sandbox.machine_memory",
          "per sandbox: machine memory used (MemAvailable drop: RSS + kernel, page cache)",
          available_before > available
              ? MiB(available_before - available) / static_cast<double>(agents.size())
              : 0.0,
          "MiB"));
      scenario.metrics.push_back(
          ValueMetric("footprint.runtime.loaded_rss",
                      absl::StrCat("osb-runtime RSS with ", agents.size(), " sandboxes"),
                      MiB(runtime_rss), "MiB"));
    }
  }
  for (const auto& s : live) (void)client.Delete(s.id);
  return scenario;
}

}  // namespace osb::bench
