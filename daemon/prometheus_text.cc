#include "daemon/prometheus_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

// A label value with backslash, double quote and line feed escaped, as the format requires.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(TimeUtil::DurationToNanoseconds(d)) / 1e9;
}

void Family(std::string* out, const char* name, const char* type, const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

std::string PrometheusText(const v1::DaemonStats& stats, uint64_t refused_connections) {
  std::string out;
  Family(&out, "osbd_uptime_seconds", "gauge", "Seconds since osbd started.");
  absl::StrAppendFormat(&out, "osbd_uptime_seconds %.3f\n", Seconds(stats.uptime()));
  Family(&out, "osbd_active_calls", "gauge", "gRPC calls in progress.");
  absl::StrAppend(&out, "osbd_active_calls ", stats.active_calls(), "\n");
  Family(&out, "osbd_journalled_commands", "gauge", "Commands whose journal is open.");
  absl::StrAppend(&out, "osbd_journalled_commands ", stats.journalled_commands(), "\n");
  Family(&out, "osbd_journal_bytes", "gauge", "Bytes held by all command journals.");
  absl::StrAppend(&out, "osbd_journal_bytes ", stats.journal_bytes(), "\n");
  Family(&out, "osbd_leases", "gauge", "Sandbox leases held.");
  absl::StrAppend(&out, "osbd_leases ", stats.leases(), "\n");
  Family(&out, "osbd_refused_connections_total", "counter",
         "Unix socket connections refused for their peer credentials.");
  absl::StrAppend(&out, "osbd_refused_connections_total ", refused_connections, "\n");

  // gRPC methods have no origin; upstream operations have theirs.
  auto labels = [](const v1::OperationStats& op) {
    return op.origin().empty() ? absl::StrCat("method=\"", Escape(op.operation()), "\"")
                               : absl::StrCat("operation=\"", Escape(op.operation()),
                                              "\",origin=\"", Escape(op.origin()), "\"");
  };
  for (const bool upstream : {false, true}) {
    const char* counter = upstream ? "osbd_upstream_calls_total" : "osbd_calls_total";
    const char* outcome = upstream ? "status" : "code";
    const char* histogram =
        upstream ? "osbd_upstream_duration_seconds" : "osbd_call_duration_seconds";
    Family(&out, counter, "counter",
           upstream ? "Finished upstream requests by route, origin and HTTP status (or transport)."
                    : "Finished gRPC calls by method and code.");
    for (const v1::OperationStats& op : stats.operations()) {
      if (op.origin().empty() == upstream) continue;
      for (const auto& [code, count] : op.outcomes()) {
        absl::StrAppend(&out, counter, "{", labels(op), ",", outcome, "=\"", Escape(code), "\"} ",
                        count, "\n");
      }
    }
    Family(&out, histogram, "histogram",
           upstream ? "Upstream request latency by route and origin."
                    : "gRPC call latency by method.");
    for (const v1::OperationStats& op : stats.operations()) {
      if (op.origin().empty() == upstream) continue;
      const v1::LatencyHistogram& h = op.latency();
      const std::string l = labels(op);
      uint64_t cumulative = 0;
      for (int i = 0; i < h.bounds_size() && i < h.counts_size(); ++i) {
        cumulative += h.counts(i);
        absl::StrAppendFormat(&out, "%s_bucket{%s,le=\"%g\"} %d\n", histogram, l,
                              Seconds(h.bounds(i)), cumulative);
      }
      absl::StrAppend(&out, histogram, "_bucket{", l, ",le=\"+Inf\"} ", h.count(), "\n");
      absl::StrAppendFormat(&out, "%s_sum{%s} %.6f\n", histogram, l, Seconds(h.sum()));
      absl::StrAppend(&out, histogram, "_count{", l, "} ", h.count(), "\n");
    }
  }

  Family(&out, "osbd_upstream_retries_total", "counter",
         "Upstream requests sent again (idempotent retries, resends after a stale connection).");
  for (const v1::OperationStats& op : stats.operations()) {
    if (op.origin().empty() || op.retries() == 0) continue;
    absl::StrAppend(&out, "osbd_upstream_retries_total{", labels(op), "} ", op.retries(), "\n");
  }

  Family(&out, "osbd_pool_idle", "gauge", "Ready sandboxes waiting in a warm pool.");
  for (const v1::PoolGauge& pool : stats.pools()) {
    absl::StrAppend(&out, "osbd_pool_idle{pool=\"", Escape(pool.name()), "\"} ", pool.idle(), "\n");
  }
  Family(&out, "osbd_pool_creating", "gauge", "Sandboxes a warm pool is creating.");
  for (const v1::PoolGauge& pool : stats.pools()) {
    absl::StrAppend(&out, "osbd_pool_creating{pool=\"", Escape(pool.name()), "\"} ",
                    pool.creating(), "\n");
  }

  struct OriginCounter {
    const char* name;
    const char* help;
    uint64_t (v1::OriginStats::*value)() const;
  };
  for (const OriginCounter& counter : {
           OriginCounter{"osbd_upstream_requests_total", "HTTP requests sent per origin.",
                         &v1::OriginStats::requests},
           OriginCounter{"osbd_upstream_errors_total",
                         "HTTP requests per origin that failed (status >= 400 or transport).",
                         &v1::OriginStats::errors},
           OriginCounter{"osbd_upstream_connections_opened_total",
                         "Connections opened per origin (the other requests reused one).",
                         &v1::OriginStats::connections_opened},
           OriginCounter{"osbd_upstream_bytes_sent_total", "Request body bytes per origin.",
                         &v1::OriginStats::bytes_sent},
           OriginCounter{"osbd_upstream_bytes_received_total", "Response body bytes per origin.",
                         &v1::OriginStats::bytes_received}}) {
    Family(&out, counter.name, "counter", counter.help);
    for (const v1::OriginStats& o : stats.origins()) {
      absl::StrAppend(&out, counter.name, "{origin=\"", Escape(o.origin()), "\"} ",
                      (o.*counter.value)(), "\n");
    }
  }
  Family(&out, "osbd_upstream_open_connections", "gauge", "Connections open now per origin.");
  for (const v1::OriginStats& o : stats.origins()) {
    absl::StrAppend(&out, "osbd_upstream_open_connections{origin=\"", Escape(o.origin()), "\"} ",
                    o.open_connections(), "\n");
  }
  Family(&out, "osbd_upstream_idle_connections", "gauge",
         "Connections idle in the keep-alive pool now per origin.");
  for (const v1::OriginStats& o : stats.origins()) {
    absl::StrAppend(&out, "osbd_upstream_idle_connections{origin=\"", Escape(o.origin()), "\"} ",
                    o.idle_connections(), "\n");
  }
  return out;
}

}  // namespace osb::daemon
