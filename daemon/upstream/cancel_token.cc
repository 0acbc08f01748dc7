#include "daemon/upstream/cancel_token.h"

#include <algorithm>

#include "daemon/upstream/curl_loop.h"

namespace osb::daemon {

void CancelToken::Cancel() {
  std::vector<std::pair<CurlLoop*, uint64_t>> running;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    running.swap(transfers_);
  }
  // Outside the lock: Cancel posts to the loop, whose thread untracks finished transfers here.
  for (const auto& [loop, id] : running) loop->Cancel(id);
}

bool CancelToken::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CancelToken::Track(CurlLoop* loop, uint64_t transfer) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  transfers_.emplace_back(loop, transfer);
  return true;
}

void CancelToken::Untrack(CurlLoop* loop, uint64_t transfer) {
  absl::MutexLock lock(&mu_);
  auto it = std::find(transfers_.begin(), transfers_.end(), std::make_pair(loop, transfer));
  if (it != transfers_.end()) transfers_.erase(it);
}

}  // namespace osb::daemon
