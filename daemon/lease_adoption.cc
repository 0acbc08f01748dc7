#include "daemon/lease_adoption.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/owner_id.h"

namespace osb::daemon {
namespace {

constexpr int kPageSize = 200;

std::string Label(const rest::Sandbox& sandbox, std::string_view key) {
  auto it = sandbox.metadata.find(std::string(key));
  return it == sandbox.metadata.end() ? "" : it->second;
}

// Lists page after page, handling each leased sandbox, then reports.
class Adoption : public std::enable_shared_from_this<Adoption> {
 public:
  Adoption(DaemonContext& context, Origin origin, std::function<void(AdoptionResult)> done)
      : context_(context), origin_(std::move(origin)), done_(std::move(done)) {}

  void ListPage(int page) {
    context_.lifecycle().List(
        origin_, {}, {{std::string(kOwnerLabel), context_.info().owner}}, page, kPageSize,
        [self = shared_from_this(), page](absl::StatusOr<rest::ListSandboxesResponse> listed) {
          if (!listed.ok()) {
            self->result_.status = listed.status();
            return self->done_(self->result_);
          }
          for (const auto& sandbox : listed->items) self->Handle(sandbox);
          if (listed->pagination.has_next_page) return self->ListPage(page + 1);
          self->done_(self->result_);
        });
  }

 private:
  void Handle(const rest::Sandbox& sandbox) {
    const std::string pid_text = Label(sandbox, kLeasePidLabel);
    int pid = 0;
    if (pid_text.empty() || !absl::SimpleAtoi(pid_text, &pid)) return;
    const std::string start = Label(sandbox, kLeaseStartLabel);
    // Granted by an earlier osbd, which checked the holder: only whether it lives counts now (a
    // changed access group must not kill a sandbox whose holder still runs).
    auto holder = LeaseKeeper::OpenProcess(pid);
    // The same process only: a pid given to another process since means the holder is gone.
    if (holder.ok() && !start.empty() && LeaseKeeper::StartTimeOf(pid) == start) {
      int64_t ttl_seconds = 0;
      (void)absl::SimpleAtoi(Label(sandbox, kLeaseTtlLabel), &ttl_seconds);
      const auto mode = Label(sandbox, kLeaseModeLabel) == "renew-while-alive"
                            ? LeaseKeeper::Mode::kRenewWhileAlive
                            : LeaseKeeper::Mode::kKillOnExit;
      context_.leases().Add(origin_, sandbox.id, *std::move(holder), mode,
                            absl::Seconds(ttl_seconds));
      ++result_.adopted;
      return;
    }
    context_.DeleteSandbox(origin_, sandbox.id);
    ++result_.swept;
  }

  DaemonContext& context_;
  const Origin origin_;
  std::function<void(AdoptionResult)> done_;
  AdoptionResult result_;
};

// Adopts on each origin in turn, adding up the results; the first failure is reported (with its
// origin) after every origin has had its turn.
void AdoptOnEach(DaemonContext& context, std::shared_ptr<std::vector<Origin>> origins,
                 std::size_t next, AdoptionResult sum,
                 std::function<void(AdoptionResult)> done) {
  if (next == origins->size()) return done(std::move(sum));
  auto adoption = std::make_shared<Adoption>(
      context, (*origins)[next],
      [&context, origins, next, sum, done = std::move(done)](AdoptionResult result) mutable {
        sum.adopted += result.adopted;
        sum.swept += result.swept;
        if (!result.status.ok() && sum.status.ok()) {
          const Origin& o = (*origins)[next];
          sum.status = absl::Status(result.status.code(),
                                    absl::StrCat(o.protocol, "://", o.authority, ": ",
                                                 result.status.message()));
        }
        AdoptOnEach(context, origins, next + 1, std::move(sum), std::move(done));
      });
  adoption->ListPage(1);
}

}  // namespace

void AdoptLeases(DaemonContext& context, std::function<void(AdoptionResult)> done) {
  // The default service, and each profile's that is another service or another account on it.
  auto origins = std::make_shared<std::vector<Origin>>();
  origins->push_back(context.default_origin());
  for (const auto& [name, profile] : context.profiles()) {
    const bool known = std::any_of(origins->begin(), origins->end(), [&](const Origin& o) {
      return o.protocol == profile.protocol && o.authority == profile.authority &&
             o.api_key == profile.api_key;
    });
    if (!known) origins->push_back(profile);
  }
  context.loop().Post([&context, origins, done = std::move(done)]() mutable {
    AdoptOnEach(context, origins, 0, AdoptionResult{}, std::move(done));
  });
}

}  // namespace osb::daemon
