// Scenario 3: throughput with concurrent clients, and osbd's upstream connections.
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/proc_stats.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"

namespace osb::bench {
namespace {

constexpr int kLevels[] = {1, 8, 64};
constexpr int kSandboxes = 8;
// A call stuck longer than this counts as an error, so a stalled level still ends on time.
constexpr absl::Duration kCallTimeout = absl::Seconds(5);
constexpr absl::Duration kProbeTimeout = absl::Seconds(3);

absl::Duration LevelDuration(const BenchConfig& config) { return absl::Seconds(config.Pick(2, 8)); }

struct LevelResult {
  Samples latency;
  int64_t done = 0;
  int64_t errors = 0;
  std::string last_error;
  absl::Duration elapsed;
  int max_connections = 0;
};

// Runs `clients` threads for `duration`; thread i calls `one(i, error)` in a loop (true: a
// command completed). Samples osbd's upstream connections while they run.
template <typename Fn>
LevelResult RunLevel(int clients, absl::Duration duration, const BenchConfig& config, Fn one) {
  LevelResult result;
  absl::Mutex mu;
  PeakConnectionsSampler connections(config.osbd_pid, config.RuntimePort());
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + duration;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      Samples mine;
      int64_t errors = 0;
      std::string error;
      while (absl::Now() < deadline) {
        const absl::Time t = absl::Now();
        if (one(i, error)) {
          mine.Add(absl::Now() - t);
        } else {
          ++errors;
        }
      }
      absl::MutexLock lock(&mu);
      result.latency.Append(mine);
      result.done += static_cast<int64_t>(mine.size());
      result.errors += errors;
      if (!error.empty()) result.last_error = error;
    });
  }
  for (auto& t : threads) t.join();
  result.elapsed = absl::Now() - start;
  result.max_connections = static_cast<int>(connections.Stop());
  return result;
}

Metric LevelMetric(const std::string& id, const std::string& name, const LevelResult& r,
                   bool with_connections) {
  if (r.done == 0)
    return ErrorMetric(id, name, r.last_error.empty() ? "no command completed" : r.last_error);
  Metric m = LatencyMetric(id, name, r.latency);
  m.value = static_cast<double>(r.done) / absl::ToDoubleSeconds(r.elapsed);
  m.unit = "commands/s (latency in ms)";
  m.extra.emplace_back("errors", static_cast<double>(r.errors));
  if (with_connections) m.extra.emplace_back("upstream_connections_max", r.max_connections);
  if (r.errors > 0) m.note = "errors: " + r.last_error;
  return m;
}

bool Check(const absl::StatusOr<RunResult>& r, std::string& error) {
  if (r.ok() && r->exit_code == 0 && r->stdout_lines == 1) return true;
  error = r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
  return false;
}

}  // namespace

Scenario ThroughputDirect(const BenchConfig& config) {
  Scenario scenario{.id = "throughput",
                    .title = "Throughput: `echo hi` from 1, 8 and 64 concurrent clients"};
  // The setup client's keep-alive connection would hold one of the runtime's workers through the
  // levels: it is closed before they start.
  auto setup = std::make_unique<RuntimeClient>(config.runtime_address, config.api_key);
  std::vector<DirectSandbox> sandboxes;
  for (int i = 0; i < kSandboxes; ++i) {
    auto s = setup->Create();
    if (!s.ok()) {
      scenario.metrics.push_back(
          ErrorMetric("throughput.setup", "sandboxes", std::string(s.status().message())));
      for (const auto& made : sandboxes) (void)setup->Delete(made.id);
      return scenario;
    }
    sandboxes.push_back(*s);
  }
  setup.reset();
  for (int clients : kLevels) {
    std::vector<std::unique_ptr<RuntimeClient>> direct;
    for (int i = 0; i < clients; ++i) {
      direct.push_back(std::make_unique<RuntimeClient>(config.runtime_address, config.api_key));
    }
    LevelResult d =
        RunLevel(clients, LevelDuration(config), config, [&](int i, std::string& error) {
          return Check(direct[i]->Run(sandboxes[i % kSandboxes], "echo hi", {}, kCallTimeout),
                       error);
        });
    scenario.metrics.push_back(LevelMetric(
        absl::StrCat("throughput.direct.c", clients),
        absl::StrCat("direct HTTP, ", clients, " clients (a keep-alive connection each)"), d,
        false));
  }
  setup = std::make_unique<RuntimeClient>(config.runtime_address, config.api_key);
  for (const auto& s : sandboxes) (void)setup->Delete(s.id);
  return scenario;
}

void ThroughputOsbd(const BenchConfig& config, Scenario& scenario, Observations& observed) {
  OsbdClient setup(ConnectOsbd(config.osbd_socket, false));
  std::vector<std::string> sandboxes;
  for (int i = 0; i < kSandboxes; ++i) {
    auto id = setup.Create();
    if (!id.ok()) {
      scenario.metrics.push_back(ErrorMetric("throughput.osbd.setup", "sandboxes through osbd",
                                             std::string(id.status().message())));
      for (const auto& made : sandboxes) (void)setup.Kill(made);
      return;
    }
    sandboxes.push_back(*id);
  }
  for (int clients : kLevels) {
    // A channel (and connection) per client, as separate client processes would have.
    std::vector<std::unique_ptr<OsbdClient>> osbd;
    for (int i = 0; i < clients; ++i) {
      osbd.push_back(std::make_unique<OsbdClient>(ConnectOsbd(config.osbd_socket, true)));
    }
    std::unique_ptr<PeakRssSampler> rss;
    if (clients == 64) rss = std::make_unique<PeakRssSampler>(config.osbd_pid);
    LevelResult r =
        RunLevel(clients, LevelDuration(config), config, [&](int i, std::string& error) {
          return Check(osbd[i]->Run(sandboxes[i % kSandboxes], "echo hi", {}, kCallTimeout), error);
        });
    if (rss) observed.osbd_load_rss_kib = rss->Stop();
    scenario.metrics.push_back(LevelMetric(absl::StrCat("throughput.osbd.c", clients),
                                           absl::StrCat("osbd, ", clients, " clients"), r, true));
  }
  // What another client of the runtime meets right after the load: osb-runtime serves each
  // keep-alive connection on one of its workers until the connection closes.
  absl::SleepFor(absl::Seconds(1));
  scenario.metrics.push_back(
      ValueMetric("throughput.osbd.idle_connections",
                  "osbd's upstream connections to the runtime, 1 s after the load",
                  EstablishedConnections(config.osbd_pid, config.RuntimePort()), "connections"));
  {
    RuntimeClient probe(config.runtime_address, config.api_key);
    const absl::Time start = absl::Now();
    absl::Status s = probe.Health(kProbeTimeout);
    Metric m = ValueMetric("throughput.runtime_after_load",
                           "a new client's GET /health to the runtime right after that load",
                           absl::ToDoubleMilliseconds(absl::Now() - start), "ms");
    if (!s.ok()) m.note = "no answer: " + std::string(s.message());
    scenario.metrics.push_back(m);
  }
  for (const auto& id : sandboxes) (void)setup.Kill(id);
  // Side by side: each level's osbd row beside its direct row.
  std::vector<Metric> ordered;
  for (int clients : kLevels) {
    for (const char* path : {"osbd", "direct"}) {
      if (const Metric* m = scenario.Find(absl::StrCat("throughput.", path, ".c", clients))) {
        ordered.push_back(*m);
      }
    }
  }
  for (const auto& m : scenario.metrics) {
    if (m.id.rfind("throughput.osbd.c", 0) != 0 && m.id.rfind("throughput.direct.c", 0) != 0) {
      ordered.push_back(m);
    }
  }
  scenario.metrics = ordered;
}

}  // namespace osb::bench
