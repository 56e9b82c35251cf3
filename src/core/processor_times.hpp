#pragma once
// Where one processor's time goes: nanoseconds charged to each IRQL and to idling, and the DPC
// routines it ran. Only the processor's own thread charges time, at the transitions the
// simulator makes (an interrupt taken and ended, DPCs run, a function run, and every IRQL change
// while a trace is recorded), with a clock value it read anyway; a reader on another thread
// gets a consistent copy through a sequence counter, so charging needs no lock and no
// read-modify-write.

#include <array>
#include <atomic>
#include <cstdint>

#include "irqsim/irql.hpp"
#include "irqsim/machine_stats.hpp"

namespace irqsim::core {

// On cache lines of its own: the processor writes it at every interrupt, and other threads write
// the processor's doorbell and attention word next to it.
class alignas(64) ProcessorTimes {
 public:
  // The slot of time spent in the idle loop, after those of the IRQLs.
  static constexpr unsigned kIdle = irql::kHigh + 1;

  // From `now_ns` (nanoseconds since boot) on, the processor's time counts to `slot` (an IRQL
  // or kIdle). Returns the slot it counted to before, for the caller to return to.
  unsigned enter(unsigned slot, std::int64_t now_ns) noexcept;
  void count_dpc() noexcept { dpcs_.store(dpcs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  // The times up to `now_ns`, the open interval included; interrupts and exact_irql_changes
  // are left for the caller.
  [[nodiscard]] ProcessorStats read(std::int64_t now_ns) const noexcept;

 private:
  std::atomic<std::uint32_t> sequence_{0};  // odd while enter() writes
  std::array<std::atomic<std::int64_t>, kIdle + 1> charged_{};
  std::atomic<std::int64_t> since_{0};
  std::atomic<unsigned> slot_{kIdle};
  std::atomic<std::uint64_t> dpcs_{0};
};

}  // namespace irqsim::core
