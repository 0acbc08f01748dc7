// Scenario 4: streaming a large output; file transfers wait on the files API.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/proc_stats.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"
#include "nlohmann/json.hpp"
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

// `yes` writing lines of 76 characters (the agent issue's figure) until `mib` MiB have gone.
struct Workload {
  explicit Workload(int mib)
      : command(absl::StrCat("yes ", std::string(kLineChars, 'x'), " | head -c ", mib, "M")),
        expect_lines(((static_cast<uint64_t>(mib) << 20) + kLineChars) / (kLineChars + 1)),
        payload_bytes((static_cast<uint64_t>(mib) << 20) - (expect_lines - 1)) {}
  static constexpr int kLineChars = 76;
  std::string command;
  uint64_t expect_lines;   // the last one cut short, and flushed as it is
  uint64_t payload_bytes;  // without the line ends
};

}  // namespace

Scenario Streaming(const BenchConfig& config, Observations& observed) {
  // Through osbd, a smaller stream: one gRPC message per line makes it the slowest path.
  const int osbd_mib = config.Pick(8, 64), direct_mib = config.Pick(16, 1024);
  const Workload via_osbd_work(osbd_mib), direct_work(direct_mib);
  Scenario scenario{
      .id = "streaming",
      .title = absl::StrCat("Streaming stdout: lines of ", Workload::kLineChars,
                            " characters from `yes | head -c N` (", direct_mib,
                            " MiB direct and locally, ", osbd_mib, " MiB through osbd)")};
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
    auto r = osbd.Run(sandbox->id, via_osbd_work.command, {});
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
    auto r = direct.Run(*sandbox, direct_work.command, {});
    if (r.ok() && r->exit_code == 0) {
      via_direct.push_back(
          {absl::ToDoubleSeconds(absl::Now() - start), r->stdout_bytes, r->stdout_lines});
    } else {
      direct_error =
          r.ok() ? absl::StrCat("exit ", r->exit_code) : std::string(r.status().message());
    }
  }
  // The curl tool, which reads the stream without decoding it: what the agent and the runtime's
  // proxy deliver.
  std::vector<StreamRun> via_curl;
  std::string curl_error;
  const std::string body = nlohmann::json{{"command", direct_work.command}}.dump();
  // Only the stream's end is kept (tail), to see that it ended with the command's success.
  const std::string curl_command = absl::StrCat(
      "set -o pipefail; curl -sS -N --fail -H 'X-EXECD-ACCESS-TOKEN: ", sandbox->token,
      "' -H 'Content-Type: application/json' --data-binary @- '", sandbox->execd_url,
      "/command' <<'BODY' | tail -c 300\n", body, "\nBODY");
  for (int i = 0; i < runs; ++i) {
    osb::ChildResult r = osb::RunToCompletion({"/bin/bash", "-c", curl_command});
    if (r.exit_code != 0 || !absl::StrContains(r.out, R"("type":"execution_complete")")) {
      curl_error = absl::StrCat("curl exit ", r.exit_code, ", stream ending '", r.out, "' ",
                                r.err);
      continue;
    }
    via_curl.push_back({absl::ToDoubleSeconds(r.wall), direct_work.payload_bytes,
                        direct_work.expect_lines});
  }
  for (int i = 0; i < runs; ++i) {
    // Counted by wc in the pipe, so that the floor holds no copy of the stream.
    osb::ChildResult r =
        osb::RunToCompletion({"/bin/bash", "-c", direct_work.command + " | wc -l"});
    uint64_t newlines = 0;
    if (r.exit_code != 0 ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(r.out), &newlines)) {
      local_error = absl::StrCat("exit ", r.exit_code, " ", r.out);
      continue;
    }
    local.push_back({absl::ToDoubleSeconds(r.wall),
                     (static_cast<uint64_t>(direct_mib) << 20) - newlines, newlines + 1});
  }
  (void)direct.Delete(sandbox->id);

  Metric o = StreamMetric("streaming.osbd", "osbd (gRPC Commands.Run)", via_osbd, osbd_error,
                          via_osbd_work.expect_lines);
  if (o.error.empty())
    o.extra.emplace_back("osbd_peak_rss_mib", observed.osbd_stream_rss_kib / 1024.0);
  scenario.metrics.push_back(o);
  scenario.metrics.push_back(StreamMetric("streaming.direct",
                                          "direct HTTP to the runtime's proxy (SSE decoded)",
                                          via_direct, direct_error, direct_work.expect_lines));
  Metric raw = StreamMetric("streaming.curl",
                             "curl to the runtime's proxy (bytes read, events not decoded)",
                             via_curl, curl_error, direct_work.expect_lines);
  if (raw.error.empty()) raw.note = "lines_per_s counts the lines the command wrote";
  scenario.metrics.push_back(raw);
  scenario.metrics.push_back(StreamMetric("streaming.local_pipe",
                                          "local `bash -c` into a pipe (the floor)", local,
                                          local_error, direct_work.expect_lines));
  return scenario;
}

}  // namespace osb::bench
