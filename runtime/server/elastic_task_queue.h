// cpp-httplib's task queue for osb-runtime: a thread per connection in service, created when a
// connection arrives and every thread is busy, up to `max_threads`; a thread idle for
// `idle_exit` ends, down to `min_threads`.
//
// cpp-httplib serves a connection on one thread for as long as it is open: a proxied command
// stream for the command's whole life, a pooled keep-alive client (osbd, an SDK) between its
// requests. A fixed pool of N threads therefore stops answering anyone once N connections are
// open, however idle; this queue grows instead, and only a connection beyond `max_threads` waits.
//
// Jobs queued when shutdown() is called still run; shutdown() returns once every thread ended.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace osb::runtime {

class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  ElasticTaskQueue(std::size_t min_threads, std::size_t max_threads, absl::Duration idle_exit);
  ~ElasticTaskQueue() override;  // shuts down

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;
  // Called by the listener now and then: joins the threads that ended for idleness.
  void on_idle() override;

  std::size_t threads() const;  // alive now

 private:
  void Work();
  void JoinExitedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::size_t min_threads_, max_threads_;
  const absl::Duration idle_exit_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::thread::id, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> exited_ ABSL_GUARDED_BY(mu_);  // ended, to be joined
  std::size_t idle_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace osb::runtime
