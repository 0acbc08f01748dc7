// The benchmark scenarios of issue 7, each measuring one thing through osbd and through the
// alternatives a user has, in the same run. A scenario never aborts the run: what failed is an
// error metric, what cannot be measured yet is a skipped one.
#pragma once

#include "bench/bench_config.h"
#include "bench/stats.h"

namespace osb::bench {

// 1. Create → first output of `echo hi` → kill.
Scenario TimeToInteractive(const BenchConfig& config);
// 2. `echo hi` in a live sandbox, one at a time.
Scenario CommandRoundTrip(const BenchConfig& config);
// 3. Commands/s with 1, 8 and 64 concurrent clients, and osbd's upstream connections. The
// direct levels run first of all, while nothing else holds connections to the runtime; the osbd
// levels are appended last of all, since osbd keeps its connections open afterwards (each holds
// one of the runtime's workers).
Scenario ThroughputDirect(const BenchConfig& config);
void ThroughputOsbd(const BenchConfig& config, Scenario& scenario, Observations& observed);
// 4. Stdout MB/s and lines/s of a command that prints a lot; file transfers (not yet).
Scenario Streaming(const BenchConfig& config, Observations& observed);
Scenario FileTransfers(const BenchConfig& config);
// 5. Warm-pool acquire against a cold create, both through osbd.
Scenario WarmPool(const BenchConfig& config);
// 7. Many clients on one osbd: short-lived client processes doing create, run and kill, then
// (appended later) 64 concurrent clients × 1,000 unary calls; errors and upstream connections
// against osbd's pool limit. The processes run before any load has filled osbd's pool, the 64
// clients after every other scenario (see ThroughputDirect).
Scenario ShortLivedClients(const BenchConfig& config);
void ConcurrentClients(const BenchConfig& config, Scenario& scenario);
// 6. Memory of osbd, osb-runtime and sandboxes; create latency and memory against the number of
// live sandboxes.
Scenario Footprint(const BenchConfig& config, const Observations& observed);
// osbd's peak RSS under the 64-client load, measured by ThroughputOsbd, for the footprint.
Metric OsbdLoadRssMetric(const Observations& observed);

}  // namespace osb::bench
