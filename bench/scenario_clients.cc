// Scenario 7: many clients on one osbd. 64 concurrent clients × 1,000 unary operations, and 1,000
// short-lived client processes each doing create, run and kill (`osbctl run`): errors, and how
// many upstream connections osbd needed against its pool limit.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/proc_stats.h"
#include "bench/scenarios.h"
#include "rest/sys/process.h"

namespace osb::bench {
namespace {

// osbd's limit of connections to one origin (kMaxConnectionsPerHost, daemon/upstream/curl_loop.cc).
constexpr int kPoolLimit = 64;
constexpr int kClients = 64;
constexpr int kSandboxes = 8;
constexpr int kProcessesAtOnce = 8;
constexpr absl::Duration kProcessTimeout = absl::Minutes(1);

// What the load did, from the clients' side and from osbd's pool.
struct LoadResult {
  Samples latency;
  int64_t attempted = 0;
  int64_t errors = 0;
  std::string last_error;
  absl::Duration elapsed;
  uint64_t connections_max = 0;     // ESTABLISHED to the runtime, sampled while it ran
  uint64_t connections_opened = 0;  // by osbd while it ran (Daemon.GetStats)
  uint32_t connections_before = 0;  // open when it started
};

// Runs `workers` threads, each calling `one(worker, error)` `per_worker` times (true: the
// operation succeeded), while sampling osbd's upstream connections.
template <typename Fn>
LoadResult RunLoad(const BenchConfig& config, OsbdClient& stats_client, int workers,
                   int per_worker, Fn one) {
  LoadResult result;
  auto before = stats_client.UpstreamPool();
  PeakConnectionsSampler connections(config.osbd_pid, config.RuntimePort());
  absl::Mutex mu;
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Samples mine;
      int64_t errors = 0;
      std::string error;
      for (int i = 0; i < per_worker; ++i) {
        const absl::Time t = absl::Now();
        if (one(w, error)) {
          mine.Add(absl::Now() - t);
        } else {
          ++errors;
        }
      }
      absl::MutexLock lock(&mu);
      result.latency.Append(mine);
      result.attempted += per_worker;
      result.errors += errors;
      if (!error.empty()) result.last_error = error;
    });
  }
  for (auto& t : threads) t.join();
  result.elapsed = absl::Now() - start;
  result.connections_max = connections.Stop();
  auto after = stats_client.UpstreamPool();
  if (before.ok() && after.ok()) {
    result.connections_before = before->open_connections;
    result.connections_opened = after->connections_opened - before->connections_opened;
  } else {
    result.last_error = std::string((before.ok() ? after : before).status().message());
    ++result.errors;
  }
  return result;
}

// The load's row (latency and rate, with its errors and connections), then its errors and
// connection figures as metrics of their own, for the targets.
void AddLoadMetrics(Scenario& scenario, const std::string& id, const std::string& name,
                    const std::string& unit, const LoadResult& r) {
  Metric m = r.latency.empty()
                 ? ErrorMetric(id, name, r.last_error.empty() ? "nothing succeeded" : r.last_error)
                 : LatencyMetric(id, name, r.latency);
  if (!r.latency.empty()) {
    m.value = static_cast<double>(r.latency.size()) / absl::ToDoubleSeconds(r.elapsed);
    m.unit = unit + " (latency in ms)";
    m.extra = {{"attempted", static_cast<double>(r.attempted)},
               {"errors", static_cast<double>(r.errors)},
               {"upstream_connections_max", static_cast<double>(r.connections_max)},
               {"connections_opened", static_cast<double>(r.connections_opened)},
               {"connections_open_before", static_cast<double>(r.connections_before)},
               {"pool_limit", kPoolLimit}};
    if (r.errors > 0) m.note = "errors: " + r.last_error;
  }
  scenario.metrics.push_back(m);
  scenario.metrics.push_back(ValueMetric(id + ".errors", name + ": errors",
                                         static_cast<double>(r.errors), "errors"));
  scenario.metrics.push_back(ValueMetric(
      id + ".upstream_connections_max", name + ": osbd's upstream connections at most (sampled)",
      static_cast<double>(r.connections_max), "connections"));
  scenario.metrics.push_back(ValueMetric(id + ".connections_opened",
                                         name + ": upstream connections osbd opened meanwhile",
                                         static_cast<double>(r.connections_opened),
                                         "connections"));
}

}  // namespace

Scenario ShortLivedClients(const BenchConfig& config) {
  Scenario scenario{.id = "clients",
                    .title = "Many clients on one osbd: short-lived client processes, and 64 "
                             "concurrent clients"};
  // kProcessesAtOnce at a time, each a fresh osbctl that creates a sandbox, runs a command in it
  // and kills it: what a script calling osbctl in a loop does.
  OsbdClient stats(ConnectOsbd(config.osbd_socket, false));
  const int processes = config.Pick(40, 1000);
  const std::vector<std::string> argv = {config.bin_dir + "/osbctl", "--socket",
                                         config.osbd_socket, "run", "--", "true"};
  LoadResult runs = RunLoad(config, stats, kProcessesAtOnce, processes / kProcessesAtOnce,
                            [&](int, std::string& error) {
                              osb::ChildResult r = osb::RunToCompletion(argv, {}, kProcessTimeout);
                              if (r.exit_code == 0) return true;
                              error = absl::StrCat("exit ", r.exit_code, ": ",
                                                   r.err.substr(0, 300));
                              return false;
                            });
  AddLoadMetrics(scenario, "clients.processes",
                 absl::StrCat(processes, " `osbctl run -- true` processes (create, run, kill), ",
                              kProcessesAtOnce, " at a time"),
                 "processes/s", runs);
  return scenario;
}

void ConcurrentClients(const BenchConfig& config, Scenario& scenario) {
  OsbdClient setup(ConnectOsbd(config.osbd_socket, false));
  std::vector<std::string> sandboxes;
  for (int i = 0; i < kSandboxes; ++i) {
    auto id = setup.Create();
    if (!id.ok()) {
      scenario.metrics.push_back(ErrorMetric("clients.setup", "sandboxes through osbd",
                                             std::string(id.status().message())));
      for (const auto& made : sandboxes) (void)setup.Kill(made);
      return;
    }
    sandboxes.push_back(*id);
  }
  // A channel (and connection) per client, as separate processes would have, each making its
  // calls one after another: Sandboxes.Get, one upstream GET each.
  const int calls = config.Pick(50, 1000);
  std::vector<std::unique_ptr<OsbdClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<OsbdClient>(ConnectOsbd(config.osbd_socket, true)));
  }
  LoadResult gets = RunLoad(config, setup, kClients, calls, [&](int c, std::string& error) {
    absl::Status s = clients[c]->Get(sandboxes[c % kSandboxes]);
    if (!s.ok()) error = std::string(s.message());
    return s.ok();
  });
  clients.clear();
  for (const auto& id : sandboxes) (void)setup.Kill(id);
  AddLoadMetrics(scenario, "clients.c64_get",
                 absl::StrCat(kClients, " clients × ", calls, " Sandboxes.Get each"), "calls/s",
                 gets);
}

}  // namespace osb::bench
