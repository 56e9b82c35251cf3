#include "core/processor_times.hpp"

#include <chrono>

namespace irqsim::core {

// A sequence lock without fences (which ThreadSanitizer cannot see): the writer makes the
// sequence odd, then publishes each value with a release store, which orders the odd sequence
// before it; a reader loads everything with acquire, so a value it sees new makes the sequence it
// reads after it differ from the one it read first.
unsigned ProcessorTimes::enter(unsigned slot, std::int64_t now_ns) noexcept {
  const unsigned previous = slot_.load(std::memory_order_relaxed);
  const std::int64_t since = since_.load(std::memory_order_relaxed);
  // A clock value read before the last transition (a caller's earlier timestamp) charges nothing.
  const std::int64_t elapsed = now_ns > since ? now_ns - since : 0;
  const std::uint32_t sequence = sequence_.load(std::memory_order_relaxed);
  sequence_.store(sequence + 1, std::memory_order_relaxed);
  std::atomic<std::int64_t>& charged = charged_[previous];
  charged.store(charged.load(std::memory_order_relaxed) + elapsed, std::memory_order_release);
  if (now_ns > since) since_.store(now_ns, std::memory_order_release);
  slot_.store(slot, std::memory_order_release);
  sequence_.store(sequence + 2, std::memory_order_release);
  return previous;
}

ProcessorStats ProcessorTimes::read(std::int64_t now_ns) const noexcept {
  ProcessorStats stats;
  for (;;) {
    const std::uint32_t before = sequence_.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;
    std::array<std::int64_t, kIdle + 1> charged{};
    for (unsigned slot = 0; slot <= kIdle; ++slot) charged[slot] = charged_[slot].load(std::memory_order_acquire);
    const std::int64_t since = since_.load(std::memory_order_acquire);
    const unsigned current = slot_.load(std::memory_order_acquire);
    if (sequence_.load(std::memory_order_acquire) != before) continue;
    if (now_ns > since) charged[current] += now_ns - since;
    for (unsigned level = 0; level < kIdle; ++level) {
      stats.time_at_irql[level] = std::chrono::nanoseconds(charged[level]);
    }
    stats.idle = std::chrono::nanoseconds(charged[kIdle]);
    break;
  }
  stats.dpcs = dpcs_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace irqsim::core
