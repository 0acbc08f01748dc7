// CallStats: counts, outcomes and the latency histogram behind Daemon.GetStats.
#include "daemon/call_stats.h"

#include <gtest/gtest.h>

#include "google/protobuf/util/time_util.h"

namespace osb::daemon {
namespace {

using google::protobuf::util::TimeUtil;

TEST(CallStatsTest, CountsOutcomesAndEstimatesPercentilesPerMethod) {
  CallStats stats;
  for (int i = 0; i < 98; ++i) {
    stats.Record("/opensandbox.v1.Sandboxes/Get", grpc::StatusCode::OK, absl::Microseconds(800));
  }
  stats.Record("/opensandbox.v1.Sandboxes/Get", grpc::StatusCode::NOT_FOUND, absl::Milliseconds(3));
  stats.Record("/opensandbox.v1.Sandboxes/Get", grpc::StatusCode::OK, absl::Seconds(90));
  stats.Record("/opensandbox.v1.Commands/Run", grpc::StatusCode::OK, absl::Milliseconds(20));

  auto ops = stats.Operations();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].operation(), "/opensandbox.v1.Commands/Run");
  const auto& get = ops[1];
  EXPECT_EQ(get.count(), 100u);
  EXPECT_EQ(get.errors(), 1u);
  EXPECT_EQ(get.outcomes().at("OK"), 99u);
  EXPECT_EQ(get.outcomes().at("NOT_FOUND"), 1u);
  // 800 µs falls in the (500 µs, 1 ms] bucket; the percentile is that bucket's bound.
  EXPECT_EQ(TimeUtil::DurationToMicroseconds(get.latency().p50()), 1000);
  EXPECT_EQ(TimeUtil::DurationToMicroseconds(get.latency().p90()), 1000);
  EXPECT_EQ(TimeUtil::DurationToMicroseconds(get.latency().p99()), 5000);
  EXPECT_EQ(get.latency().counts_size(), get.latency().bounds_size() + 1);
  EXPECT_EQ(get.latency().counts(get.latency().counts_size() - 1), 1u) << "90 s: beyond the last";
  EXPECT_EQ(get.latency().count(), 100u);
}

TEST(CallStatsTest, UpstreamOperationsAreKeptPerOriginWithTheirRetries) {
  CallStats stats;
  stats.RecordUpstream("GET /v1/sandboxes/{id}", "http://a:1", "200", false,
                       absl::Milliseconds(1), 2);
  stats.RecordUpstream("GET /v1/sandboxes/{id}", "http://a:1", "503", true,
                       absl::Milliseconds(1), 3);
  stats.RecordUpstream("GET /v1/sandboxes/{id}", "http://b:1", "200", false,
                       absl::Milliseconds(1));
  auto ops = stats.Operations();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].origin(), "http://a:1");
  EXPECT_EQ(ops[0].count(), 2u);
  EXPECT_EQ(ops[0].errors(), 1u);
  EXPECT_EQ(ops[0].retries(), 5u);
  EXPECT_EQ(ops[1].origin(), "http://b:1");
  EXPECT_EQ(ops[1].retries(), 0u);
}

TEST(CallStatsTest, ActiveCallsGoUpAndDown) {
  CallStats stats;
  stats.CallStarted();
  stats.CallStarted();
  stats.CallEnded();
  EXPECT_EQ(stats.active(), 1u);
}

}  // namespace
}  // namespace osb::daemon
