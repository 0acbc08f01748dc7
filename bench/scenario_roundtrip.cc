// Scenario 2: command round trip in a live sandbox.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"
#include "rest/sys/process.h"

namespace osb::bench {
namespace {

// Runs `one` (returning true on success) `warmup` times unrecorded, then `n` times recorded.
template <typename Fn>
Samples TimeEach(int warmup, int n, std::string& error, Fn one) {
  Samples s;
  for (int i = 0; i < warmup + n; ++i) {
    const absl::Time start = absl::Now();
    if (!one(error)) continue;
    if (i >= warmup) s.Add(absl::Now() - start);
  }
  return s;
}

Metric Result(const std::string& id, const std::string& name, const Samples& s,
              const std::string& error) {
  if (s.empty()) return ErrorMetric(id, name, error.empty() ? "no sample" : error);
  Metric m = LatencyMetric(id, name, s);
  if (!error.empty()) m.note = "some runs failed: " + error;
  return m;
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
  std::string osbd_error;
  Samples via_osbd = TimeEach(warmup, n, osbd_error, [&](std::string& error) {
    auto r = osbd.Run(sandbox->id, "echo hi", {});
    if (r.ok() && r->exit_code == 0 && r->stdout_lines == 1) return true;
    error = r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    return false;
  });
  std::string direct_error;
  Samples via_direct = TimeEach(warmup, n, direct_error, [&](std::string& error) {
    auto r = direct.Run(*sandbox, "echo hi", {});
    if (r.ok() && r->exit_code == 0 && r->stdout_lines == 1) return true;
    error = r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    return false;
  });
  std::string bash_error;
  Samples bash = TimeEach(5, config.Pick(50, 300), bash_error, [&](std::string& error) {
    osb::ChildResult r = osb::RunToCompletion({"/bin/bash", "-c", "echo hi"});
    if (r.exit_code == 0 && r.out == "hi\n") return true;
    error = absl::StrCat("exit ", r.exit_code);
    return false;
  });
  (void)direct.Delete(sandbox->id);

  scenario.metrics.push_back(
      Result("roundtrip.osbd", "osbd (gRPC Commands.Run, raw stubs)", via_osbd, osbd_error));
  scenario.metrics.push_back(Result("roundtrip.direct",
                                    "direct HTTP to the runtime's proxy (pooled keep-alive)",
                                    via_direct, direct_error));
  scenario.metrics.push_back(
      Result("roundtrip.bash_local", "local `bash -c 'echo hi'` (the floor)", bash, bash_error));
  if (!via_osbd.empty() && !via_direct.empty()) {
    const double overhead_us = (via_osbd.PercentileMs(0.5) - via_direct.PercentileMs(0.5)) * 1000;
    Metric m = ValueMetric("roundtrip.osbd_overhead",
                           "osbd overhead per call (p50 osbd − p50 direct)", overhead_us, "µs");
    scenario.metrics.push_back(m);
  } else {
    scenario.metrics.push_back(
        ErrorMetric("roundtrip.osbd_overhead", "osbd overhead per call", "a path had no sample"));
  }
  return scenario;
}

}  // namespace osb::bench
