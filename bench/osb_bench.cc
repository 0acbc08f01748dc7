// osb_bench: the load generator of bench/run. Runs every scenario against an osbd and an
// osb-runtime that are already up (bench/run starts them on temporary paths) and writes the
// results as JSON and Markdown, plus the data of the charts.
//
//   osb_bench --socket /tmp/b/osbd.sock --osbd-pid 123 --runtime 127.0.0.1:40000
//       --runtime-pid 122 --api-key KEY --bin-dir build-release/bin --script-dir bench
//       --out-json latest.json --out-md latest.md --data-dir /tmp/b [--quick]
#include <curl/curl.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_config.h"
#include "bench/proc_stats.h"
#include "bench/report.h"
#include "bench/scenarios.h"

namespace osb::bench {

int BenchConfig::RuntimePort() const {
  int port = 0;
  (void)absl::SimpleAtoi(runtime_address.substr(runtime_address.rfind(':') + 1), &port);
  return port;
}

}  // namespace osb::bench

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CLI::App app{"osb_bench: measures osbd and osb-runtime against their alternatives"};
  osb::bench::BenchConfig config;
  std::string out_json, out_md, data_dir, build_type = "unknown", git_rev = "unknown";
  std::vector<std::string> only;
  app.add_flag("--quick", config.quick, "few iterations per scenario (CI)");
  app.add_option("--socket", config.osbd_socket, "osbd's Unix socket")->required();
  app.add_option("--osbd-pid", config.osbd_pid, "osbd's pid (memory, connections)")->required();
  app.add_option("--runtime", config.runtime_address, "osb-runtime's HOST:PORT")->required();
  app.add_option("--runtime-pid", config.runtime_pid, "osb-runtime's pid")->required();
  app.add_option("--api-key", config.api_key, "osb-runtime's API key")->required();
  app.add_option("--bin-dir", config.bin_dir, "directory of osbctl")->required();
  app.add_option("--script-dir", config.script_dir, "bench/ in the source tree")->required();
  app.add_option("--python", config.python, "Python with the official SDK installed");
  app.add_option("--python-skip", config.python_skip, "why the Python SDK is not measured");
  app.add_option("--node", config.node, "node, for the official JS SDK");
  app.add_option("--js-dir", config.js_dir, "directory whose node_modules has the JS SDK");
  app.add_option("--js-skip", config.js_skip, "why the JS SDK is not measured");
  app.add_option("--build-type", build_type, "CMake build type of the binaries measured");
  app.add_option("--git-rev", git_rev, "commit measured");
  app.add_option("--only", only,
                 "run only these scenarios (tti, roundtrip, throughput, streaming, files, "
                 "warm_pool, footprint, clients); for development")
      ->delimiter(',');
  app.add_option("--out-json", out_json, "write the results here")->required();
  app.add_option("--out-md", out_md, "write the Markdown report here")->required();
  app.add_option("--data-dir", data_dir, "write the charts' data files here")->required();
  CLI11_PARSE(app, argc, argv);
  if (config.python.empty() && config.python_skip.empty()) config.python_skip = "not requested";
  if (config.node.empty() && config.js_skip.empty()) config.js_skip = "not requested";

  const std::set<std::string> selected(only.begin(), only.end());
  auto wanted = [&](const std::string& id) { return selected.empty() || selected.count(id) != 0; };
  const absl::Time start = absl::Now();
  osb::bench::Observations observed;
  observed.osbd_idle_rss_kib = osb::bench::RssKiB(config.osbd_pid);
  // Run order differs from report order: see ThroughputDirect.
  std::map<std::string, osb::bench::Scenario> done;
  auto run = [&](const std::string& id, const std::string& phase, auto fn) {
    if (!wanted(id)) return;
    std::fprintf(stderr, "osb_bench: %s%s ...\n", id.c_str(), phase.c_str());
    const absl::Time t = absl::Now();
    fn();
    std::fprintf(stderr, "osb_bench: %s%s done in %.1f s\n", id.c_str(), phase.c_str(),
                 absl::ToDoubleSeconds(absl::Now() - t));
  };
  run("throughput", " (direct HTTP)",
      [&] { done["throughput"] = osb::bench::ThroughputDirect(config); });
  run("tti", "", [&] { done["tti"] = osb::bench::TimeToInteractive(config); });
  run("roundtrip", "", [&] { done["roundtrip"] = osb::bench::CommandRoundTrip(config); });
  run("streaming", "", [&] { done["streaming"] = osb::bench::Streaming(config, observed); });
  run("files", "", [&] { done["files"] = osb::bench::FileTransfers(config); });
  run("warm_pool", "", [&] { done["warm_pool"] = osb::bench::WarmPool(config); });
  run("footprint", "", [&] { done["footprint"] = osb::bench::Footprint(config, observed); });
  run("clients", " (short-lived processes)",
      [&] { done["clients"] = osb::bench::ShortLivedClients(config); });
  run("throughput", " (osbd)",
      [&] { osb::bench::ThroughputOsbd(config, done["throughput"], observed); });
  run("clients", " (64 clients)",
      [&] { osb::bench::ConcurrentClients(config, done["clients"]); });
  if (done.count("footprint") != 0) {
    auto& metrics = done["footprint"].metrics;
    metrics.insert(metrics.begin() + 1, osb::bench::OsbdLoadRssMetric(observed));
  }
  std::vector<osb::bench::Scenario> scenarios;
  for (const char* id :
       {"tti", "roundtrip", "throughput", "streaming", "files", "warm_pool", "footprint", "clients"}) {
    if (done.count(id) != 0) scenarios.push_back(done[id]);
  }

  nlohmann::json meta = {
      {"date", absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", start, absl::UTCTimeZone())},
      {"mode", config.quick ? "quick" : "default"},
      {"duration_s", static_cast<int>(absl::ToDoubleSeconds(absl::Now() - start))},
      {"build_type", build_type},
      {"git_rev", git_rev},
      {"machine", osb::bench::DescribeMachine()},
  };
  nlohmann::json report = osb::bench::ReportJson(meta, scenarios);
  std::ofstream(out_json) << report.dump(2) << "\n";
  std::ofstream(out_md) << osb::bench::ReportMarkdown(report);
  if (auto s = osb::bench::WriteChartData(scenarios, data_dir); !s.ok()) {
    std::fprintf(stderr, "osb_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  curl_global_cleanup();
  return 0;
}
