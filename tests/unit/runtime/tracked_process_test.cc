#include "runtime/server/tracked_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace osb::runtime {
namespace {

pid_t SleepingChild() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    _exit(0);
  }
  return pid;
}

TEST(TrackedProcess, ALaunchedChildIsKilledWaitedAndReaped) {
  pid_t pid = SleepingChild();
  ASSERT_GT(pid, 0);
  auto agent = TrackedProcess::Launched(pid);
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_EQ((*agent)->pid(), pid);
  EXPECT_FALSE((*agent)->Exited());
  (*agent)->Kill();
  (*agent)->Wait();
  EXPECT_TRUE((*agent)->Exited());
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);  // already reaped: no zombie left
  EXPECT_EQ(errno, ECHILD);
}

TEST(TrackedProcess, AdoptRecognisesTheSameProcessOnly) {
  pid_t pid = SleepingChild();
  ASSERT_GT(pid, 0);
  auto ticks = ProcessStartTicks(pid);
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  // Another process that was given the same pid started at another time.
  EXPECT_EQ(TrackedProcess::Adopt(pid, *ticks + 1).status().code(), absl::StatusCode::kNotFound);
  auto adopted = TrackedProcess::Adopt(pid, *ticks);
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  EXPECT_FALSE((*adopted)->Exited());
  (*adopted)->Kill();
  (*adopted)->Wait();  // returns on its exit, though an adopted process is not reaped here
  EXPECT_TRUE((*adopted)->Exited());
  EXPECT_EQ(::waitpid(pid, nullptr, 0), pid);
  EXPECT_EQ(TrackedProcess::Adopt(pid, *ticks).status().code(), absl::StatusCode::kNotFound);
}

TEST(TrackedProcess, StartTicksOfNoProcessIsNotFound) {
  EXPECT_EQ(ProcessStartTicks(0x3fffffff).status().code(), absl::StatusCode::kNotFound);
  auto mine = ProcessStartTicks(::getpid());
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_GT(*mine, 0u);
}

}  // namespace
}  // namespace osb::runtime
