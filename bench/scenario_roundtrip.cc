// Scenario 2: command round trip in a live sandbox.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"
#include "rest/sys/process.h"

namespace osb::bench {
namespace {

// One timed path of an interleaved comparison: its samples and the last error it met.
struct Path {
  Samples samples;
  std::string error;
};

// Runs `paths` in alternating blocks of `kBlock` calls: `warmup` calls of each unrecorded, then
// `n` recorded. Alternation gives every path the same machine (run one after the other, one path
// met the tail of the previous scenario, the kernel still tearing down its sandboxes, and the
// other did not); blocks keep each path's threads as warm as a caller's run of calls keeps them.
template <typename... Fn>
void TimeInterleaved(int warmup, int n, std::pair<Path*, Fn>... paths) {
  constexpr int kBlock = 10;
  auto block = [warmup](int first, int count, Path* path, auto& fn) {
    for (int i = first; i < first + count; ++i) {
      const absl::Time start = absl::Now();
      if (fn(path->error) && i >= warmup) path->samples.Add(absl::Now() - start);
    }
  };
  for (int first = 0; first < warmup + n; first += kBlock) {
    const int count = std::min(kBlock, warmup + n - first);
    (block(first, count, paths.first, paths.second), ...);
  }
}

Metric Result(const std::string& id, const std::string& name, const Path& path) {
  if (path.samples.empty()) {
    return ErrorMetric(id, name, path.error.empty() ? "no sample" : path.error);
  }
  Metric m = LatencyMetric(id, name, path.samples);
  if (!path.error.empty()) m.note = "some runs failed: " + path.error;
  return m;
}

// p50 of `a` minus p50 of `b`, in µs.
Metric Difference(const std::string& id, const std::string& name, const Path& a, const Path& b) {
  if (a.samples.empty() || b.samples.empty()) return ErrorMetric(id, name, "a path had no sample");
  const double us = (a.samples.PercentileMs(0.5) - b.samples.PercentileMs(0.5)) * 1000;
  return ValueMetric(id, name, us, "µs");
}

}  // namespace

Scenario CommandRoundTrip(const BenchConfig& config) {
  Scenario scenario{.id = "roundtrip", .title = "Command round trip: `echo hi` in a live sandbox"};
  RuntimeClient direct(config.runtime_address, config.api_key);
  auto sandbox = direct.Create();
  if (!sandbox.ok()) {
    scenario.skipped = "";
    scenario.metrics.push_back(
        ErrorMetric("roundtrip.osbd", "osbd", std::string(sandbox.status().message())));
    return scenario;
  }
  const int n = config.Pick(100, 1000);
  const int warmup = 20;

  OsbdClient osbd(ConnectOsbd(config.osbd_socket, false));
  Path via_osbd, via_direct, bash;
  auto run_osbd = [&](std::string& error) {
    auto r = osbd.Run(sandbox->id, "echo hi", {});
    if (r.ok() && r->exit_code == 0 && r->stdout_lines == 1) return true;
    error = r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    return false;
  };
  auto run_direct = [&](std::string& error) {
    auto r = direct.Run(*sandbox, "echo hi", {});
    if (r.ok() && r->exit_code == 0 && r->stdout_lines == 1) return true;
    error = r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    return false;
  };
  TimeInterleaved(warmup, n, std::pair{&via_osbd, run_osbd}, std::pair{&via_direct, run_direct});
  // The unary call the overhead target names: Sandboxes.Get against the same GET made directly.
  Path get_osbd, get_direct, version;
  auto status_error = [](const absl::Status& s, std::string& error) {
    if (!s.ok()) error = std::string(s.message());
    return s.ok();
  };
  TimeInterleaved(
      warmup, n,
      std::pair{&get_osbd, [&](std::string& error) { return status_error(osbd.Get(sandbox->id), error); }},
      std::pair{&get_direct,
                [&](std::string& error) { return status_error(direct.Get(sandbox->id), error); }},
      std::pair{&version, [&](std::string& error) { return status_error(osbd.Version(), error); }});
  // A call after a pause: gRPC's callback threads sleep after a second without events
  // (CallbackKeepAwake in osbd keeps them polling).
  Path after_idle;
  for (int i = 0; i < config.Pick(3, 10); ++i) {
    absl::SleepFor(absl::Milliseconds(1300));
    const absl::Time start = absl::Now();
    if (absl::Status s = osbd.Version(); s.ok()) {
      after_idle.samples.Add(absl::Now() - start);
    } else {
      after_idle.error = std::string(s.message());
    }
  }
  auto run_bash = [&](std::string& error) {
    osb::ChildResult r = osb::RunToCompletion({"/bin/bash", "-c", "echo hi"});
    if (r.exit_code == 0 && r.out == "hi\n") return true;
    error = absl::StrCat("exit ", r.exit_code);
    return false;
  };
  TimeInterleaved(5, config.Pick(50, 300), std::pair{&bash, run_bash});
  (void)direct.Delete(sandbox->id);

  scenario.metrics.push_back(
      Result("roundtrip.osbd", "osbd (gRPC Commands.Run, raw stubs)", via_osbd));
  scenario.metrics.push_back(Result("roundtrip.direct",
                                    "direct HTTP to the runtime's proxy (pooled keep-alive)",
                                    via_direct));
  scenario.metrics.push_back(
      Result("roundtrip.bash_local", "local `bash -c 'echo hi'` (the floor)", bash));
  scenario.metrics.push_back(
      Result("roundtrip.get_osbd", "Sandboxes.Get through osbd (unary)", get_osbd));
  scenario.metrics.push_back(Result(
      "roundtrip.get_direct", "GET /v1/sandboxes/{id} direct (pooled keep-alive)", get_direct));
  scenario.metrics.push_back(Result(
      "roundtrip.version_osbd", "Daemon.GetVersion through osbd (unary, no upstream: gRPC alone)",
      version));
  scenario.metrics.push_back(Result("roundtrip.version_after_idle",
                                    "Daemon.GetVersion after 1.3 s without calls", after_idle));
  scenario.metrics.push_back(Difference("roundtrip.osbd_overhead",
                                        "osbd overhead per unary call (p50 Get through osbd − "
                                        "p50 direct GET)",
                                        get_osbd, get_direct));
  scenario.metrics.push_back(Difference(
      "roundtrip.osbd_run_overhead",
      "osbd overhead per streamed `echo hi` (p50 osbd − p50 direct: three events, three messages)",
      via_osbd, via_direct));
  return scenario;
}

}  // namespace osb::bench
