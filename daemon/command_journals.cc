#include "daemon/command_journals.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"

namespace osb::daemon {

void CommandJournals::Add(const std::string& sandbox_id, const std::string& command_id,
                          std::shared_ptr<CommandJournal> journal) {
  absl::MutexLock lock(&mu_);
  SweepLocked(absl::Now());
  journals_[Key(sandbox_id, command_id)] = std::move(journal);
}

std::shared_ptr<CommandJournal> CommandJournals::Find(const std::string& sandbox_id,
                                                      const std::string& command_id) {
  absl::MutexLock lock(&mu_);
  SweepLocked(absl::Now());
  auto it = journals_.find(Key(sandbox_id, command_id));
  return it == journals_.end() ? nullptr : it->second;
}

std::pair<std::size_t, uint64_t> CommandJournals::Size() {
  absl::MutexLock lock(&mu_);
  SweepLocked(absl::Now());
  uint64_t bytes = 0;
  for (const auto& [key, journal] : journals_) bytes += journal->window_bytes();
  return {journals_.size(), bytes};
}

void CommandJournals::SweepLocked(absl::Time now) {
  std::vector<std::pair<absl::Time, Key>> ended;
  for (auto it = journals_.begin(); it != journals_.end();) {
    const absl::Time ended_at = it->second->ended_at();
    if (ended_at != absl::InfinitePast() && now - ended_at > limits_.retention) {
      it = journals_.erase(it);
      continue;
    }
    if (ended_at != absl::InfinitePast()) ended.emplace_back(ended_at, it->first);
    ++it;
  }
  if (ended.size() <= limits_.max_ended) return;
  std::sort(ended.begin(), ended.end());
  for (std::size_t i = 0; i + limits_.max_ended < ended.size(); ++i) {
    journals_.erase(ended[i].second);
  }
}

}  // namespace osb::daemon
