#pragma once
// A parking place for an idle simulated processor: it reads the bell, checks for work, and
// sleeps in the kernel until someone rings after that read. Ringing between the read and the
// sleep is never lost. The sleep is the futex through std::atomic::wait on Linux, and
// WaitOnAddress on Windows (platform/windows_waiting.cpp), where libstdc++ 12's atomic wait can
// miss a notification.

#include <atomic>
#include <cstdint>

namespace irqsim::platform {

class Doorbell {
 public:
  [[nodiscard]] std::uint32_t read() const noexcept { return rings_.load(std::memory_order_acquire); }
  void ring() noexcept;
  void sleep_unless_rung_since(std::uint32_t seen) const noexcept;

 private:
  std::atomic<std::uint32_t> rings_{0};
};

#if !defined(_WIN32)
inline void Doorbell::ring() noexcept {
  rings_.fetch_add(1, std::memory_order_acq_rel);
  rings_.notify_all();
}
inline void Doorbell::sleep_unless_rung_since(std::uint32_t seen) const noexcept {
  rings_.wait(seen, std::memory_order_acquire);
}
#endif

}  // namespace irqsim::platform
