#include "daemon/services/daemon_context.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/log_format.h"
#include "daemon/services/field_error.h"
#include "daemon/warm_pools.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace osb::daemon {

DaemonContext::DaemonContext(Origin default_origin, DaemonInfo info,
                             std::map<std::string, Origin> profiles)
    : default_origin_(std::move(default_origin)),
      profiles_(std::move(profiles)),
      info_(std::move(info)),
      lifecycle_(loop_),
      execd_(loop_),
      leases_(lifecycle_, info_.access_group) {
  // Stopped in the destructor before call_stats_ goes, so the observer never outlives it.
  loop_.SetObserver([this](const CurlLoop::TransferReport& r) {
    call_stats_.RecordUpstream(r.route, r.origin,
                               r.answered ? std::to_string(r.status) : "transport",
                               !r.answered || r.status >= 400, r.latency, r.retries);
  });
  std::vector<std::string> skipped;
  templates_ = std::make_unique<TemplateStore>(
      info_.state_dir.empty() ? "" : info_.state_dir + "/templates", &skipped);
  for (const auto& why : skipped) spdlog::warn("template skipped: {}", why);
  skipped.clear();
  pools_ = std::make_unique<WarmPools>(
      *this, info_.state_dir.empty() ? "" : info_.state_dir + "/pools", &skipped);
  for (const auto& why : skipped) spdlog::warn("pool skipped: {}", why);
}

void DaemonContext::DeleteSandbox(const Origin& origin, const std::string& sandbox_id,
                                  std::function<void(absl::Status)> done) {
  endpoints_.Drop(origin, sandbox_id);
  // A deletion is also a cleanup, which must not end with the call that asked for it.
  lifecycle_.Delete(origin.Detached(), sandbox_id, [done = std::move(done)](absl::Status status) {
    if (done) done(std::move(status));
  });
}

DaemonContext::~DaemonContext() {
  pools_.reset();
  loop_.Stop();
}

absl::StatusOr<Origin> DaemonContext::Resolve(const opensandbox::v1::Connection& c,
                                              const grpc::ServerContextBase* call,
                                              std::shared_ptr<CancelToken> cancel) const {
  Origin o = default_origin_;
  if (!c.profile().empty()) {
    auto profile = profiles_.find(c.profile());
    if (profile == profiles_.end()) {
      return InvalidField("connection.profile",
                          absl::StrCat("names no profile of osbd's config file: '", c.profile(),
                                       "'"));
    }
    o = profile->second;
  }
  if (!c.domain().empty()) {
    std::string protocol = o.protocol, authority;
    if (auto s = ParseDomain(c.domain(), &protocol, &authority); !s.ok()) {
      return AboutField(s, "connection.domain");
    }
    if (authority != o.authority) o.api_key.clear();  // never leak the default key elsewhere
    o.protocol = protocol;
    o.authority = authority;
  }
  if (!c.protocol().empty()) {
    if (c.protocol() != "http" && c.protocol() != "https") {
      return InvalidField("connection.protocol", "must be http or https, got " + c.protocol());
    }
    o.protocol = c.protocol();
  }
  if (!c.api_key().empty()) {
    o.api_key = c.api_key();
    LogSecrets().Add(o.api_key);
  }
  for (const auto& [k, v] : c.headers()) o.headers.emplace_back(k, v);
  if (c.use_server_proxy()) o.use_server_proxy = true;
  if (c.has_request_timeout()) {
    o.request_timeout = absl::Milliseconds(
        google::protobuf::util::TimeUtil::DurationToMilliseconds(c.request_timeout()));
  }
  if (call != nullptr && call->deadline() != std::chrono::system_clock::time_point::max()) {
    // At least a millisecond: libcurl reads 0 as "no timeout".
    const absl::Duration left =
        std::max(absl::FromChrono(call->deadline()) - absl::Now(), absl::Milliseconds(1));
    o.request_timeout = std::min(o.request_timeout, left);
  }
  o.cancel = std::move(cancel);
  return o;
}

absl::StatusOr<Origin> DaemonContext::ResolveForSandbox(const opensandbox::v1::Connection& c,
                                                        const std::string& sandbox_id,
                                                        const grpc::ServerContextBase* call,
                                                        std::shared_ptr<CancelToken> cancel) const {
  if (auto s = RequiredField(sandbox_id, "sandbox_id"); !s.ok()) return s;
  return Resolve(c, call, std::move(cancel));
}

void DaemonContext::WithExecd(const Origin& origin, const std::string& sandbox_id,
                              std::function<void(absl::StatusOr<ExecdEndpoint>)> done) {
  // The calling request's timeout, cancellation, CAs and headers go with the endpoint (the cache
  // is keyed by protocol and authority only), and the way to forget it when a request finds it
  // gone.
  auto for_this_call = [this, origin, sandbox_id](ExecdEndpoint endpoint) {
    endpoint.headers = WithConnectionHeaders(origin.headers, std::move(endpoint.headers));
    endpoint.request_timeout = origin.request_timeout;
    endpoint.cancel = origin.cancel;
    endpoint.ca_file = origin.ca_file;
    // The context outlives the loop that runs every request made with the endpoint.
    endpoint.forget = [this, origin, sandbox_id] { endpoints_.Drop(origin, sandbox_id); };
    return endpoint;
  };
  if (auto cached = endpoints_.Find(origin, sandbox_id); cached.has_value()) {
    return done(for_this_call(*std::move(cached)));
  }
  lifecycle_.GetEndpoint(origin, sandbox_id, kExecdPort,
                         [this, origin, sandbox_id, for_this_call,
                          done = std::move(done)](absl::StatusOr<ExecdEndpoint> endpoint) {
                           if (!endpoint.ok()) return done(std::move(endpoint));
                           endpoints_.Put(origin, sandbox_id, *endpoint);
                           done(for_this_call(*std::move(endpoint)));
                         });
}

}  // namespace osb::daemon
