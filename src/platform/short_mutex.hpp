#pragma once
// A mutex for critical sections of well under a microsecond that several simulated processors
// and the test thread enter all the time (the interrupt controller, the DPC queues). A plain
// std::mutex puts a contender to sleep in the host kernel at once, and its wake-up costs far
// more than waiting out the holder; this one polls briefly first and blocks only when the
// holder is slow (descheduled, on an overloaded host).

#include <mutex>

#include "platform/backoff.hpp"

namespace irqsim::platform {

class ShortMutex {
 public:
  void lock() {
    for (unsigned poll = 0; poll < kPolls; ++poll) {
      if (mutex_.try_lock()) return;
      cpu_relax();
    }
    mutex_.lock();
  }
  bool try_lock() { return mutex_.try_lock(); }
  void unlock() { mutex_.unlock(); }

 private:
  // About a microsecond of polling: several times the longest critical section.
  static constexpr unsigned kPolls = 64;
  std::mutex mutex_;
};

}  // namespace irqsim::platform
