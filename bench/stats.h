// What a scenario reports: latency samples summarized as percentiles, rates, and the metrics and
// scenarios that carry them into the JSON and Markdown results.
//
//   osb::bench::Samples s;
//   s.Add(absl::Microseconds(830));
//   osb::bench::Metric m = osb::bench::LatencyMetric("roundtrip.osbd", "osbd (gRPC)", s);
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace osb::bench {

// Durations of one operation, in the order they were taken.
class Samples {
 public:
  void Add(absl::Duration d) { ms_.push_back(absl::ToDoubleMilliseconds(d)); }
  void AddMs(double ms) { ms_.push_back(ms); }
  void Append(const Samples& other) { ms_.insert(ms_.end(), other.ms_.begin(), other.ms_.end()); }
  std::size_t size() const { return ms_.size(); }
  bool empty() const { return ms_.empty(); }
  // The q-quantile (0 ≤ q ≤ 1) in milliseconds, nearest rank; 0 when empty.
  double PercentileMs(double q) const;
  double MeanMs() const;

 private:
  std::vector<double> ms_;
};

// Percentiles of a Samples, in milliseconds.
struct LatencySummary {
  std::size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, mean = 0, min = 0, max = 0;
};
LatencySummary Summarize(const Samples& s);

// One measured quantity: `latency` (percentiles in ms) and/or `value` (a rate or a size in
// `unit`); or, instead, a non-empty `skipped` saying why it was not measured on purpose (the
// feature is not built yet, an SDK could not be installed) or a non-empty `error` saying why the
// measurement failed. `extra` carries figures that belong with it (lines/s beside MB/s,
// connections beside commands/s).
struct Metric {
  std::string id;    // stable key that checks and charts use, e.g. "tti.osbd"
  std::string name;  // what a reader sees, e.g. "osbd (gRPC, raw stubs)"
  std::string unit;  // "ms" for latency; "commands/s", "MB/s", "MiB", ...
  std::optional<LatencySummary> latency;
  std::optional<double> value;
  std::vector<std::pair<std::string, double>> extra;
  std::string note;
  std::string skipped;
  std::string error;
};

Metric LatencyMetric(std::string id, std::string name, const Samples& s);
Metric ValueMetric(std::string id, std::string name, double value, std::string unit);
Metric SkippedMetric(std::string id, std::string name, std::string why);
Metric ErrorMetric(std::string id, std::string name, std::string error);

// A scenario's results; `skipped` non-empty when the whole scenario could not run.
struct Scenario {
  std::string id;
  std::string title;
  std::vector<Metric> metrics;
  std::string skipped;
  // Metric ids to find by, for targets and charts.
  const Metric* Find(const std::string& metric_id) const;
};

nlohmann::json ToJson(const Metric& m);
nlohmann::json ToJson(const Scenario& s);

}  // namespace osb::bench
