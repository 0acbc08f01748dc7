// Scenario 1: time to interactive.
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"
#include "nlohmann/json.hpp"
#include "opensandbox/opensandbox.h"
#include "rest/sys/process.h"

namespace osb::bench {
namespace {

struct CycleSamples {
  Samples create, first_output, cycle, kill;
  std::string error;  // the last failure, if any
};

// Create, run `echo hi` until its first stdout line, kill; the same shape for both clients.
template <typename CreateFn, typename RunFn, typename KillFn>
void Cycle(CycleSamples& out, bool record, CreateFn create, RunFn run, KillFn kill) {
  const absl::Time start = absl::Now();
  auto id = create();
  if (!id.ok()) {
    out.error = std::string(id.status().message());
    return;
  }
  const absl::Time created = absl::Now();
  std::optional<absl::Time> first;
  auto ran = run(*id, [&first] { first = absl::Now(); });
  const absl::Time killing = absl::Now();
  absl::Status killed = kill(*id);
  const absl::Time end = absl::Now();
  if (!ran.ok() || ran->exit_code != 0 || !first.has_value()) {
    out.error =
        ran.ok() ? "echo hi printed nothing or failed" : std::string(ran.status().message());
    return;
  }
  if (!killed.ok()) {
    out.error = std::string(killed.message());
    return;
  }
  if (!record) return;
  out.create.Add(created - start);
  out.first_output.Add(*first - start);
  out.cycle.Add(end - start);
  out.kill.Add(end - killing);
}

Metric Latency(const std::string& id, const std::string& name, const Samples& s,
               const std::string& error) {
  if (s.empty()) return ErrorMetric(id, name, error.empty() ? "no sample" : error);
  Metric m = LatencyMetric(id, name, s);
  if (!error.empty()) m.note = "some runs failed: " + error;
  return m;
}

// Times `argv` run `n` times as a fresh process each; a run counts when it exits 0 and its
// stdout contains `expect`.
Samples TimeFreshProcess(const std::vector<std::string>& argv, int n, const std::string& expect,
                         std::string& error, const std::vector<std::string>& env = {}) {
  Samples s;
  for (int i = 0; i < n; ++i) {
    osb::ChildResult r = osb::RunToCompletion(argv, env, absl::Minutes(2));
    if (r.exit_code != 0 || r.out.find(expect) == std::string::npos) {
      error = absl::StrCat("exit ", r.exit_code, ": ", r.err.substr(0, 500));
      continue;
    }
    s.Add(r.wall);
  }
  return s;
}

// One SDK (Python or JS): a long-lived process running `iterations` cycles and reporting its own
// timings as JSON, and a fresh process per cycle timed from outside.
void SdkMetrics(Scenario& scenario, const std::string& key, const std::string& label,
                const std::vector<std::string>& base_argv, const std::string& skip,
                int long_iterations, int fresh_iterations, const BenchConfig& config) {
  const std::string long_id = "tti." + key + ".long_lived";
  const std::string fresh_id = "tti." + key + ".fresh_process";
  const std::string long_name = label + ", long-lived process";
  if (!skip.empty()) {
    scenario.metrics.push_back(
        SkippedMetric(long_id + ".first_output", long_name + ": first output", skip));
    scenario.metrics.push_back(
        SkippedMetric(long_id + ".cycle", long_name + ": whole cycle", skip));
    scenario.metrics.push_back(
        SkippedMetric(fresh_id + ".cycle", label + ", fresh process: whole cycle", skip));
    return;
  }
  std::vector<std::string> argv = base_argv;
  argv.insert(argv.end(), {"--domain", config.runtime_address, "--api-key", config.api_key});
  const std::vector<std::string> env = {"OPENSANDBOX_DISABLE_METRICS=1"};

  std::vector<std::string> long_argv = argv;
  long_argv.insert(long_argv.end(), {"--iterations", std::to_string(long_iterations)});
  osb::ChildResult r = osb::RunToCompletion(long_argv, env, absl::Minutes(5));
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (r.exit_code != 0 || !j.is_object()) {
    const std::string why = absl::StrCat("exit ", r.exit_code, ": ", r.err.substr(0, 600));
    scenario.metrics.push_back(
        ErrorMetric(long_id + ".first_output", long_name + ": first output", why));
    scenario.metrics.push_back(ErrorMetric(long_id + ".cycle", long_name + ": whole cycle", why));
  } else {
    Samples first, cycle;
    for (double ms : j.value("first_output_ms", std::vector<double>{})) first.AddMs(ms);
    for (double ms : j.value("cycle_ms", std::vector<double>{})) cycle.AddMs(ms);
    scenario.metrics.push_back(
        Latency(long_id + ".first_output", long_name + ": first output", first, ""));
    scenario.metrics.push_back(Latency(long_id + ".cycle", long_name + ": whole cycle", cycle, ""));
  }

  std::vector<std::string> fresh_argv = argv;
  fresh_argv.insert(fresh_argv.end(), {"--iterations", "1", "--warmup", "0"});
  std::string error;
  Samples fresh = TimeFreshProcess(fresh_argv, fresh_iterations, "cycle_ms", error, env);
  scenario.metrics.push_back(
      Latency(fresh_id + ".cycle", label + ", fresh process: whole cycle", fresh, error));
}

}  // namespace

Scenario TimeToInteractive(const BenchConfig& config) {
  Scenario scenario{.id = "tti",
                    .title = "Time to interactive: create → first output of `echo hi` → kill"};
  const int n = config.Pick(5, 40);

  OsbdClient osbd(ConnectOsbd(config.osbd_socket, false));
  CycleSamples via_osbd;
  for (int i = 0; i <= n; ++i) {  // the first cycle warms up connections and caches
    Cycle(
        via_osbd, i > 0, [&] { return osbd.Create(); },
        [&](const std::string& id, const std::function<void()>& first) {
          return osbd.Run(id, "echo hi", first);
        },
        [&](const std::string& id) { return osbd.Kill(id); });
  }
  const std::string osbd_name = "osbd (gRPC, raw stubs)";
  scenario.metrics.push_back(
      Latency("tti.osbd.create", osbd_name + ": create (ready)", via_osbd.create, via_osbd.error));
  scenario.metrics.push_back(Latency("tti.osbd.first_output", osbd_name + ": first output",
                                     via_osbd.first_output, via_osbd.error));
  scenario.metrics.push_back(
      Latency("tti.osbd.cycle", osbd_name + ": whole cycle", via_osbd.cycle, via_osbd.error));

  RuntimeClient direct(config.runtime_address, config.api_key);
  CycleSamples via_direct;
  for (int i = 0; i <= n; ++i) {
    Cycle(
        via_direct, i > 0, [&]() -> absl::StatusOr<DirectSandbox> { return direct.Create(); },
        [&](const DirectSandbox& s, const std::function<void()>& first) {
          return direct.Run(s, "echo hi", first);
        },
        [&](const DirectSandbox& s) { return direct.Delete(s.id); });
  }
  const std::string direct_name = "direct HTTP to osb-runtime (pooled keep-alive)";
  scenario.metrics.push_back(Latency("tti.direct.create", direct_name + ": create (ready)",
                                     via_direct.create, via_direct.error));
  scenario.metrics.push_back(Latency("tti.direct.first_output", direct_name + ": first output",
                                     via_direct.first_output, via_direct.error));
  scenario.metrics.push_back(Latency("tti.direct.cycle", direct_name + ": whole cycle",
                                     via_direct.cycle, via_direct.error));
  scenario.metrics.push_back(Latency("tti.direct.delete", direct_name + ": delete (until 204)",
                                     via_direct.kill, via_direct.error));

  std::string error;
  Samples osbctl = TimeFreshProcess(
      {config.bin_dir + "/osbctl", "--socket", config.osbd_socket, "run", "--", "echo hi"},
      config.Pick(3, 40), "hi", error);
  scenario.metrics.push_back(
      Latency("tti.osbctl.cycle", "`osbctl run -- echo hi` (fresh process)", osbctl, error));

  error.clear();
  Samples curl = TimeFreshProcess(
      {"bash", config.script_dir + "/curl_tti.sh", config.runtime_address, config.api_key},
      config.Pick(3, 15), "hi", error);
  scenario.metrics.push_back(Latency(
      "tti.curl.cycle", "plain curl sequence (bash, a curl process per request)", curl, error));

  SdkMetrics(scenario, "python", "official Python SDK `opensandbox`",
             {config.python, config.script_dir + "/sdk/tti.py"}, config.python_skip,
             config.Pick(3, 15), config.Pick(2, 8), config);
  SdkMetrics(scenario, "js", "official JS SDK `@alibaba-group/opensandbox`",
             {config.node, config.script_dir + "/sdk/tti.mjs", "--module-dir", config.js_dir},
             config.js_skip, config.Pick(3, 15), config.Pick(2, 8), config);
  const auto sdk_options =
      opensandbox::Options{}.set<opensandbox::SocketPathOption>(config.osbd_socket);
  CycleSamples via_sdk;
  for (int i = 0; i <= n; ++i) {
    Cycle(
        via_sdk, i > 0, [&] { return opensandbox::Sandbox::Create("host", {}, sdk_options); },
        [&](opensandbox::Sandbox& sandbox, const std::function<void()>& first) {
          opensandbox::ExecutionHandlers handlers;
          handlers.on_stdout = [&first](const opensandbox::OutputMessage&) { first(); };
          return sandbox.commands().Run("echo hi", {}, handlers);
        },
        [&](opensandbox::Sandbox& sandbox) { return sandbox.Kill(); });
  }
  const std::string sdk_name = "C++ SDK (libopensandbox) through osbd";
  scenario.metrics.push_back(Latency("tti.cpp_sdk.first_output", sdk_name + ": first output",
                                     via_sdk.first_output, via_sdk.error));
  scenario.metrics.push_back(
      Latency("tti.cpp_sdk.cycle", sdk_name + ": whole cycle", via_sdk.cycle, via_sdk.error));
  return scenario;
}

}  // namespace osb::bench
