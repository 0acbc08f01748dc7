#include "daemon/call_stats.h"

#include <algorithm>
#include <array>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "daemon/callback_keep_awake.h"
#include "google/protobuf/util/time_util.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

// Upper bounds of the latency buckets, in microseconds: 250 µs to 60 s.
constexpr std::array<int64_t, 16> kBoundsUs = {250,    500,    1000,    2000,    5000,    10000,
                                               25000,  50000,  100000,  250000,  500000,  1000000,
                                               2500000, 5000000, 10000000, 60000000};

// The upper bound of the bucket holding the q-quantile of `buckets` (`count` calls); the last
// bound for calls beyond it.
google::protobuf::Duration Quantile(const std::vector<uint64_t>& buckets, uint64_t count,
                                    double q) {
  const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count - 1)) + 1;
  uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    seen += buckets[i];
    if (seen >= rank) {
      return TimeUtil::MicrosecondsToDuration(kBoundsUs[std::min(i, kBoundsUs.size() - 1)]);
    }
  }
  return TimeUtil::MicrosecondsToDuration(kBoundsUs.back());
}

class StatsInterceptor final : public grpc::experimental::Interceptor {
 public:
  StatsInterceptor(CallStats& stats, std::string method)
      : stats_(stats), method_(std::move(method)), start_(absl::Now()) {
    stats_.CallStarted();
  }
  ~StatsInterceptor() override { stats_.CallEnded(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      stats_.Record(method_, methods->GetSendStatus().error_code(), absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  CallStats& stats_;
  const std::string method_;
  const absl::Time start_;
};

class StatsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit StatsInterceptorFactory(CallStats& stats) : stats_(stats) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const std::string method = info->method() != nullptr ? info->method() : "";
    if (method == kKeepAwakeMethod) return nullptr;  // osbd's own calls, not a client's
    return new StatsInterceptor(stats_, method);
  }

 private:
  CallStats& stats_;
};

}  // namespace

void CallStats::Record(const std::string& method, grpc::StatusCode code,
                       absl::Duration latency) {
  // absl and gRPC share the canonical code numbering and names.
  Add(method, "", absl::StatusCodeToString(static_cast<absl::StatusCode>(code)),
      code != grpc::StatusCode::OK, latency);
}

void CallStats::RecordUpstream(const std::string& operation, const std::string& origin,
                               const std::string& outcome, bool failed, absl::Duration latency,
                               int retries) {
  Add(operation, origin, outcome, failed, latency, retries);
}

void CallStats::Add(const std::string& operation, const std::string& origin,
                    const std::string& outcome, bool failed, absl::Duration latency,
                    int retries) {
  const int64_t us = absl::ToInt64Microseconds(latency);
  std::size_t bucket = 0;
  while (bucket < kBoundsUs.size() && us > kBoundsUs[bucket]) ++bucket;
  absl::MutexLock lock(&mu_);
  Operation& op = operations_[{operation, origin}];
  if (op.buckets.empty()) op.buckets.assign(kBoundsUs.size() + 1, 0);
  ++op.count;
  if (failed) ++op.errors;
  op.retries += static_cast<uint64_t>(std::max(0, retries));
  ++op.outcomes[outcome];
  ++op.buckets[bucket];
  op.sum += latency;
}

std::vector<v1::OperationStats> CallStats::Operations() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::OperationStats> out;
  for (const auto& [key, op] : operations_) {
    v1::OperationStats stats;
    stats.set_operation(key.first);
    stats.set_origin(key.second);
    stats.set_count(op.count);
    stats.set_errors(op.errors);
    stats.set_retries(op.retries);
    stats.mutable_outcomes()->insert(op.outcomes.begin(), op.outcomes.end());
    v1::LatencyHistogram* h = stats.mutable_latency();
    for (int64_t bound : kBoundsUs) *h->add_bounds() = TimeUtil::MicrosecondsToDuration(bound);
    for (uint64_t n : op.buckets) h->add_counts(n);
    *h->mutable_sum() = TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(op.sum));
    h->set_count(op.count);
    *h->mutable_p50() = Quantile(op.buckets, op.count, 0.50);
    *h->mutable_p90() = Quantile(op.buckets, op.count, 0.90);
    *h->mutable_p99() = Quantile(op.buckets, op.count, 0.99);
    out.push_back(std::move(stats));
  }
  return out;
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
CallStatsInterceptors(CallStats& stats) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<StatsInterceptorFactory>(stats));
  return out;
}

}  // namespace osb::daemon
