#pragma once
// A simulated processor: an OS thread with its own IRQL that takes interrupts from the
// controller and runs work items at PASSIVE_LEVEL. When there is nothing to do it polls its
// doorbell for MachineConfig::idle_spin, then parks on it, so an idle machine costs (almost)
// no CPU. On a deterministic machine it runs only while it holds the scheduler's turn, and an
// idle processor gives the turn away until its doorbell rings.

#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <memory>
#include <thread>

#include "core/execution_context.hpp"
#include "core/processor_times.hpp"
#include "core/work_item.hpp"
#include "platform/doorbell.hpp"

namespace irqsim::core {

class Machine;

class Processor {
 public:
  Processor(Machine& machine, unsigned index);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  // The processor the calling thread is, or nullptr.
  static Processor* current() noexcept;

  [[nodiscard]] unsigned index() const noexcept { return index_; }
  [[nodiscard]] std::uint16_t group() const noexcept { return group_; }
  [[nodiscard]] unsigned number_in_group() const noexcept { return number_in_group_; }
  [[nodiscard]] ExecutionContext& context() noexcept { return context_; }
  [[nodiscard]] const ExecutionContext& context() const noexcept { return context_; }
  [[nodiscard]] ProcessorTimes& times() noexcept { return times_; }
  [[nodiscard]] const ProcessorTimes& times() const noexcept { return times_; }
  [[nodiscard]] bool stopping() const noexcept { return stop_.load(std::memory_order_acquire); }

  void submit(std::shared_ptr<WorkItem> item);
  // Something changed for this processor: a pending interrupt, work, a halt.
  void wake() noexcept { doorbell_.ring(); }
  // How often the doorbell has rung: a waiter that read it rings since then wake it.
  [[nodiscard]] std::uint32_t doorbell_rings() const noexcept { return doorbell_.read(); }
  // Asks the thread to finish; join() waits for it. A machine asks all its processors before
  // joining any, so they wind down in parallel.
  void request_stop() noexcept;
  void join();

 private:
  void main();
  void serve();
  void idle_until_woken(std::uint32_t seen);
  // Waits for the doorbell to ring after `seen`: parked in the host kernel, or on a
  // deterministic machine, without the turn.
  void park(std::uint32_t seen);
  void run(WorkItem& item);
  void call(WorkItem& item);
  // The function of a work item begins or ends: recorded, and the processor's time charged.
  unsigned begin_work();
  void end_work(unsigned outer);
  void finish(WorkItem& item, WorkItem::State state);
  void abandon_queued_work();
  std::shared_ptr<WorkItem> next_work();

  // Doorbell reads between two reads of the clock while an idle processor polls.
  static constexpr int kPollsPerClockRead = 16;

  Machine& machine_;
  unsigned index_;
  std::uint16_t group_;
  unsigned number_in_group_;
  ExecutionContext context_;
  std::atomic<bool> stop_{false};
  platform::Doorbell doorbell_;
  // Holders of shared_ptrs: the queue needs trivially copyable elements.
  boost::lockfree::queue<std::shared_ptr<WorkItem>*> work_{16};
  std::thread thread_;
  // Last: between the context's attention word and the doorbell, which a thread routing an
  // interrupt here writes one after the other, it would cost that thread a cache line more.
  ProcessorTimes times_;
};

}  // namespace irqsim::core
