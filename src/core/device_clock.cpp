#include "core/device_clock.hpp"

#include <algorithm>
#include <chrono>

#include "core/machine.hpp"
#include "core/scheduler.hpp"

namespace irqsim::core {

std::uint64_t DeviceClock::start(std::int64_t period_ns, std::uint64_t count, std::function<void()> action) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  timers_.push_back({id, period_ns, machine_.uptime_ns() + period_ns, count,
                     std::make_shared<const std::function<void()>>(std::move(action))});
  if (count != 0) machine_.activity_started();
  if (!thread_.joinable()) {
    Scheduler* scheduler = machine_.scheduler();
    thread_ = std::thread([this, scheduler] {
      if (scheduler != nullptr) scheduler->wait_for_first_turn(scheduler->clock_participant());
      main();
    });
    // Still holding the turn: the thread cannot run before it is a participant.
    if (scheduler != nullptr) scheduler->join_clock(thread_.get_id());
  }
  changed();
  return id;
}

void DeviceClock::stop(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto found = std::find_if(timers_.begin(), timers_.end(), [id](const Timer& timer) { return timer.id == id; });
  if (found == timers_.end()) return;
  const bool counted = found->remaining != 0;
  timers_.erase(found);
  if (counted) machine_.activity_finished();
  changed();
}

void DeviceClock::shut_down() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed();
  }
  if (thread_.joinable()) thread_.join();
}

// Under mutex_.
void DeviceClock::changed() {
  changes_.fetch_add(1, std::memory_order_release);
  changed_.notify_all();
}

DeviceClock::Timer* DeviceClock::next_due() {
  Timer* next = nullptr;
  for (Timer& timer : timers_) {
    if (next == nullptr || timer.due_ns < next->due_ns) next = &timer;
  }
  return next;
}

void DeviceClock::main() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    Timer* next = next_due();
    if (next == nullptr || next->due_ns > machine_.uptime_ns()) {
      wait_for_change(lock, next);
      continue;
    }
    const std::shared_ptr<const std::function<void()>> action = next->action;
    next->due_ns += next->period_ns;
    const bool last = next->remaining != 0 && --next->remaining == 0;
    if (last) timers_.erase(timers_.begin() + (next - timers_.data()));
    lock.unlock();
    call(*action);
    if (last) machine_.activity_finished();
    lock.lock();
  }
}

void DeviceClock::wait_for_change(std::unique_lock<std::mutex>& lock, const Timer* next) {
  Scheduler* scheduler = machine_.scheduler();
  if (scheduler != nullptr && !scheduler->released()) {
    const std::uint64_t seen = changes_.load(std::memory_order_acquire);
    Scheduler::Wait wait{.what = "device timers",
                         .ready = [this, seen] { return changes_.load(std::memory_order_acquire) != seen; }};
    if (next != nullptr) wait.until = next->due_ns;
    lock.unlock();
    scheduler->wait(scheduler->clock_participant(), std::move(wait));
    lock.lock();
  } else if (next != nullptr) {
    changed_.wait_for(lock, std::chrono::nanoseconds(next->due_ns - machine_.uptime_ns()));
  } else {
    changed_.wait(lock);
  }
}

void DeviceClock::call(const std::function<void()>& action) {
  try {
    action();
  } catch (...) {
    // A halted machine throws its report at every caller; the test learns of the halt anyway.
    if (!machine_.halted()) machine_.record_posted_failure(std::current_exception());
  }
}

}  // namespace irqsim::core
