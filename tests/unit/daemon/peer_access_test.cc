// Who may use osbd's socket (PeerAllowed), how osbd's statistics read in Prometheus's text format,
// and the TCP listener's token check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "daemon/bearer_token_check.h"
#include "daemon/peer_listener.h"
#include "daemon/prometheus_text.h"

namespace osb::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PeerAllowedTest, RootSelfAndTheGroupOnly) {
  EXPECT_TRUE(PeerAllowed(0, 0, {}, 1000, std::nullopt));
  EXPECT_TRUE(PeerAllowed(1000, 1000, {}, 1000, std::nullopt));
  EXPECT_FALSE(PeerAllowed(1001, 1001, {}, 1000, std::nullopt));
  EXPECT_FALSE(PeerAllowed(1001, 1001, {50}, 1000, std::nullopt)) << "no group configured";
  EXPECT_TRUE(PeerAllowed(1001, 50, {}, 1000, 50));
  EXPECT_TRUE(PeerAllowed(1001, 1001, {7, 50}, 1000, 50));
  EXPECT_FALSE(PeerAllowed(1001, 1001, {7}, 1000, 50));
}

TEST(PeerAllowedTest, SupplementaryGroupsOfThisProcess) {
  std::vector<gid_t> mine(static_cast<std::size_t>(::getgroups(0, nullptr)));
  ::getgroups(static_cast<int>(mine.size()), mine.data());
  EXPECT_EQ(SupplementaryGroups(::getpid()), mine);
  EXPECT_TRUE(SupplementaryGroups(-1).empty());
}

TEST(PrometheusTextTest, CountsHistogramsAndEscapedLabels) {
  opensandbox::v1::DaemonStats stats;
  stats.mutable_uptime()->set_seconds(3);
  stats.set_leases(2);
  auto* op = stats.add_operations();
  op->set_operation("/opensandbox.v1.Sandboxes/Create");
  (*op->mutable_outcomes())["OK"] = 4;
  (*op->mutable_outcomes())["NOT_FOUND"] = 1;
  auto* h = op->mutable_latency();
  h->add_bounds()->set_nanos(1000000);  // 1 ms
  h->add_bounds()->set_nanos(10000000);
  h->add_counts(2);
  h->add_counts(2);
  h->add_counts(1);
  h->set_count(5);
  h->mutable_sum()->set_nanos(40000000);
  auto* upstream = stats.add_operations();
  upstream->set_operation("GET /v1/sandboxes/{id}");
  upstream->set_origin("http://127.0.0.1:8080");
  (*upstream->mutable_outcomes())["200"] = 9;
  upstream->mutable_latency()->set_count(9);
  auto* pool = stats.add_pools();
  pool->set_name("we\"ird");
  pool->set_idle(3);
  const std::string text = PrometheusText(stats, 7);
  EXPECT_THAT(text, HasSubstr("osbd_uptime_seconds 3.000\n"));
  EXPECT_THAT(text, HasSubstr("osbd_leases 2\n"));
  EXPECT_THAT(text, HasSubstr("osbd_refused_connections_total 7\n"));
  EXPECT_THAT(text, HasSubstr(
      "osbd_calls_total{method=\"/opensandbox.v1.Sandboxes/Create\",code=\"NOT_FOUND\"} 1\n"));
  // Buckets are cumulative, ending with +Inf = count.
  EXPECT_THAT(text, HasSubstr("_bucket{method=\"/opensandbox.v1.Sandboxes/Create\",le=\"0.001\"} 2"));
  EXPECT_THAT(text, HasSubstr("_bucket{method=\"/opensandbox.v1.Sandboxes/Create\",le=\"0.01\"} 4"));
  EXPECT_THAT(text, HasSubstr("_bucket{method=\"/opensandbox.v1.Sandboxes/Create\",le=\"+Inf\"} 5"));
  EXPECT_THAT(text, HasSubstr("osbd_call_duration_seconds_sum{method=\"/opensandbox.v1.Sandboxes/"
                              "Create\"} 0.040000\n"));
  EXPECT_THAT(text, HasSubstr("osbd_pool_idle{pool=\"we\\\"ird\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE osbd_call_duration_seconds histogram\n"));
  // Upstream operations have their own families, labelled with the origin.
  EXPECT_THAT(text, HasSubstr("osbd_upstream_calls_total{operation=\"GET /v1/sandboxes/{id}\","
                              "origin=\"http://127.0.0.1:8080\",status=\"200\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("osbd_upstream_duration_seconds_count{operation=\"GET /v1/"
                              "sandboxes/{id}\",origin=\"http://127.0.0.1:8080\"} 9\n"));
  EXPECT_THAT(text, Not(HasSubstr("osbd_calls_total{method=\"GET")));
}

TEST(BearerTokenCheckTest, OnlyTheExactTokenPasses) {
  BearerTokenCheck check("0123456789abcdef");
  auto run = [&](const std::string& value) {
    grpc::AuthMetadataProcessor::InputMetadata in;
    if (!value.empty()) in.emplace("authorization", value);
    grpc::AuthMetadataProcessor::OutputMetadata consumed, response;
    return check.Process(in, nullptr, &consumed, &response).error_code();
  };
  EXPECT_EQ(run(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Bearer 0123456789abcdeX"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Bearer 0123456789abcdef0"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Basic 0123456789abcdef"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Bearer 0123456789abcdef"), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace osb::daemon
