#pragma once
// The state a piece of kernel code runs with: the IRQL, the spin locks it holds, and who it is
// for lock ownership. A simulated processor has one; every other thread that calls the WDK
// routines gets one of its own per machine (it never takes interrupts).
//
// The state itself is an irqsim_processor_state, which wdm.h's inline routines also use on a
// processor's thread. Its attention word tells a preemption point whether it has anything to
// do, so a call with nothing pending costs one load.

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "irqsim/irql.hpp"
#include "irqsim/processor_state.h"
#include "platform/compiler.hpp"

namespace irqsim::core {

class Machine;
class Processor;
class RunningRoutine;
class Scheduler;
class TraceRecorder;

// The bits of irqsim_processor_state::attention.
namespace attention {
// Bit L: an interrupt of IRQL L waits in this processor's interrupt request register.
inline constexpr std::uint32_t kPendingIrqls = 0xFFFF;
// Some vector waits for whichever processor of its affinity can take it first.
inline constexpr std::uint32_t kUnrouted = 1u << 16;
// This processor's DPC queue is not empty.
inline constexpr std::uint32_t kDpcQueued = 1u << 17;
// The machine halted or the processor is stopping.
inline constexpr std::uint32_t kHalting = 1u << 18;
// The DPC watchdog is on: running ISRs and DPCs are timed at every preemption point.
inline constexpr std::uint32_t kWatchdog = 1u << 19;
// The machine records a trace: wdm.h's inline IRQL and spin-lock routines take the library path,
// which records what they do.
inline constexpr std::uint32_t kTracing = 1u << 20;
// The machine is deterministic: every preemption point is a scheduling decision, so wdm.h's
// inline routines take the library path too.
inline constexpr std::uint32_t kScheduled = 1u << 21;
}  // namespace attention

class ExecutionContext {
 public:
  ExecutionContext(Machine& machine, Processor* processor, std::uintptr_t lock_token);
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  [[nodiscard]] Machine& machine() const noexcept { return machine_; }
  // nullptr for a thread that is not a simulated processor.
  [[nodiscard]] Processor* processor() const noexcept { return processor_; }
  [[nodiscard]] std::optional<unsigned> processor_number() const;
  // What wdm.h's inline routines see on this processor's thread.
  [[nodiscard]] irqsim_processor_state& shared_state() noexcept { return state_; }

  [[nodiscard]] Irql irql() const noexcept { return irql_cell().load(std::memory_order_relaxed); }
  // The IRQL as the interrupt controller reads it from another thread when routing; paired
  // with the sequentially consistent lowering from a device IRQL, so that lowering is never
  // missed.
  [[nodiscard]] Irql published_irql() const noexcept { return irql_cell().load(std::memory_order_seq_cst); }
  // Raising never lets an interrupt in, so it needs no preemption point and no fence: a
  // controller that still sees the lower IRQL routes an interrupt here that waits for the
  // lowering, as if it had been raised a moment before the IRQL was.
  void raise_to(Irql level) noexcept {
    if (tracer_ != nullptr) [[unlikely]] note_irql_change(level);
    irql_cell().store(level, std::memory_order_relaxed);
  }
  // Lowering is a preemption point: interrupts pending above the new level are taken here.
  void lower_to(Irql level);
  // Changes the IRQL without taking interrupts: for the interrupt dispatcher itself.
  void set_irql_silently(Irql level) noexcept {
    if (tracer_ != nullptr) [[unlikely]] note_irql_change(level);
    irql_cell().store(level, std::memory_order_seq_cst);
  }

  // The machine's trace recorder, or nullptr when it does not record.
  [[nodiscard]] TraceRecorder* tracer() const noexcept { return tracer_; }
  // Whether this is a processor of a deterministic machine.
  [[nodiscard]] bool scheduled() const noexcept { return scheduled_; }
  // Whether spin-lock operations are recorded or tracked (spin_lock::observe).
  [[nodiscard]] bool observes_locks() const noexcept { return observes_locks_; }

  // A library call by code running on a processor: stop if the machine has halted, time the
  // running ISR or DPC against the watchdog, take interrupts above the current IRQL and, below
  // DISPATCH_LEVEL, run the DPCs that are due. Does nothing on other threads, and nothing but
  // one load when the attention word is clear.
  void preemption_point() {
    if (processor_ == nullptr) return;
    if (const std::uint32_t pending = attention(); pending != 0) attend(pending);
  }
  // For loops that wait on another processor: throws if the machine halted or is stopping.
  void check_still_running() const;

  // The attention word; other threads set and clear their bits in it.
  [[nodiscard]] std::uint32_t attention() const noexcept { return attention_cell().load(std::memory_order_seq_cst); }
  void set_attention(std::uint32_t bits) noexcept { attention_cell().fetch_or(bits, std::memory_order_seq_cst); }
  void clear_attention(std::uint32_t bits) noexcept { attention_cell().fetch_and(~bits, std::memory_order_seq_cst); }

  // The value a spin lock holds while this context owns it.
  [[nodiscard]] std::uintptr_t lock_token() const noexcept { return state_.lock_token; }
  // Bookkeeping of held spin locks by the IRQL they require (DISPATCH_LEVEL for executive
  // locks, SynchronizeIrql for interrupt locks).
  void note_lock_acquired(Irql required) noexcept {
    if (state_.held_locks[required]++ == 0) state_.held_lock_levels |= static_cast<std::uint16_t>(1u << required);
  }
  void note_lock_released(Irql required) noexcept {
    if (state_.held_locks[required] > 0 && --state_.held_locks[required] == 0) {
      state_.held_lock_levels &= static_cast<std::uint16_t>(~(1u << required));
    }
  }
  // On a deterministic machine, which locks a processor holds, for hang reports (the first
  // kTrackedLocks of them). Only the library's lock paths keep it, and on such a machine
  // wdm.h's inline ones never run on a processor.
  void note_lock_address(std::uintptr_t lock, bool held) noexcept;
  [[nodiscard]] std::vector<std::uint64_t> held_lock_addresses() const;
  [[nodiscard]] std::optional<Irql> highest_held_lock_level() const noexcept {
    if (state_.held_lock_levels == 0) return std::nullopt;
    return static_cast<Irql>(std::bit_width(state_.held_lock_levels) - 1);
  }
  // The innermost ISR or DPC routine running in this context, or nullptr.
  [[nodiscard]] const RunningRoutine* running_routine() const noexcept { return running_routine_; }
  [[nodiscard]] RunningRoutine* running_routine() noexcept { return running_routine_; }
  [[nodiscard]] bool in_dpc_routine() const noexcept { return state_.dpc_routine_floor != 0; }
  void set_running_routine(RunningRoutine* routine) noexcept;

  // After an exception escaped driver code: back to a clean PASSIVE_LEVEL state.
  void reset() noexcept;

 private:
  // The state's fields are plain C; other threads reach the shared ones through atomic_ref.
  [[nodiscard]] std::atomic_ref<std::uint8_t> irql_cell() const noexcept {
    return std::atomic_ref<std::uint8_t>(const_cast<std::uint8_t&>(state_.irql));
  }
  [[nodiscard]] std::atomic_ref<std::uint32_t> attention_cell() const noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(state_.attention));
  }
  void attend(std::uint32_t pending);
  // Records a processor's IRQL change and charges its time to the new level.
  IRQSIM_COLD void note_irql_change(Irql level) noexcept;

  static constexpr std::size_t kTrackedLocks = 16;

  Machine& machine_;
  Processor* processor_;
  TraceRecorder* tracer_;
  bool scheduled_;
  bool observes_locks_;
  irqsim_processor_state state_{};
  RunningRoutine* running_routine_ = nullptr;
  std::array<std::uintptr_t, kTrackedLocks> held_lock_addresses_{};
  std::size_t held_lock_count_ = 0;
};

namespace detail {
// The calling thread's processor context, set by the processor's thread when it starts.
extern constinit thread_local ExecutionContext* processor_context;
ExecutionContext& external_context();
}  // namespace detail

// The context of the calling thread: its processor's, or (for any other thread) its own for
// the machine it acts on. Throws std::logic_error when no machine exists.
inline ExecutionContext& current_context() {
  if (ExecutionContext* context = detail::processor_context) return *context;
  return detail::external_context();
}

}  // namespace irqsim::core
