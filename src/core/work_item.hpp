#pragma once
// A function a test asks a simulated processor to run at PASSIVE_LEVEL, playing the part of
// driver code (a dispatch routine, a worker thread) running there.

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>

namespace irqsim::core {

struct WorkItem {
  enum class State : std::uint8_t { Queued, Done, Abandoned };

  WorkItem(std::function<void()> to_run, bool run_detached)
      : function(std::move(to_run)), detached(run_detached) {}

  std::function<void()> function;
  // post(): nobody waits; a failure goes to the machine instead of a waiter.
  bool detached;
  std::exception_ptr failure;
  std::atomic<State> state{State::Queued};
};

}  // namespace irqsim::core
