// Scenario 4: streaming a large output; file transfers wait on the files API.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/proc_stats.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"
#include "rest/sys/process.h"

namespace osb::bench {
namespace {

struct StreamRun {
  double seconds = 0;
  uint64_t bytes = 0;  // line payload, without line ends
  uint64_t lines = 0;
};

// The median run by rate, reported as MB/s of line payload with lines/s beside it.
Metric StreamMetric(const std::string& id, const std::string& name, std::vector<StreamRun> runs,
                    const std::string& error, uint64_t expect_lines) {
  if (runs.empty()) return ErrorMetric(id, name, error.empty() ? "no run" : error);
  std::sort(runs.begin(), runs.end(), [](const StreamRun& a, const StreamRun& b) {
    return a.bytes / a.seconds < b.bytes / b.seconds;
  });
  const StreamRun& median = runs[runs.size() / 2];
  Metric m =
      ValueMetric(id, name, static_cast<double>(median.bytes) / 1e6 / median.seconds, "MB/s");
  m.extra.emplace_back("lines_per_s", static_cast<double>(median.lines) / median.seconds);
  m.extra.emplace_back("seconds", median.seconds);
  m.extra.emplace_back("runs", static_cast<double>(runs.size()));
  if (median.lines != expect_lines) {
    m.note = absl::StrCat("expected ", expect_lines, " lines, got ", median.lines);
  }
  if (!error.empty()) m.note += " some runs failed: " + error;
  return m;
}

}  // namespace

Scenario Streaming(const BenchConfig& config, Observations& observed) {
  const int mib = config.Pick(8, 64);
  const uint64_t expect_lines = (static_cast<uint64_t>(mib) << 20) / 100 + 1;
  const std::string command =
      absl::StrCat("head -c ", mib, "M /dev/zero | tr '\\0' x | fold -w 100");
  Scenario scenario{.id = "streaming",
                    .title = absl::StrCat("Streaming stdout: `", command, "` (", mib,
                                          " MiB in lines of 100 bytes)")};
  const int runs = config.Pick(1, 3);
  RuntimeClient direct(config.runtime_address, config.api_key);
  auto sandbox = direct.Create();
  if (!sandbox.ok()) {
    scenario.metrics.push_back(
        ErrorMetric("streaming.osbd", "osbd", std::string(sandbox.status().message())));
    return scenario;
  }

  OsbdClient osbd(ConnectOsbd(config.osbd_socket, false));
  std::vector<StreamRun> via_osbd, via_direct, local;
  std::string osbd_error, direct_error, local_error;
  PeakRssSampler rss(config.osbd_pid);
  for (int i = 0; i < runs; ++i) {
    const absl::Time start = absl::Now();
    auto r = osbd.Run(sandbox->id, command, {});
    if (r.ok() && r->exit_code == 0) {
      via_osbd.push_back(
          {absl::ToDoubleSeconds(absl::Now() - start), r->stdout_bytes, r->stdout_lines});
    } else {
      osbd_error = r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    }
  }
  observed.osbd_stream_rss_kib = rss.Stop();
  for (int i = 0; i < runs; ++i) {
    const absl::Time start = absl::Now();
    auto r = direct.Run(*sandbox, command, {});
    if (r.ok() && r->exit_code == 0) {
      via_direct.push_back(
          {absl::ToDoubleSeconds(absl::Now() - start), r->stdout_bytes, r->stdout_lines});
    } else {
      direct_error =
          r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    }
  }
  for (int i = 0; i < runs; ++i) {
    osb::ChildResult r = osb::RunToCompletion({"/bin/bash", "-c", command});
    if (r.exit_code != 0) {
      local_error = absl::StrCat("exit ", r.exit_code);
      continue;
    }
    const auto newlines = static_cast<uint64_t>(std::count(r.out.begin(), r.out.end(), '\n'));
    const uint64_t lines = newlines + (!r.out.empty() && r.out.back() != '\n' ? 1 : 0);
    local.push_back({absl::ToDoubleSeconds(r.wall), r.out.size() - newlines, lines});
  }
  (void)direct.Delete(sandbox->id);

  Metric o = StreamMetric("streaming.osbd", "osbd (gRPC Commands.Run)", via_osbd, osbd_error,
                          expect_lines);
  if (o.error.empty())
    o.extra.emplace_back("osbd_peak_rss_mib", observed.osbd_stream_rss_kib / 1024.0);
  scenario.metrics.push_back(o);
  scenario.metrics.push_back(StreamMetric("streaming.direct",
                                          "direct HTTP to the runtime's proxy (SSE decoded)",
                                          via_direct, direct_error, expect_lines));
  scenario.metrics.push_back(StreamMetric("streaming.local_pipe",
                                          "local `bash -c` into a pipe (the floor)", local,
                                          local_error, expect_lines));
  return scenario;
}

}  // namespace osb::bench
