#include "runtime/agent/replay_buffer.h"

#include <algorithm>

namespace osb::agent {

ReplayBuffer::ReplayBuffer(std::size_t capacity) : capacity_(capacity) {}

void ReplayBuffer::Append(std::string_view bytes) {
  const std::size_t capacity = capacity_;
  // Until the first wrap the ring is the bytes so far, grown as they come: a session that says
  // little costs little.
  if (ring_.size() < capacity) {
    if (ring_.size() + bytes.size() <= capacity) {
      ring_.append(bytes);
      total_ += static_cast<int64_t>(bytes.size());
      return;
    }
    ring_.resize(capacity, '\0');
  }
  if (bytes.size() > capacity) {  // only the newest `capacity` bytes can stay
    total_ += static_cast<int64_t>(bytes.size() - capacity);
    bytes.remove_prefix(bytes.size() - capacity);
  }
  while (!bytes.empty()) {
    const std::size_t at = static_cast<std::size_t>(total_ % static_cast<int64_t>(capacity));
    const std::size_t n = std::min(bytes.size(), capacity - at);
    ring_.replace(at, n, bytes.substr(0, n));
    bytes.remove_prefix(n);
    total_ += static_cast<int64_t>(n);
  }
}

ReplayBuffer::Since ReplayBuffer::From(int64_t offset) const {
  const auto capacity = static_cast<int64_t>(capacity_);
  const int64_t oldest = std::max<int64_t>(0, total_ - capacity);
  offset = std::max(offset, oldest);
  if (offset >= total_) return {total_, ""};
  Since since{offset, ""};
  since.bytes.reserve(static_cast<std::size_t>(total_ - offset));
  for (int64_t at = offset; at < total_;) {
    const int64_t in_ring = at % capacity;
    const int64_t n = std::min(total_ - at, capacity - in_ring);
    since.bytes.append(ring_, static_cast<std::size_t>(in_ring), static_cast<std::size_t>(n));
    at += n;
  }
  return since;
}

}  // namespace osb::agent
