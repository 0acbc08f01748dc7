// The results of a run as a JSON document (bench/results/latest.json), a Markdown report
// (latest.md), and the data files the gnuplot charts are drawn from.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/stats.h"
#include "nlohmann/json.hpp"

namespace osb::bench {

// The issues' targets beside what this run measured: [{target, goal, result, met}], with `met`
// null when the run could not measure it.
nlohmann::json EvaluateTargets(const std::vector<Scenario>& scenarios);

// The whole report; `run` holds the date, mode, machine and build.
nlohmann::json ReportJson(const nlohmann::json& run, const std::vector<Scenario>& scenarios);

// The report as Markdown: the machine, a table per scenario, the targets.
std::string ReportMarkdown(const nlohmann::json& report);

// latency_vs_load.dat and create_vs_sandboxes.dat in `dir`, for bench/plot.gp.
absl::Status WriteChartData(const std::vector<Scenario>& scenarios, const std::string& dir);

}  // namespace osb::bench
