#pragma once
// The raw machine: what the host itself does for each figure, with no simulator in the way.
// Every irqsim figure is divided by one of these, measured in the same run.

#include <atomic>

#include "platform/backoff.hpp"

namespace bench {

using irqsim::platform::cpu_relax;

// A test-and-test-and-set spin lock: the least a spin lock can cost.
class RawSpinLock {
 public:
  void lock() noexcept {
    while (held_.exchange(true, std::memory_order_acquire)) {
      while (held_.load(std::memory_order_relaxed)) cpu_relax();
    }
  }
  void unlock() noexcept { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};

}  // namespace bench
