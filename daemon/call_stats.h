// CallStats: what osbd's gRPC calls did, per method ("/opensandbox.v1.Sandboxes/Create"), and what
// its upstream requests did, per route and origin: how many, how many failed and with which codes,
// and how long they took (a fixed-bucket latency histogram with estimated percentiles), plus the
// calls in flight. Filled by a server interceptor that sees every call of every service
// (CallStatsInterceptors) and by the upstream loop; read by Daemon.GetStats. Thread-safe.
#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "opensandbox/v1/daemon.pb.h"

namespace osb::daemon {

class CallStats {
 public:
  // One finished call of `method` ("/opensandbox.v1.Sandboxes/Create").
  void Record(const std::string& method, grpc::StatusCode code, absl::Duration latency);
  // One finished upstream request: `operation` is its method and route ("GET /v1/sandboxes/{id}"),
  // `outcome` the HTTP status or "transport", `failed` for HTTP >= 400 or no answer, `retries`
  // how many of its sends were retries.
  void RecordUpstream(const std::string& operation, const std::string& origin,
                      const std::string& outcome, bool failed, absl::Duration latency,
                      int retries = 0);
  void CallStarted() { ++active_; }
  void CallEnded() { --active_; }
  uint64_t active() const { return active_; }

  // Every method called and upstream operation made so far, sorted by name, then origin.
  std::vector<opensandbox::v1::OperationStats> Operations() const;

 private:
  struct Operation {
    uint64_t count = 0, errors = 0, retries = 0;
    std::map<std::string, uint64_t> outcomes;  // gRPC code name or HTTP status → calls
    std::vector<uint64_t> buckets;             // per bound, plus one for beyond the last
    absl::Duration sum = absl::ZeroDuration();
  };

  void Add(const std::string& operation, const std::string& origin, const std::string& outcome,
           bool failed, absl::Duration latency, int retries = 0);

  mutable absl::Mutex mu_;
  // By operation, then origin ("" for gRPC methods).
  std::map<std::pair<std::string, std::string>, Operation> operations_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> active_ = 0;
};

// The interceptors that fill `stats`; give them to ServerBuilder::experimental()
// .SetInterceptorCreators.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
CallStatsInterceptors(CallStats& stats);

}  // namespace osb::daemon
