// The last output of a PTY session, kept so that a client connecting later sees what it missed
// (execd's replay: COMPAT.md §2.9). Bytes are numbered from the session's first (offsets never
// restart); the newest `capacity` bytes are kept. Not thread-safe: its owner locks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace osb::agent {

class ReplayBuffer {
 public:
  static constexpr std::size_t kDefaultCapacity = 1 << 20;  // execd's 1 MiB

  explicit ReplayBuffer(std::size_t capacity = kDefaultCapacity);

  void Append(std::string_view bytes);

  // The offset the next byte will have: how many bytes were ever appended.
  int64_t total() const { return total_; }

  // The kept bytes from `offset` on, and the offset of the first of them: an offset older than
  // the oldest kept byte starts there instead; one at or past the end gives nothing.
  struct Since {
    int64_t offset;
    std::string bytes;
  };
  Since From(int64_t offset) const;

 private:
  std::size_t capacity_;
  std::string ring_;  // byte at offset o is at ring_[o % capacity_]; shorter before the first wrap
  int64_t total_ = 0;
};

}  // namespace osb::agent
