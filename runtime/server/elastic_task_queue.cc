#include "runtime/server/elastic_task_queue.h"

#include <algorithm>
#include <utility>

namespace osb::runtime {

ElasticTaskQueue::ElasticTaskQueue(std::size_t min_threads, std::size_t max_threads,
                                   absl::Duration idle_exit)
    : min_threads_(min_threads),
      max_threads_(std::max<std::size_t>(max_threads, 1)),
      idle_exit_(idle_exit) {}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  JoinExitedLocked();
  jobs_.push_back(std::move(fn));
  // Idle threads take queued jobs first; a new thread only for a job none of them will take.
  if (jobs_.size() > idle_ && threads_.size() < max_threads_ && !shutdown_) {
    std::thread t([this] { Work(); });
    threads_.emplace(t.get_id(), std::move(t));
  }
}

void ElasticTaskQueue::Work() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    ++idle_;
    auto has_work = [this]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !jobs_.empty() || shutdown_; };
    bool woken = mu_.AwaitWithTimeout(absl::Condition(&has_work), idle_exit_);
    --idle_;
    if (jobs_.empty()) {
      // Idle for idle_exit_ (beyond the minimum), or shutting down with nothing left to do.
      if (shutdown_ || (!woken && threads_.size() > min_threads_)) break;
      continue;
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    mu_.Unlock();
    job();
    job = nullptr;  // whatever the job holds goes before the lock is taken again
    mu_.Lock();
  }
  // Hand this thread's handle over to be joined: it does nothing more after the lock is released.
  auto self = threads_.find(std::this_thread::get_id());
  exited_.push_back(std::move(self->second));
  threads_.erase(self);
}

void ElasticTaskQueue::JoinExitedLocked() {
  for (auto& t : exited_) t.join();  // each has released the lock for good: joins at once
  exited_.clear();
}

void ElasticTaskQueue::on_idle() {
  absl::MutexLock lock(&mu_);
  JoinExitedLocked();
}

void ElasticTaskQueue::shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
  mu_.Await(absl::Condition(
      +[](std::map<std::thread::id, std::thread>* threads) { return threads->empty(); },
      &threads_));
  JoinExitedLocked();
}

std::size_t ElasticTaskQueue::threads() const {
  absl::MutexLock lock(&mu_);
  return threads_.size();
}

}  // namespace osb::runtime
