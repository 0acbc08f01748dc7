#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace osb::bench {
namespace {

// Three decimals: microseconds for values in ms, enough for rates.
double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

double Samples::PercentileMs(double q) const {
  if (ms_.empty()) return 0;
  std::vector<double> sorted = ms_;
  std::sort(sorted.begin(), sorted.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double Samples::MeanMs() const {
  if (ms_.empty()) return 0;
  return std::accumulate(ms_.begin(), ms_.end(), 0.0) / static_cast<double>(ms_.size());
}

LatencySummary Summarize(const Samples& s) {
  return {.n = s.size(),
          .p50 = s.PercentileMs(0.50),
          .p90 = s.PercentileMs(0.90),
          .p99 = s.PercentileMs(0.99),
          .mean = s.MeanMs(),
          .min = s.PercentileMs(0),
          .max = s.PercentileMs(1)};
}

Metric LatencyMetric(std::string id, std::string name, const Samples& s) {
  Metric m{.id = std::move(id), .name = std::move(name), .unit = "ms"};
  if (s.empty()) {
    m.error = "no successful sample";
  } else {
    m.latency = Summarize(s);
  }
  return m;
}

Metric ValueMetric(std::string id, std::string name, double value, std::string unit) {
  return {.id = std::move(id), .name = std::move(name), .unit = std::move(unit), .value = value};
}

Metric SkippedMetric(std::string id, std::string name, std::string why) {
  return {.id = std::move(id), .name = std::move(name), .skipped = std::move(why)};
}

Metric ErrorMetric(std::string id, std::string name, std::string error) {
  return {.id = std::move(id), .name = std::move(name), .error = std::move(error)};
}

const Metric* Scenario::Find(const std::string& metric_id) const {
  for (const auto& m : metrics) {
    if (m.id == metric_id) return &m;
  }
  return nullptr;
}

nlohmann::json ToJson(const Metric& m) {
  nlohmann::json j = {{"id", m.id}, {"name", m.name}};
  if (!m.skipped.empty()) {
    j["skipped"] = m.skipped;
    return j;
  }
  if (!m.error.empty()) {
    j["error"] = m.error;
    return j;
  }
  j["unit"] = m.unit;
  if (m.latency.has_value()) {
    const LatencySummary& l = *m.latency;
    j["n"] = l.n;
    j["p50"] = Round3(l.p50);
    j["p90"] = Round3(l.p90);
    j["p99"] = Round3(l.p99);
    j["mean"] = Round3(l.mean);
    j["min"] = Round3(l.min);
    j["max"] = Round3(l.max);
  }
  if (m.value.has_value()) j["value"] = Round3(*m.value);
  for (const auto& [key, v] : m.extra) j[key] = Round3(v);
  if (!m.note.empty()) j["note"] = m.note;
  return j;
}

nlohmann::json ToJson(const Scenario& s) {
  nlohmann::json j = {{"id", s.id}, {"title", s.title}};
  if (!s.skipped.empty()) j["skipped"] = s.skipped;
  j["metrics"] = nlohmann::json::array();
  for (const auto& m : s.metrics) j["metrics"].push_back(ToJson(m));
  return j;
}

}  // namespace osb::bench
