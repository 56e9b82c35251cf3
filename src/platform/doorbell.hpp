#pragma once
// A parking place for an idle simulated processor: it reads the bell, checks for work, and
// sleeps in the kernel (futex / WaitOnAddress through std::atomic::wait) until someone rings
// after that read. Ringing between the read and the sleep is never lost.

#include <atomic>
#include <cstdint>

namespace irqsim::platform {

class Doorbell {
 public:
  [[nodiscard]] std::uint32_t read() const noexcept { return rings_.load(std::memory_order_acquire); }
  void ring() noexcept {
    rings_.fetch_add(1, std::memory_order_acq_rel);
    rings_.notify_all();
  }
  void sleep_unless_rung_since(std::uint32_t seen) const noexcept {
    rings_.wait(seen, std::memory_order_acquire);
  }

 private:
  std::atomic<std::uint32_t> rings_{0};
};

}  // namespace irqsim::platform
