#include "daemon/services/readiness.h"

#include <algorithm>
#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "rest/error.h"

namespace osb::daemon {
namespace {

constexpr absl::Duration kFirstPollInterval = absl::Milliseconds(2);
constexpr absl::Duration kMaxPollInterval = absl::Milliseconds(200);
// How often a sandbox whose health probe keeps failing is asked for its state.
constexpr absl::Duration kStateCheckInterval = absl::Milliseconds(500);
// The ErrorInfo reasons common.proto promises for a sandbox that did not become ready in time,
// and for one that failed (Failed or Terminated) while it was waited for.
constexpr char kReadyTimeout[] = "OSBD::READY_TIMEOUT";
constexpr char kSandboxUnhealthy[] = "OSBD::SANDBOX_UNHEALTHY";

class ReadinessWait : public std::enable_shared_from_this<ReadinessWait> {
 public:
  ReadinessWait(DaemonContext& context, Origin origin, rest::Sandbox sandbox,
                absl::Duration timeout, absl::Time deadline, std::function<bool()> cancelled,
                HealthProbe probe, std::function<void(absl::StatusOr<rest::Sandbox>)> done)
      : context_(context),
        probe_(std::move(probe)),
        cancelled_(std::move(cancelled)),
        origin_(std::move(origin)),
        sandbox_(std::move(sandbox)),
        timeout_(timeout),
        deadline_(std::min(absl::Now() + timeout, deadline)),
        done_(std::move(done)) {}

  void WaitUntilRunning() {
    const std::string& state = sandbox_.status.state;
    if (state == "Running") return ResolveEndpoint();
    if (Ended()) return done_(Unhealthy());
    if (absl::Now() >= deadline_) {
      return done_(rest::MakeError(absl::StatusCode::kDeadlineExceeded, kReadyTimeout,
                                   absl::StrCat("sandbox ", sandbox_.id, " was still ", state,
                                                " after ", absl::FormatDuration(timeout_))));
    }
    if (cancelled_()) return done_(absl::CancelledError("the call was cancelled"));
    Refresh(kMaxPollInterval, [self = shared_from_this()](const absl::Status& asked) {
      if (!asked.ok()) return self->done_(asked);
      self->WaitUntilRunning();
    });
  }

 private:
  // Asks the service for the sandbox again after `delay`, on the loop thread; `then` gets how
  // that went, with sandbox_ brought up to date when it went well.
  void Refresh(absl::Duration delay, std::function<void(const absl::Status&)> then) {
    context_.loop().Post(
        [self = shared_from_this(), then = std::move(then)] {
          self->context_.lifecycle().Get(
              self->origin_, self->sandbox_.id, [self, then](auto sandbox) {
                if (sandbox.ok()) {
                  std::optional<rest::ImageSpec> image = self->sandbox_.image;
                  self->sandbox_ = *std::move(sandbox);
                  if (!self->sandbox_.image.has_value()) self->sandbox_.image = image;
                }
                then(sandbox.status());
              });
        },
        delay);
  }

  bool Ended() const {
    return sandbox_.status.state == "Failed" || sandbox_.status.state == "Terminated";
  }
  absl::Status Unhealthy() const {
    return rest::MakeError(
        absl::StatusCode::kFailedPrecondition, kSandboxUnhealthy,
        absl::StrCat("sandbox ", sandbox_.id, " is ", sandbox_.status.state, ": ",
                     sandbox_.status.message.value_or(sandbox_.status.reason.value_or(""))));
  }

  void ResolveEndpoint() {
    // A new sandbox's endpoint is never cached yet: WithExecd asks the server and caches it.
    context_.WithExecd(origin_, sandbox_.id, [self = shared_from_this()](auto endpoint) {
      if (!endpoint.ok()) return self->done_(endpoint.status());
      self->endpoint_ = *std::move(endpoint);
      if (self->probe_.initial_delay <= absl::ZeroDuration()) return self->Probe();
      self->context_.loop().Post([self] { self->Probe(); }, self->probe_.initial_delay);
    });
  }

  void Probe() {
    if (cancelled_()) return done_(absl::CancelledError("the call was cancelled"));
    ++attempts_;
    // One probe may take up to 2 s (a command probe its own limit and a second more), never past
    // the deadline.
    const absl::Duration cap = probe_.kind == HealthProbe::Kind::kCommand
                                   ? probe_.command_timeout + absl::Seconds(1)
                                   : absl::Seconds(2);
    absl::Duration timeout =
        std::max(absl::Milliseconds(50), std::min(cap, deadline_ - absl::Now()));
    RunHealthProbe(context_, origin_, sandbox_.id, endpoint_, probe_, timeout,
                   [self = shared_from_this()](absl::Status s) { self->OnProbe(std::move(s)); });
  }

  void OnProbe(absl::Status status) {
    if (status.ok()) return done_(std::move(sandbox_));
    if (absl::Now() >= deadline_) {
      return done_(rest::MakeError(
          absl::StatusCode::kDeadlineExceeded, kReadyTimeout,
          absl::StrCat("Sandbox health check timed out after ", absl::FormatDuration(timeout_),
                       " (", attempts_, " attempts). Last health check error: ", status.message(),
                       ". Connection context: domain=", origin_.authority,
                       ", use_server_proxy=", origin_.use_server_proxy ? "true" : "false")));
    }
    // A sandbox that fails while its probe keeps failing is told as such, not as a timeout at
    // the deadline: its state is looked at again every so often.
    if (absl::Now() - state_checked_ >= kStateCheckInterval) {
      state_checked_ = absl::Now();
      return Refresh(absl::ZeroDuration(), [self = shared_from_this()](const absl::Status& asked) {
        if (asked.ok() && self->Ended()) return self->done_(self->Unhealthy());
        self->ProbeLater();
      });
    }
    ProbeLater();
  }

  void ProbeLater() {
    if (probe_.interval.has_value()) {
      context_.loop().Post([self = shared_from_this()] { self->Probe(); }, *probe_.interval);
      return;
    }
    context_.loop().Post([self = shared_from_this()] { self->Probe(); }, interval_);
    interval_ = std::min(interval_ * 2, kMaxPollInterval);
  }

  DaemonContext& context_;
  HealthProbe probe_;
  std::function<bool()> cancelled_;
  Origin origin_;
  rest::Sandbox sandbox_;
  absl::Duration timeout_;
  absl::Time deadline_;
  std::function<void(absl::StatusOr<rest::Sandbox>)> done_;
  ExecdEndpoint endpoint_;
  absl::Duration interval_ = kFirstPollInterval;
  int attempts_ = 0;
  absl::Time state_checked_ = absl::Now();
};

}  // namespace

absl::Duration RemainingTime(const grpc::CallbackServerContext* ctx) {
  return absl::FromChrono(ctx->deadline()) - absl::Now();
}

void WaitUntilReady(DaemonContext& context, const grpc::CallbackServerContext* ctx, Origin origin,
                    rest::Sandbox sandbox, absl::Duration timeout,
                    std::function<void(absl::StatusOr<rest::Sandbox>)> done, HealthProbe probe) {
  WaitUntilReady(context, std::move(origin), std::move(sandbox), timeout,
                 absl::Now() + RemainingTime(ctx), [ctx] { return ctx->IsCancelled(); },
                 std::move(done), std::move(probe));
}

void WaitUntilReady(DaemonContext& context, Origin origin, rest::Sandbox sandbox,
                    absl::Duration timeout, absl::Time deadline, std::function<bool()> cancelled,
                    std::function<void(absl::StatusOr<rest::Sandbox>)> done, HealthProbe probe) {
  std::make_shared<ReadinessWait>(context, std::move(origin), std::move(sandbox), timeout,
                                  deadline, std::move(cancelled), std::move(probe),
                                  std::move(done))
      ->WaitUntilRunning();
}

}  // namespace osb::daemon
