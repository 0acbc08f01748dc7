#include "runtime/server/elastic_task_queue.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace osb::runtime {
namespace {

// Polls `done` for up to 10 s.
template <typename F>
bool Eventually(F done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

TEST(ElasticTaskQueue, GrowsPastAnyFixedPoolWhileEveryJobBlocks) {
  // 300 jobs that each wait for all the others: they can only finish if all run at once (a fixed
  // pool of 64, as cpp-httplib's, would hang here).
  ElasticTaskQueue queue(2, 1000, absl::Seconds(30));
  constexpr int kJobs = 300;
  absl::BlockingCounter started(kJobs);
  absl::Notification all_started;
  std::atomic<int> finished{0};
  for (int i = 0; i < kJobs; ++i) {
    queue.enqueue([&] {
      started.DecrementCount();
      all_started.WaitForNotificationWithTimeout(absl::Seconds(20));
      ++finished;
    });
  }
  started.Wait();
  all_started.Notify();
  EXPECT_EQ(queue.threads(), static_cast<std::size_t>(kJobs));
  EXPECT_TRUE(Eventually([&] { return finished == kJobs; }));
}

TEST(ElasticTaskQueue, ABusyCeilingQueuesTheRestAndRunsThemLater) {
  ElasticTaskQueue queue(0, 3, absl::Seconds(30));
  absl::Notification release;
  std::atomic<int> running{0}, most{0}, finished{0};
  for (int i = 0; i < 10; ++i) {
    queue.enqueue([&] {
      int now = ++running;
      for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
      }
      release.WaitForNotification();
      --running;
      ++finished;
    });
  }
  EXPECT_TRUE(Eventually([&] { return running == 3; }));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(running, 3) << "never more threads than the ceiling";
  release.Notify();
  EXPECT_TRUE(Eventually([&] { return finished == 10; }));
  EXPECT_EQ(most, 3);
}

TEST(ElasticTaskQueue, IdleThreadsEndDownToTheMinimum) {
  ElasticTaskQueue queue(2, 100, absl::Milliseconds(50));
  absl::BlockingCounter started(20);
  absl::Notification release;
  for (int i = 0; i < 20; ++i) {
    queue.enqueue([&] {
      started.DecrementCount();
      release.WaitForNotification();
    });
  }
  started.Wait();
  EXPECT_EQ(queue.threads(), 20u);
  release.Notify();
  EXPECT_TRUE(Eventually([&] { return queue.threads() == 2; })) << queue.threads();
  queue.on_idle();  // joins the threads that ended
  // The kept threads serve new work without growing.
  std::atomic<int> ran{0};
  for (int i = 0; i < 2; ++i) queue.enqueue([&] { ++ran; });
  EXPECT_TRUE(Eventually([&] { return ran == 2; }));
  EXPECT_EQ(queue.threads(), 2u);
}

TEST(ElasticTaskQueue, ShutdownRunsWhatIsQueuedAndEndsEveryThread) {
  std::atomic<int> ran{0};
  {
    ElasticTaskQueue queue(0, 2, absl::Seconds(30));
    for (int i = 0; i < 50; ++i) {
      queue.enqueue([&] {
        absl::SleepFor(absl::Milliseconds(1));
        ++ran;
      });
    }
    queue.shutdown();
    EXPECT_EQ(queue.threads(), 0u);
    EXPECT_EQ(ran, 50);
  }  // the destructor's second shutdown is harmless
  EXPECT_EQ(ran, 50);
}

}  // namespace
}  // namespace osb::runtime
