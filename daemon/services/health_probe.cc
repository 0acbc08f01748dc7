#include "daemon/services/health_probe.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/services/field_error.h"
#include "rest/execd.h"

namespace osb::daemon {

absl::StatusOr<HealthProbe> ToHealthProbe(const opensandbox::v1::HealthCheck& check) {
  using opensandbox::v1::HealthCheck;
  HealthProbe p;
  if (check.has_polling_interval()) {
    p.interval = ToAbsl(check.polling_interval());
    if (*p.interval < absl::ZeroDuration()) {
      return InvalidField("health_check.polling_interval", "must not be negative");
    }
  }
  if (check.has_initial_delay()) {
    p.initial_delay = ToAbsl(check.initial_delay());
    if (p.initial_delay < absl::ZeroDuration()) {
      return InvalidField("health_check.initial_delay", "must not be negative");
    }
  }
  switch (check.probe_case()) {
    case HealthCheck::kCommand:
      p.kind = HealthProbe::Kind::kCommand;
      p.command = check.command().command();
      if (p.command.empty()) {
        return InvalidField("health_check.command.command", "must not be empty");
      }
      if (check.command().has_timeout()) {
        p.command_timeout = ToAbsl(check.command().timeout());
        if (p.command_timeout <= absl::ZeroDuration()) {
          return InvalidField("health_check.command.timeout", "must be positive");
        }
      }
      break;
    case HealthCheck::kHttp:
      p.kind = HealthProbe::Kind::kHttp;
      if (check.http().port() < 1 || check.http().port() > 65535) {
        return InvalidField("health_check.http.port", "must be 1 to 65535");
      }
      p.port = static_cast<int>(check.http().port());
      if (!check.http().path().empty()) p.path = check.http().path();
      if (p.path[0] != '/') {
        return InvalidField("health_check.http.path", "must start with '/'");
      }
      for (uint32_t status : check.http().expected_status()) {
        if (status < 100 || status > 599) {
          return InvalidField("health_check.http.expected_status",
                              "holds HTTP statuses (100 to 599)");
        }
        p.expected_status.push_back(static_cast<int>(status));
      }
      break;
    case HealthCheck::kTcp:
      p.kind = HealthProbe::Kind::kTcp;
      if (check.tcp().port() < 1 || check.tcp().port() > 65535) {
        return InvalidField("health_check.tcp.port", "must be 1 to 65535");
      }
      p.port = static_cast<int>(check.tcp().port());
      p.command = TcpListenScript(p.port);
      break;
    case HealthCheck::PROBE_NOT_SET:
      break;
  }
  return p;
}

std::string TcpListenScript(int port) {
  // Lines hold "sl local_address rem_address st ..."; the address is HEXIP:HEXPORT (the header
  // line's has no ':' and is skipped before any arithmetic on it).
  return absl::StrCat(
      "for f in /proc/net/tcp /proc/net/tcp6; do [ -r $f ] || continue; "
      "while read -r _ a _ s _; do case $a in *:*) "
      "[ \"$s\" = 0A ] && [ $((0x${a##*:})) -eq ",
      port,
      " ] && exit 0;; esac; done < $f; done; exit 1");
}

namespace {

// The terminal event of a probe command, if one came.
struct CommandOutcome {
  bool completed = false;
  std::optional<rest::EventError> error;
};

// `failed` says what a run that did not exit 0 means.
void ProbeCommand(DaemonContext& context, const ExecdEndpoint& execd, const HealthProbe& probe,
                  absl::Duration timeout, std::string failed,
                  std::function<void(absl::Status)> done) {
  rest::RunCommandRequest request;
  request.command = probe.command;
  request.timeout_ms =
      std::max<int64_t>(1, absl::ToInt64Milliseconds(std::min(probe.command_timeout, timeout)));
  auto outcome = std::make_shared<CommandOutcome>();
  CommandStreamHandler handler;
  handler.on_event = [outcome](rest::ServerStreamEvent event) {
    if (event.type == "execution_complete") outcome->completed = true;
    if (event.type == "error") outcome->error = event.error;
    return DataAction::kContinue;
  };
  handler.on_end = [outcome, failed = std::move(failed), done = std::move(done)](absl::Status s) {
    if (!s.ok()) return done(s);
    if (outcome->error.has_value()) {
      return done(absl::UnavailableError(
          absl::StrCat(failed, ": ", outcome->error->ename, " ", outcome->error->evalue)));
    }
    if (!outcome->completed) {
      return done(absl::UnavailableError("the health command's stream ended without a result"));
    }
    done(absl::OkStatus());
  };
  context.execd().RunCommand(execd, request, std::move(handler));
}

void ProbeHttp(DaemonContext& context, const Origin& origin, const std::string& sandbox_id,
               const HealthProbe& probe, absl::Duration timeout,
               std::function<void(absl::Status)> done) {
  context.lifecycle().GetEndpoint(
      origin, sandbox_id, probe.port,
      [&context, probe, timeout, done = std::move(done)](absl::StatusOr<ExecdEndpoint> e) {
        if (!e.ok()) return done(e.status());
        HttpRequest r;
        r.method = "GET";
        r.url = e->base_url + probe.path;
        r.headers = e->headers;
        r.timeout = timeout;
        r.connect_timeout = timeout;
        context.loop().Start(
            std::move(r), {.on_done = [probe, done](HttpResult result) {
              if (!result.transport.ok()) return done(result.transport);
              const bool healthy =
                  probe.expected_status.empty()
                      ? result.status >= 200 && result.status <= 299
                      : std::find(probe.expected_status.begin(), probe.expected_status.end(),
                                  result.status) != probe.expected_status.end();
              if (healthy) return done(absl::OkStatus());
              done(absl::UnavailableError(absl::StrCat("GET ", probe.path, " on port ",
                                                       probe.port, " answered HTTP ",
                                                       result.status)));
            }});
      });
}

}  // namespace

void RunHealthProbe(DaemonContext& context, const Origin& origin, const std::string& sandbox_id,
                    const ExecdEndpoint& execd, const HealthProbe& probe, absl::Duration timeout,
                    std::function<void(absl::Status)> done) {
  switch (probe.kind) {
    case HealthProbe::Kind::kPing:
      return context.execd().Ping(execd, timeout, std::move(done));
    case HealthProbe::Kind::kCommand:
      return ProbeCommand(context, execd, probe, timeout,
                          absl::StrCat("the health command `", probe.command, "` failed"),
                          std::move(done));
    case HealthProbe::Kind::kTcp:
      return ProbeCommand(context, execd, probe, timeout,
                          absl::StrCat("nothing listens on TCP port ", probe.port,
                                       " inside the sandbox (or its check could not run)"),
                          std::move(done));
    case HealthProbe::Kind::kHttp:
      return ProbeHttp(context, origin, sandbox_id, probe, timeout, std::move(done));
  }
}

}  // namespace osb::daemon
