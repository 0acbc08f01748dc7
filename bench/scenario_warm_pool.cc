// Scenario 5: acquiring a ready sandbox from an osbd warm pool, against creating one cold
// through osbd, in the same run.
#include <grpcpp/client_context.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/osbd_client.h"
#include "bench/scenarios.h"
#include "rest/sys/process.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"

namespace osb::bench {
namespace {

namespace v1 = opensandbox::v1;

constexpr char kPool[] = "bench-pool";

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

std::string Why(const grpc::Status& status) {
  return absl::StrCat(status.error_code(), ": ", status.error_message());
}

}  // namespace

Scenario WarmPool(const BenchConfig& config) {
  Scenario scenario{.id = "warm_pool",
                    .title = "Warm-pool acquire latency against a cold create (osbd)"};
  const int n = config.Pick(5, 50);
  const uint32_t min_idle = static_cast<uint32_t>(config.Pick(2, 4));
  auto channel = ConnectOsbd(config.osbd_socket, false);
  auto templates = v1::Templates::NewStub(channel);
  auto pools = v1::Pools::NewStub(channel);
  OsbdClient osbd(channel);
  const std::string acquire_id = "warm_pool.acquire", cold_id = "warm_pool.cold_create";
  const std::string acquire_name = "osbd Pools.Acquire (an idle sandbox ready)";
  const std::string cold_name = "osbd Sandboxes.Create (cold, until ready)";
  const std::string osbctl_id = "warm_pool.osbctl_run";
  const std::string osbctl_name = "`osbctl run --pool P -- echo hi` (fresh process)";
  auto fail = [&](const std::string& why) {
    scenario.metrics = {ErrorMetric(acquire_id, acquire_name, why),
                        ErrorMetric(osbctl_id, osbctl_name, why),
                        ErrorMetric(cold_id, cold_name, why)};
    return scenario;
  };

  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefineTemplateRequest request;
    request.mutable_template_()->set_name(kPool);
    request.mutable_template_()->set_image("host");
    request.mutable_template_()->mutable_timeout()->set_seconds(600);
    v1::Template t;
    if (auto s = templates->Define(&ctx, request, &t); !s.ok()) return fail(Why(s));
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefinePoolRequest request;
    request.mutable_pool()->set_name(kPool);
    request.mutable_pool()->set_template_(kPool);
    request.mutable_pool()->set_min_idle(min_idle);
    v1::Pool pool;
    if (auto s = pools->Define(&ctx, request, &pool); !s.ok()) return fail(Why(s));
  }
  // Waits until the pool is full again, so that every acquire measured finds an idle sandbox.
  auto wait_full = [&]() -> bool {
    for (int i = 0; i < 3000; ++i) {
      grpc::ClientContext ctx;
      SetDeadline(ctx);
      v1::GetPoolStatsRequest request;
      request.set_name(kPool);
      v1::PoolStats stats;
      if (pools->GetStats(&ctx, request, &stats).ok() && stats.idle() >= min_idle) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  };

  Samples acquire;
  std::string acquire_error;
  for (int i = 0; i <= n; ++i) {
    if (!wait_full()) {
      acquire_error = "the pool did not refill within 30 s";
      break;
    }
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AcquireSandboxRequest request;
    request.set_pool_name(kPool);
    request.set_policy(v1::ACQUIRE_POLICY_FAIL_FAST);
    v1::AcquireSandboxResponse acquired;
    const absl::Time start = absl::Now();
    grpc::Status s = pools->Acquire(&ctx, request, &acquired);
    const absl::Duration took = absl::Now() - start;
    if (!s.ok() || !acquired.warm()) {
      acquire_error = s.ok() ? "not warm" : Why(s);
      continue;
    }
    if (i > 0) acquire.Add(took);  // the first warms up the connections
    (void)osbd.Kill(acquired.sandbox().id());
  }
  // What a user types: a fresh osbctl process that takes a sandbox from the pool, runs a
  // command in it and kills it.
  Samples osbctl_run;
  std::string osbctl_error;
  for (int i = 0; i < config.Pick(3, 20); ++i) {
    if (!wait_full()) {
      osbctl_error = "the pool did not refill within 30 s";
      break;
    }
    osb::ChildResult r = osb::RunToCompletion({config.bin_dir + "/osbctl", "--socket",
                                               config.osbd_socket, "run", "--pool", kPool, "--",
                                               "echo hi"},
                                              {}, absl::Minutes(2));
    if (r.exit_code != 0 || r.out != "hi\n") {
      osbctl_error = absl::StrCat("exit ", r.exit_code, ": ", r.err.substr(0, 500));
      continue;
    }
    osbctl_run.Add(r.wall);
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeletePoolRequest request;
    request.set_name(kPool);
    v1::DeletePoolResponse response;
    (void)pools->Delete(&ctx, request, &response);
  }

  Samples cold;
  std::string cold_error;
  for (int i = 0; i <= n; ++i) {
    const absl::Time start = absl::Now();
    auto id = osbd.Create();
    const absl::Duration took = absl::Now() - start;
    if (!id.ok()) {
      cold_error = std::string(id.status().message());
      continue;
    }
    if (i > 0) cold.Add(took);
    (void)osbd.Kill(*id);
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteTemplateRequest request;
    request.set_name(kPool);
    v1::DeleteTemplateResponse response;
    (void)templates->Delete(&ctx, request, &response);
  }

  for (auto [id, name, samples, error] :
       {std::tuple{acquire_id, acquire_name, &acquire, &acquire_error},
        std::tuple{osbctl_id, osbctl_name, &osbctl_run, &osbctl_error},
        std::tuple{cold_id, cold_name, &cold, &cold_error}}) {
    if (samples->empty()) {
      scenario.metrics.push_back(ErrorMetric(id, name, error->empty() ? "no sample" : *error));
      continue;
    }
    Metric m = LatencyMetric(id, name, *samples);
    if (!error->empty()) m.note = "some runs failed: " + *error;
    scenario.metrics.push_back(m);
  }
  return scenario;
}

}  // namespace osb::bench
