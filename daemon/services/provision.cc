#include "daemon/services/provision.h"

#include <memory>
#include <utility>

#include "daemon/convert.h"
#include "daemon/services/readiness.h"

namespace osb::daemon {

absl::StatusOr<Provisioning> ProvisioningFor(const Origin& origin,
                                             const opensandbox::v1::CreateSandboxRequest& request) {
  auto converted = ToRest(request);
  if (!converted.ok()) return converted.status();
  Provisioning p;
  p.origin = origin;
  p.request = *std::move(converted);
  if (request.has_ready_timeout()) p.ready_timeout = ToAbsl(request.ready_timeout());
  p.skip_health_check = request.skip_health_check();
  if (request.has_health_check()) {
    auto probe = ToHealthProbe(request.health_check());
    if (!probe.ok()) return probe.status();
    p.probe = *std::move(probe);
  }
  return p;
}

void ProvisionSandbox(DaemonContext& context, Provisioning p,
                      std::function<void(absl::StatusOr<rest::Sandbox>)> done) {
  auto shared = std::make_shared<Provisioning>(std::move(p));
  context.lifecycle().Create(
      shared->origin, shared->request,
      [&context, shared, done = std::move(done)](absl::StatusOr<rest::Sandbox> created) {
        if (!created.ok()) return done(created.status());
        // The create response carries no image; the request does.
        if (shared->request.image.has_value()) {
          created->image = rest::ImageSpec{shared->request.image->uri, {}};
        }
        const std::string id = created->id;
        auto finish = [&context, shared, id, done](absl::StatusOr<rest::Sandbox> ready) {
          if (ready.ok() && shared->cancelled()) {
            ready = absl::CancelledError("the call was cancelled");
          }
          if (!ready.ok()) {
            context.DeleteSandbox(shared->origin, id);
          }
          done(std::move(ready));
        };
        if (shared->skip_health_check) return finish(*std::move(created));
        WaitUntilReady(context, shared->origin, *std::move(created), shared->ready_timeout,
                       shared->deadline, shared->cancelled, finish, shared->probe);
      });
}

}  // namespace osb::daemon
