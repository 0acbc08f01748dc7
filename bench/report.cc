#include "bench/report.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace osb::bench {
namespace {

using json = nlohmann::json;

const Metric* FindMetric(const std::vector<Scenario>& scenarios, const std::string& id) {
  for (const auto& s : scenarios) {
    if (const Metric* m = s.Find(id)) return m;
  }
  return nullptr;
}

// A target met when `measured` ≤ `limit` (or ≥ with `at_least`).
json Target(const std::string& target, const std::string& goal, const Metric* m, bool use_p50,
            double limit, bool at_least, const std::string& unit, const std::string& skip_reason) {
  json t = {{"target", target}, {"goal", goal}, {"met", nullptr}};
  if (m == nullptr || !m->error.empty() || !m->skipped.empty()) {
    t["result"] = !skip_reason.empty()  ? skip_reason
                  : m == nullptr        ? "not measured"
                  : !m->skipped.empty() ? "skipped: " + m->skipped
                                        : "error: " + m->error;
    return t;
  }
  const double v = use_p50 ? m->latency->p50 : *m->value;
  t["result"] = absl::StrFormat("%.3f %s%s (%s)", v, unit, use_p50 ? " p50" : "", m->id);
  t["met"] = at_least ? v >= limit : v <= limit;
  return t;
}

std::string Num(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return "";
  double v = j[key].get<double>();
  if (j[key].is_number_integer() || v == static_cast<double>(static_cast<int64_t>(v))) {
    return absl::StrFormat("%d", static_cast<int64_t>(v));
  }
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.3f", v);
}

std::string Escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    if (c == '\n') c = ' ';
    out += c;
  }
  return out;
}

}  // namespace

json EvaluateTargets(const std::vector<Scenario>& scenarios) {
  json targets = json::array();
  targets.push_back(Target("osbd overhead per unary call", "≤ 150 µs p50",
                           FindMetric(scenarios, "roundtrip.osbd_overhead"), false, 150, false,
                           "µs", ""));
  targets.push_back(Target("create (osb-runtime)", "≤ 15 ms",
                           FindMetric(scenarios, "tti.direct.create"), true, 15, false, "ms", ""));
  targets.push_back(Target("delete (osb-runtime)", "≤ 10 ms",
                           FindMetric(scenarios, "tti.direct.delete"), true, 10, false, "ms", ""));
  targets.push_back(Target("`echo` round trip through the runtime's proxy", "≤ 2 ms",
                           FindMetric(scenarios, "roundtrip.direct"), true, 2, false, "ms", ""));
  targets.push_back(Target("`echo` round trip through osbd", "≤ 2 ms",
                           FindMetric(scenarios, "roundtrip.osbd"), true, 2, false, "ms", ""));
  targets.push_back(Target("1 GiB upload", "≥ 500 MB/s, bounded RSS",
                           FindMetric(scenarios, "files.osbd.upload"), false, 500, true, "MB/s",
                           ""));
  targets.push_back(Target("1 GiB download", "≥ 500 MB/s, bounded RSS",
                           FindMetric(scenarios, "files.osbd.download"), false, 500, true, "MB/s",
                           ""));
  targets.push_back(Target("osbd RSS growth over the 1 GiB transfers", "≤ 32 MiB",
                           FindMetric(scenarios, "files.osbd_rss_growth"), false, 32, false,
                           "MiB", ""));
  targets.push_back(Target("osb-agent RSS growth over the 1 GiB transfers", "≤ 32 MiB",
                           FindMetric(scenarios, "files.agent_rss_growth"), false, 32, false,
                           "MiB", ""));
  targets.push_back(Target("1 GiB of 76-character lines on stdout (agent and proxy)",
                           "≥ 150 MB/s", FindMetric(scenarios, "streaming.curl"), false, 150, true,
                           "MB/s", ""));
  targets.push_back(Target("warm-pool acquire", "≤ 2 ms",
                           FindMetric(scenarios, "warm_pool.acquire"), true, 2, false, "ms", ""));
  targets.push_back(Target("`osbctl run` (warm pool)", "≤ 30 ms",
                           FindMetric(scenarios, "warm_pool.osbctl_run"), true, 30, false, "ms",
                           ""));
  targets.push_back(Target("`osbctl run` (cold create)", "≤ 30 ms",
                           FindMetric(scenarios, "tti.osbctl.cycle"), true, 30, false, "ms", ""));
  targets.push_back(Target("64 clients × 1,000 unary calls: errors", "none",
                           FindMetric(scenarios, "clients.c64_get.errors"), false, 0, false,
                           "errors", ""));
  targets.push_back(Target("64 clients × 1,000 unary calls: osbd's upstream connections",
                           "≤ 64 (the pool limit)",
                           FindMetric(scenarios, "clients.c64_get.upstream_connections_max"),
                           false, 64, false, "connections", ""));
  targets.push_back(Target("1,000 short-lived processes (create, run, kill): connections opened",
                           "≤ 64 (the pool limit)",
                           FindMetric(scenarios, "clients.processes.connections_opened"), false,
                           64, false, "connections", ""));
  return targets;
}

json ReportJson(const json& run, const std::vector<Scenario>& scenarios) {
  json report = run;
  report["schema"] = 1;
  report["scenarios"] = json::array();
  for (const auto& s : scenarios) report["scenarios"].push_back(ToJson(s));
  report["targets"] = EvaluateTargets(scenarios);
  return report;
}

std::string ReportMarkdown(const json& report) {
  std::string md;
  const json& m = report["machine"];
  absl::StrAppend(&md, "Run of ", report.value("date", "?"), " (", report.value("mode", "?"),
                  " mode, ", report.value("duration_s", 0), " s) on ", m.value("cpu_model", "?"),
                  ", ", m.value("cores", 0), " cores, ", m.value("memory_mib", 0), " MiB, ",
                  m.value("kernel", "?"), ", ", m.value("os", "?"), "; build ",
                  report.value("build_type", "?"), ", commit ", report.value("git_rev", "?"),
                  ".\n\n");
  absl::StrAppend(&md,
                  "Latencies in ms (p50 / p90 / p99 over n runs); rates in the value column.\n\n");
  int number = 0;
  for (const auto& s : report["scenarios"]) {
    absl::StrAppend(&md, "### ", ++number, ". ", Escape(s.value("title", "")), "\n\n");
    if (s.contains("skipped")) {
      absl::StrAppend(&md, "Skipped: ", Escape(s["skipped"]), "\n\n");
      continue;
    }
    absl::StrAppend(&md, "| metric | n | p50 | p90 | p99 | value | notes |\n");
    absl::StrAppend(&md, "|---|---:|---:|---:|---:|---:|---|\n");
    for (const auto& x : s["metrics"]) {
      std::string value, notes;
      if (x.contains("value")) value = absl::StrCat(Num(x, "value"), " ", x.value("unit", ""));
      if (x.contains("skipped")) notes = "skipped: " + x["skipped"].get<std::string>();
      if (x.contains("error")) notes = "**error**: " + x["error"].get<std::string>();
      for (const auto& [key, v] : x.items()) {
        static const char* kShown[] = {"id",   "name", "unit", "n",     "p50",     "p90",   "p99",
                                       "mean", "min",  "max",  "value", "skipped", "error", "note"};
        bool shown = false;
        for (const char* k : kShown) shown = shown || key == k;
        if (!shown && v.is_number())
          absl::StrAppend(&notes, notes.empty() ? "" : ", ", key, " ", Num(x, key.c_str()));
      }
      if (x.contains("note"))
        absl::StrAppend(&notes, notes.empty() ? "" : "; ", x["note"].get<std::string>());
      absl::StrAppend(&md, "| ", Escape(x.value("name", "")), " | ", Num(x, "n"), " | ",
                      Num(x, "p50"), " | ", Num(x, "p90"), " | ", Num(x, "p99"), " | ", value,
                      " | ", Escape(notes), " |\n");
    }
    md += "\n";
  }
  absl::StrAppend(&md, "### Targets\n\n| target | goal | this run | met |\n|---|---|---|---|\n");
  for (const auto& t : report["targets"]) {
    const std::string met = t["met"].is_null()     ? "not measured"
                            : t["met"].get<bool>() ? "yes"
                                                   : "**no**";
    absl::StrAppend(&md, "| ", Escape(t["target"]), " | ", Escape(t["goal"]), " | ",
                    Escape(t["result"]), " | ", met, " |\n");
  }
  return md;
}

absl::Status WriteChartData(const std::vector<Scenario>& scenarios, const std::string& dir) {
  std::ofstream load(dir + "/latency_vs_load.dat");
  load << "# clients osbd_p50_ms osbd_p99_ms direct_p50_ms direct_p99_ms osbd_cmds_per_s "
          "direct_cmds_per_s\n";
  for (int clients : {1, 8, 64}) {
    const Metric* o = FindMetric(scenarios, absl::StrCat("throughput.osbd.c", clients));
    const Metric* d = FindMetric(scenarios, absl::StrCat("throughput.direct.c", clients));
    if (o == nullptr || d == nullptr || !o->latency || !d->latency) continue;
    load << clients << " " << o->latency->p50 << " " << o->latency->p99 << " " << d->latency->p50
         << " " << d->latency->p99 << " " << o->value.value_or(0) << " " << d->value.value_or(0)
         << "\n";
  }
  std::ofstream create(dir + "/create_vs_sandboxes.dat");
  create << "# live_sandboxes create_p50_ms create_p90_ms create_p99_ms machine_memory_used_mib\n";
  for (int level : {1, 10, 100, 200}) {
    const Metric* c = FindMetric(scenarios, absl::StrCat("footprint.create_at.", level));
    if (c == nullptr || !c->latency) continue;
    double used = 0;
    for (const auto& [k, v] : c->extra) {
      if (k == "machine_memory_used_mib") used = v;
    }
    create << level << " " << c->latency->p50 << " " << c->latency->p90 << " " << c->latency->p99
           << " " << used << "\n";
  }
  if (!load || !create) return absl::InternalError("cannot write chart data in " + dir);
  return absl::OkStatus();
}

}  // namespace osb::bench
