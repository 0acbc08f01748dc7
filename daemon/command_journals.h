// CommandJournals: the journals of the runs osbd streamed, by sandbox and command id, so that
// Commands.Attach can find them. A journal is kept while its command runs and for `retention`
// after its end; beyond `max_ended` ended journals the oldest go first. Find never returns an
// expired journal; the others are swept at least once a second and whenever `max_ended` more
// journals have come since the last sweep, so that a run does not pay for every journal held.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/command_journal.h"

namespace osb::daemon {

class CommandJournals {
 public:
  struct Limits {
    absl::Duration retention = absl::Minutes(10);
    std::size_t max_ended = 128;
  };

  CommandJournals() : CommandJournals(Limits{}) {}
  explicit CommandJournals(Limits limits) : limits_(limits) {}

  // Makes `journal` findable as (sandbox_id, command_id), replacing any earlier one.
  void Add(const std::string& sandbox_id, const std::string& command_id,
           std::shared_ptr<CommandJournal> journal);
  // The journal, or nullptr when osbd holds none (never ran here, or expired).
  std::shared_ptr<CommandJournal> Find(const std::string& sandbox_id,
                                       const std::string& command_id);
  // Journals held (running and kept after their end), and the bytes of their windows.
  std::pair<std::size_t, uint64_t> Size();

 private:
  using Key = std::pair<std::string, std::string>;
  // Drops expired journals and the oldest ended ones beyond max_ended: always when `force`, else
  // only when a second has passed or max_ended journals came since the last sweep.
  void SweepLocked(absl::Time now, bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ExpiredAt(const CommandJournal& journal, absl::Time now) const;

  const Limits limits_;
  absl::Mutex mu_;
  std::map<Key, std::shared_ptr<CommandJournal>> journals_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::size_t sweep_at_size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace osb::daemon
