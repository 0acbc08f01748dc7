#include "daemon/warm_pool.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/owner_id.h"
#include "daemon/template_store.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "rest/error.h"
#include "rest/time_util.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

constexpr absl::Duration kUpkeepInterval = absl::Seconds(5);
constexpr absl::Duration kDefaultIdleTimeout = absl::Hours(24);
constexpr absl::Duration kDefaultMinRemainingTtl = absl::Seconds(60);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
constexpr int kDegradedAfterFailures = 3;

}  // namespace

WarmPool::WarmPool(DaemonContext& context, v1::Pool definition, Origin origin)
    : context_(context),
      definition_(std::move(definition)),
      origin_(std::move(origin)),
      max_idle_(definition_.max_idle() != 0 ? definition_.max_idle() : definition_.min_idle()),
      concurrency_(definition_.warmup_concurrency() != 0 ? definition_.warmup_concurrency() : 4),
      idle_timeout_(definition_.has_idle_timeout() ? ToAbsl(definition_.idle_timeout())
                                                   : kDefaultIdleTimeout),
      min_remaining_ttl_(definition_.has_acquire_min_remaining_ttl()
                             ? ToAbsl(definition_.acquire_min_remaining_ttl())
                             : kDefaultMinRemainingTtl) {
  stats_.set_name(definition_.name());
}

void WarmPool::Start() {
  std::weak_ptr<WarmPool> weak = weak_from_this();
  context_.lifecycle().List(
      origin_, {"Running"},
      {{kPoolLabel, definition_.name()}, {std::string(kOwnerLabel), context_.info().owner}}, 1,
      200,
      [weak](absl::StatusOr<rest::ListSandboxesResponse> page) {
        auto self = weak.lock();
        if (self == nullptr || self->stopped_) return;
        std::vector<std::string> extra;
        if (page.ok()) {
          absl::MutexLock lock(&self->mu_);
          for (const auto& sandbox : page->items) {
            if (!self->draining_ && self->idle_.size() < self->max_idle_) {
              self->idle_.push_back({sandbox.id, absl::Now(), ExpiryOf(sandbox)});
            } else {
              extra.push_back(sandbox.id);
            }
          }
        }
        for (const auto& id : extra) self->Kill(id);
        self->Refill();
      });
  context_.loop().Post(
      [weak] {
        if (auto self = weak.lock()) self->Upkeep();
      },
      kUpkeepInterval);
}

void WarmPool::Drain(bool keep_idle) {
  std::deque<Member> members;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    members.swap(idle_);
  }
  for (const auto& member : members) {
    if (keep_idle) {
      context_.lifecycle().PatchMetadata(origin_, member.id, {{kPoolLabel, nullptr}},
                                         [](absl::StatusOr<rest::Sandbox>) {});
    } else {
      Kill(member.id);
    }
  }
}

void WarmPool::Stop() { stopped_ = true; }

void WarmPool::Acquire(v1::AcquirePolicy policy, std::optional<absl::Duration> sandbox_timeout,
                       std::map<std::string, std::string> labels, AcquireDone done) {
  std::optional<Member> member;
  std::vector<std::string> too_old;
  {
    absl::MutexLock lock(&mu_);
    if (draining_ || stopped_) {
      return done(rest::MakeError(absl::StatusCode::kFailedPrecondition, "OSBD::POOL_DELETING",
                                  "pool " + definition_.name() + " is being deleted"));
    }
    while (!idle_.empty() && !member.has_value()) {
      Member m = std::move(idle_.front());
      idle_.pop_front();
      if (m.expires_at.has_value() && *m.expires_at - absl::Now() < min_remaining_ttl_) {
        stats_.set_discarded(stats_.discarded() + 1);
        too_old.push_back(m.id);
      } else {
        member = std::move(m);
      }
    }
    if (!member.has_value() && policy == v1::ACQUIRE_POLICY_FAIL_FAST) {
      stats_.set_acquire_failures(stats_.acquire_failures() + 1);
    }
  }
  for (const auto& id : too_old) Kill(id);
  if (member.has_value()) {
    return HandOut(*std::move(member), sandbox_timeout, std::move(labels), std::move(done),
                   policy);
  }
  Refill();
  if (policy == v1::ACQUIRE_POLICY_FAIL_FAST) {
    return done(rest::MakeError(absl::StatusCode::kResourceExhausted, "OSBD::POOL_EMPTY",
                                absl::StrCat("pool ", definition_.name(),
                                             " has no idle sandbox ready")));
  }
  CreateDirect(sandbox_timeout, std::move(labels), std::move(done));
}

void WarmPool::HandOut(Member member, std::optional<absl::Duration> sandbox_timeout,
                       std::map<std::string, std::string> labels, AcquireDone done,
                       v1::AcquirePolicy policy) {
  // Untagged, so that a restarted osbd does not take it back into the pool; `labels` in the
  // same PATCH.
  nlohmann::json patch = {{kPoolLabel, nullptr}};
  for (const auto& [key, value] : labels) patch[key] = value;
  context_.lifecycle().PatchMetadata(
      origin_, member.id, patch,
      [self = shared_from_this(), id = member.id, sandbox_timeout, policy,
       labels = std::move(labels),
       done = std::move(done)](absl::StatusOr<rest::Sandbox> sandbox) mutable {
        if (!sandbox.ok()) {
          // Gone or broken while idle: discard it and try the next one.
          {
            absl::MutexLock lock(&self->mu_);
            self->stats_.set_discarded(self->stats_.discarded() + 1);
          }
          self->Kill(id);
          return self->Acquire(policy, sandbox_timeout, std::move(labels), std::move(done));
        }
        {
          absl::MutexLock lock(&self->mu_);
          self->stats_.set_warm_acquires(self->stats_.warm_acquires() + 1);
        }
        self->Deliver(*std::move(sandbox), true, sandbox_timeout, std::move(done));
        // Only now: a create started with the PATCH slowed it down (the server's CPU is shared).
        self->Refill();
      });
}

void WarmPool::CreateDirect(std::optional<absl::Duration> sandbox_timeout,
                            std::map<std::string, std::string> labels, AcquireDone done) {
  auto provisioning = MemberProvisioning(/*tagged=*/false);
  if (!provisioning.ok()) return done(provisioning.status());
  for (auto& [key, value] : labels) provisioning->request.metadata[key] = std::move(value);
  ProvisionSandbox(context_, *std::move(provisioning),
                   [self = shared_from_this(), sandbox_timeout,
                    done = std::move(done)](absl::StatusOr<rest::Sandbox> created) mutable {
                     {
                       absl::MutexLock lock(&self->mu_);
                       if (created.ok()) {
                         self->stats_.set_direct_creates(self->stats_.direct_creates() + 1);
                       } else {
                         self->stats_.set_acquire_failures(self->stats_.acquire_failures() + 1);
                       }
                     }
                     if (!created.ok()) return done(created.status());
                     self->Deliver(*std::move(created), false, sandbox_timeout, std::move(done));
                   });
}

void WarmPool::Deliver(rest::Sandbox sandbox, bool warm, std::optional<absl::Duration> timeout,
                       AcquireDone done) {
  if (!timeout.has_value()) return done(Acquired{std::move(sandbox), warm});
  const std::string id = sandbox.id;
  context_.lifecycle().Renew(
      origin_, id, absl::Now() + *timeout,
      [sandbox = std::move(sandbox), warm, done = std::move(done)](
          absl::StatusOr<std::string> expires_at) mutable {
        if (!expires_at.ok()) return done(expires_at.status());
        sandbox.expires_at = *std::move(expires_at);
        done(Acquired{std::move(sandbox), warm});
      });
}

void WarmPool::Release(const std::string& sandbox_id, bool reuse,
                       std::function<void(absl::StatusOr<bool>)> done) {
  bool room = false;
  {
    absl::MutexLock lock(&mu_);
    room = reuse && !draining_ && !stopped_ && idle_.size() < max_idle_;
  }
  auto kill = [this, self = shared_from_this(), sandbox_id](auto finish) {
    context_.DeleteSandbox(origin_, sandbox_id, [finish](absl::Status status) {
      if (status.ok() || absl::IsNotFound(status)) return finish(false);
      finish(status);
    });
  };
  if (!room) return kill(std::move(done));
  context_.lifecycle().PatchMetadata(
      origin_, sandbox_id,
      {{kPoolLabel, definition_.name()}, {std::string(kOwnerLabel), context_.info().owner}},
      [self = shared_from_this(), sandbox_id, kill,
       done = std::move(done)](absl::StatusOr<rest::Sandbox> sandbox) mutable {
        if (!sandbox.ok()) return done(sandbox.status());
        if (sandbox->status.state == "Running") {
          absl::MutexLock lock(&self->mu_);
          if (!self->draining_ && self->idle_.size() < self->max_idle_) {
            self->idle_.push_back({sandbox_id, absl::Now(), ExpiryOf(*sandbox)});
            self->stats_.set_reused(self->stats_.reused() + 1);
            return done(true);
          }
        }
        kill(std::move(done));
      });
}

v1::PoolStats WarmPool::Stats() const {
  absl::MutexLock lock(&mu_);
  v1::PoolStats stats = stats_;
  stats.set_idle(static_cast<uint32_t>(idle_.size()));
  stats.set_creating(creating_);
  stats.set_state(draining_                                    ? v1::POOL_STATE_DRAINING
                  : failures_in_row_ >= kDegradedAfterFailures ? v1::POOL_STATE_DEGRADED
                                                               : v1::POOL_STATE_RUNNING);
  return stats;
}

void WarmPool::Forget(const std::string& sandbox_id) {
  bool dropped = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find_if(idle_.begin(), idle_.end(),
                           [&](const Member& m) { return m.id == sandbox_id; });
    if (it != idle_.end()) {
      idle_.erase(it);
      dropped = true;
    }
  }
  if (dropped) Refill();
}

void WarmPool::Refill() {
  uint32_t n = 0;
  {
    absl::MutexLock lock(&mu_);
    if (draining_ || stopped_ || absl::Now() < retry_at_) return;
    const uint32_t have = static_cast<uint32_t>(idle_.size()) + creating_;
    if (have >= definition_.min_idle() || creating_ >= concurrency_) return;
    n = std::min(definition_.min_idle() - have, concurrency_ - creating_);
    creating_ += n;
  }
  for (uint32_t i = 0; i < n; ++i) CreateOne();
}

void WarmPool::CreateOne() {
  auto provisioning = MemberProvisioning(/*tagged=*/true);
  if (!provisioning.ok()) return OnCreated(provisioning.status());
  ProvisionSandbox(context_, *std::move(provisioning),
                   [self = shared_from_this()](absl::StatusOr<rest::Sandbox> created) {
                     self->OnCreated(std::move(created));
                   });
}

void WarmPool::OnCreated(absl::StatusOr<rest::Sandbox> created) {
  if (stopped_) return;  // osbd is stopping: a new member stays tagged for the next osbd
  std::optional<std::string> surplus;
  absl::Duration backoff = absl::ZeroDuration();
  {
    absl::MutexLock lock(&mu_);
    --creating_;
    if (created.ok()) {
      if (draining_ || idle_.size() >= max_idle_) {
        surplus = created->id;
      } else {
        idle_.push_back({created->id, absl::Now(), ExpiryOf(*created)});
      }
      failures_in_row_ = 0;
      stats_.clear_last_error();
    } else {
      stats_.set_create_failures(stats_.create_failures() + 1);
      stats_.set_last_error(std::string(created.status().message()));
      ++failures_in_row_;
      backoff =
          std::min(kMaxBackoff, absl::Milliseconds(500) * (1 << std::min(failures_in_row_, 6)));
      retry_at_ = absl::Now() + backoff;
    }
  }
  if (surplus.has_value()) Kill(*surplus);
  if (backoff == absl::ZeroDuration()) return Refill();
  std::weak_ptr<WarmPool> weak = weak_from_this();
  context_.loop().Post(
      [weak] {
        if (auto self = weak.lock()) self->Refill();
      },
      backoff);
}

void WarmPool::Upkeep() {
  std::vector<std::string> expired;
  {
    absl::MutexLock lock(&mu_);
    if (draining_ || stopped_) return;
    const absl::Time now = absl::Now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      const bool old = now - it->idle_since > idle_timeout_;
      const bool expiring =
          it->expires_at.has_value() && *it->expires_at - now < min_remaining_ttl_;
      if (old || expiring) {
        expired.push_back(it->id);
        stats_.set_discarded(stats_.discarded() + 1);
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& id : expired) Kill(id);
  Refill();
  std::weak_ptr<WarmPool> weak = weak_from_this();
  context_.loop().Post(
      [weak] {
        if (auto self = weak.lock()) self->Upkeep();
      },
      kUpkeepInterval);
}

void WarmPool::Kill(const std::string& id) {
  context_.DeleteSandbox(origin_, id);
}

absl::StatusOr<Provisioning> WarmPool::MemberProvisioning(bool tagged) {
  auto t = context_.templates().Get(definition_.template_());
  if (!t.ok()) {
    return rest::MakeError(absl::StatusCode::kFailedPrecondition, "OSBD::TEMPLATE_NOT_FOUND",
                           absl::StrCat("template ", definition_.template_(), " of pool ",
                                        definition_.name(), " no longer exists"));
  }
  v1::CreateSandboxRequest request = ApplyTemplate(*t, v1::CreateSandboxRequest());
  if (tagged) {
    (*request.mutable_metadata())[kPoolLabel] = definition_.name();
    (*request.mutable_metadata())[std::string(kOwnerLabel)] = context_.info().owner;
  }
  auto p = ProvisioningFor(origin_, request);
  if (!p.ok()) return p.status();
  std::weak_ptr<WarmPool> weak = weak_from_this();
  p->cancelled = [weak] {
    auto self = weak.lock();
    return self == nullptr || self->stopped_;
  };
  return p;
}

std::optional<absl::Time> WarmPool::ExpiryOf(const rest::Sandbox& sandbox) {
  if (!sandbox.expires_at.has_value()) return std::nullopt;
  auto t = rest::ParseRfc3339(*sandbox.expires_at);
  if (!t.ok()) return std::nullopt;
  return *t;
}

}  // namespace osb::daemon
