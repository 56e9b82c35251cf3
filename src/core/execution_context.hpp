#pragma once
// The state a piece of kernel code runs with: the IRQL, the spin locks it holds, and who it is
// for lock ownership. A simulated processor has one; every other thread that calls the WDK
// routines gets one of its own per machine (it never takes interrupts).

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "irqsim/irql.hpp"

namespace irqsim::core {

class Machine;
class Processor;
class RunningRoutine;

class ExecutionContext {
 public:
  ExecutionContext(Machine& machine, Processor* processor, std::uintptr_t lock_token);
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  [[nodiscard]] Machine& machine() const noexcept { return machine_; }
  // nullptr for a thread that is not a simulated processor.
  [[nodiscard]] Processor* processor() const noexcept { return processor_; }
  [[nodiscard]] std::optional<unsigned> processor_number() const;

  [[nodiscard]] Irql irql() const noexcept { return irql_.load(std::memory_order_relaxed); }
  // The IRQL as the interrupt controller reads it from another thread when routing; paired
  // with the sequentially consistent stores below so a lowering is never missed.
  [[nodiscard]] Irql published_irql() const noexcept { return irql_.load(std::memory_order_seq_cst); }
  // Raising never lets an interrupt in, so it needs no preemption point.
  void raise_to(Irql level) noexcept { irql_.store(level, std::memory_order_seq_cst); }
  // Lowering is a preemption point: interrupts pending above the new level are taken here.
  void lower_to(Irql level);
  // Changes the IRQL without taking interrupts: for the interrupt dispatcher itself.
  void set_irql_silently(Irql level) noexcept { irql_.store(level, std::memory_order_seq_cst); }

  // A library call by code running on a processor: stop if the machine has halted, time the
  // running ISR or DPC against the watchdog, take interrupts above the current IRQL and, below
  // DISPATCH_LEVEL, run the DPCs that are due. Does nothing on other threads.
  void preemption_point();
  // For loops that wait on another processor: throws if the machine halted or is stopping.
  void check_still_running() const;

  // The value a spin lock holds while this context owns it.
  [[nodiscard]] std::uintptr_t lock_token() const noexcept { return lock_token_; }
  // Bookkeeping of held spin locks by the IRQL they require (DISPATCH_LEVEL for executive
  // locks, SynchronizeIrql for interrupt locks).
  void note_lock_acquired(Irql required) noexcept { ++held_by_level_[required]; }
  void note_lock_released(Irql required) noexcept {
    if (held_by_level_[required] > 0) --held_by_level_[required];
  }
  [[nodiscard]] std::optional<Irql> highest_held_lock_level() const noexcept;
  // The innermost ISR or DPC routine running in this context, or nullptr.
  [[nodiscard]] const RunningRoutine* running_routine() const noexcept { return running_routine_; }
  [[nodiscard]] RunningRoutine* running_routine() noexcept { return running_routine_; }
  void set_running_routine(RunningRoutine* routine) noexcept { running_routine_ = routine; }

  // After an exception escaped driver code: back to a clean PASSIVE_LEVEL state.
  void reset() noexcept;

 private:
  Machine& machine_;
  Processor* processor_;
  std::uintptr_t lock_token_;
  std::atomic<Irql> irql_{irql::kPassive};
  std::array<std::uint32_t, irql::kHigh + 1> held_by_level_{};
  RunningRoutine* running_routine_ = nullptr;
};

// The context of the calling thread: its processor's, or (for any other thread) its own for
// the machine it acts on. Throws std::logic_error when no machine exists.
ExecutionContext& current_context();

}  // namespace irqsim::core
