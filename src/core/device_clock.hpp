#pragma once
// The hardware's own timers: periodic sources a test starts (an audio codec's frame clock, a
// network card's interrupt moderation timer) that call a function every period of the machine's
// clock. One thread runs them all, and only once the first is started. On a deterministic
// machine that thread is a participant like the processors, so the virtual clock jumps from
// one due timer to the next and a second of audio interrupts takes milliseconds.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace irqsim::core {

class Machine;

class DeviceClock {
 public:
  explicit DeviceClock(Machine& machine) : machine_(machine) {}
  ~DeviceClock() { shut_down(); }
  DeviceClock(const DeviceClock&) = delete;
  DeviceClock& operator=(const DeviceClock&) = delete;

  // Calls `action` every `period_ns`, the first time one period from now: `count` times, or
  // until stopped if `count` is 0. A counted timer is outstanding work (the machine is not
  // quiescent) until its last call has returned. Returns the timer's id.
  std::uint64_t start(std::int64_t period_ns, std::uint64_t count, std::function<void()> action);
  // No further calls; one running now finishes. Does nothing for a timer already done.
  void stop(std::uint64_t id);
  // Stops every timer and joins the thread; idempotent.
  void shut_down();

 private:
  struct Timer {
    std::uint64_t id;
    std::int64_t period_ns;
    std::int64_t due_ns;
    std::uint64_t remaining;  // calls still to make; 0 for a timer that runs until stopped
    std::shared_ptr<const std::function<void()>> action;
  };

  void main();
  // Under mutex_: the timer due first (the oldest of those due together), or nullptr.
  [[nodiscard]] Timer* next_due();
  void changed();
  void wait_for_change(std::unique_lock<std::mutex>& lock, const Timer* next);
  void call(const std::function<void()>& action);

  Machine& machine_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Timer> timers_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  // Bumped by every change of the timers: what a deterministic clock thread waits for.
  std::atomic<std::uint64_t> changes_{0};
  std::thread thread_;
};

}  // namespace irqsim::core
