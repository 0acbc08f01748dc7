#include "runtime/agent/replay_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace osb::agent {
namespace {

TEST(ReplayBuffer, KeepsTheNewestBytesNumberedFromTheFirst) {
  ReplayBuffer replay(8);
  EXPECT_EQ(replay.From(0).bytes, "");
  EXPECT_EQ(replay.From(0).offset, 0);
  replay.Append("abc");
  replay.Append("defgh");  // exactly full
  EXPECT_EQ(replay.From(0).bytes, "abcdefgh");
  EXPECT_EQ(replay.From(5).bytes, "fgh");
  EXPECT_EQ(replay.From(5).offset, 5);
  replay.Append("ij");  // wraps: a and b are gone
  EXPECT_EQ(replay.total(), 10);
  ReplayBuffer::Since since = replay.From(0);
  EXPECT_EQ(since.offset, 2) << "an offset older than the oldest kept byte starts there";
  EXPECT_EQ(since.bytes, "cdefghij");
  EXPECT_EQ(replay.From(9).bytes, "j");
  EXPECT_EQ(replay.From(10).bytes, "");
  EXPECT_EQ(replay.From(10).offset, 10);
  EXPECT_EQ(replay.From(99).offset, 10) << "past the end: nothing, at the end";
}

TEST(ReplayBuffer, AnAppendLargerThanTheBufferKeepsItsTail) {
  ReplayBuffer replay(4);
  replay.Append("xy");
  replay.Append("0123456789");
  EXPECT_EQ(replay.total(), 12);
  EXPECT_EQ(replay.From(0).offset, 8);
  EXPECT_EQ(replay.From(0).bytes, "6789");
  replay.Append("A");
  EXPECT_EQ(replay.From(0).bytes, "789A");
}

}  // namespace
}  // namespace osb::agent
