#include "daemon/lease_adoption.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
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
  Adoption(DaemonContext& context, std::function<void(AdoptionResult)> done)
      : context_(context), origin_(context.default_origin()), done_(std::move(done)) {}

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
    auto holder = LeaseKeeper::OpenHolder(pid);
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

}  // namespace

void AdoptLeases(DaemonContext& context, std::function<void(AdoptionResult)> done) {
  auto adoption = std::make_shared<Adoption>(context, std::move(done));
  context.loop().Post([adoption] { adoption->ListPage(1); });
}

}  // namespace osb::daemon
