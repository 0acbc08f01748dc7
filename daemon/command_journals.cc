#include "daemon/command_journals.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"

namespace osb::daemon {

void CommandJournals::Add(const std::string& sandbox_id, const std::string& command_id,
                          std::shared_ptr<CommandJournal> journal) {
  absl::MutexLock lock(&mu_);
  SweepLocked(absl::Now(), /*force=*/false);
  journals_[Key(sandbox_id, command_id)] = std::move(journal);
}

std::shared_ptr<CommandJournal> CommandJournals::Find(const std::string& sandbox_id,
                                                      const std::string& command_id) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  SweepLocked(now, /*force=*/false);
  auto it = journals_.find(Key(sandbox_id, command_id));
  if (it == journals_.end()) return nullptr;
  if (ExpiredAt(*it->second, now)) {
    journals_.erase(it);
    return nullptr;
  }
  return it->second;
}

std::pair<std::size_t, uint64_t> CommandJournals::Size() {
  absl::MutexLock lock(&mu_);
  SweepLocked(absl::Now(), /*force=*/true);
  uint64_t bytes = 0;
  for (const auto& [key, journal] : journals_) bytes += journal->window_bytes();
  return {journals_.size(), bytes};
}

bool CommandJournals::ExpiredAt(const CommandJournal& journal, absl::Time now) const {
  const absl::Time ended_at = journal.ended_at();
  return ended_at != absl::InfinitePast() && now - ended_at > limits_.retention;
}

void CommandJournals::SweepLocked(absl::Time now, bool force) {
  if (!force && now < next_sweep_ && journals_.size() < sweep_at_size_) return;
  using Entry = std::map<Key, std::shared_ptr<CommandJournal>>::iterator;
  std::vector<std::pair<absl::Time, Entry>> ended;
  for (auto it = journals_.begin(); it != journals_.end();) {
    const absl::Time ended_at = it->second->ended_at();
    if (ended_at != absl::InfinitePast() && now - ended_at > limits_.retention) {
      it = journals_.erase(it);
      continue;
    }
    if (ended_at != absl::InfinitePast()) ended.emplace_back(ended_at, it);
    ++it;
  }
  if (ended.size() > limits_.max_ended) {
    // Erasing one map entry leaves the iterators to the others valid.
    const std::size_t drop = ended.size() - limits_.max_ended;
    std::nth_element(ended.begin(), ended.begin() + static_cast<std::ptrdiff_t>(drop) - 1,
                     ended.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < drop; ++i) journals_.erase(ended[i].second);
  }
  next_sweep_ = now + absl::Seconds(1);
  sweep_at_size_ = journals_.size() + std::max<std::size_t>(limits_.max_ended, 1);
}

}  // namespace osb::daemon
