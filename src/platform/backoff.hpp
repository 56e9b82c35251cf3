#pragma once
// How a thread waits for something another simulated processor will do. Simulated processors
// can outnumber host cores many times over, so a waiter first spins briefly (the other side is
// probably running), then yields its core (the other side may need it), then sleeps in short
// slices (the other side may be descheduled for a while). core::SpinWait uses it on a
// free-running machine; a deterministic one hands the turn over instead.

#include <chrono>
#include <thread>

#if defined(_M_X64) || defined(_M_IX86) || defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(_M_ARM64)
#include <intrin.h>
#endif

namespace irqsim::platform {

// Tells the core this thread is spinning: it slows the loop down and gives a hyperthread
// sibling the pipeline.
inline void cpu_relax() noexcept {
#if defined(_M_X64) || defined(_M_IX86) || defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(_M_ARM64)
  __yield();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Backoff {
 public:
  void pause() noexcept {
    if (rounds_ < kSpinRounds) {
      cpu_relax();
    } else if (rounds_ < kYieldRounds) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    ++rounds_;
  }
  void reset() noexcept { rounds_ = 0; }
  [[nodiscard]] bool still_spinning() const noexcept { return rounds_ < kSpinRounds; }

 private:
  static constexpr unsigned kSpinRounds = 64;
  static constexpr unsigned kYieldRounds = 2048;
  unsigned rounds_ = 0;
};

}  // namespace irqsim::platform
