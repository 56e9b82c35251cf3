#include "core/execution_context.hpp"

#include <algorithm>
#include <memory>

#include "core/dpc_queues.hpp"
#include "core/interrupt_dispatch.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/running_routine.hpp"
#include "core/scheduler.hpp"
#include "core/trace_recorder.hpp"

// Defined here for wdm.h's inline routines: a simulated processor's thread points it at its
// context's state when it starts.
IRQSIM_THREAD_LOCAL irqsim_processor_state* irqsim_current_processor = nullptr;

namespace irqsim::core {

namespace detail {
constinit thread_local ExecutionContext* processor_context = nullptr;
}  // namespace detail

ExecutionContext::ExecutionContext(Machine& machine, Processor* processor, std::uintptr_t lock_token)
    : machine_(machine),
      processor_(processor),
      tracer_(machine.tracer()),
      scheduled_(processor != nullptr && machine.scheduler() != nullptr),
      observes_locks_(tracer_ != nullptr || scheduled_) {
  state_.lock_token = lock_token;
  if (processor == nullptr) return;
  // With the watchdog on, every preemption point times the running routine.
  if (machine.config().watchdog_limit != std::chrono::microseconds::zero()) state_.attention |= attention::kWatchdog;
  if (tracer_ != nullptr) state_.attention |= attention::kTracing;
  if (scheduled_) state_.attention |= attention::kScheduled;
}

std::optional<unsigned> ExecutionContext::processor_number() const {
  if (processor_ == nullptr) return std::nullopt;
  return processor_->index();
}

void ExecutionContext::lower_to(Irql level) {
  if (tracer_ != nullptr) [[unlikely]] note_irql_change(level);
  // The same store as wdm.h's inline routines, with the same fences.
  const std::uint32_t pending = irqsim_store_lower_irql(&state_, level);
  if (processor_ != nullptr && pending != 0) attend(pending);
}

void ExecutionContext::attend(std::uint32_t pending) {
  if ((pending & attention::kScheduled) != 0) {
    machine_.scheduler()->yield(processor_->index());
    // Others ran meanwhile: an interrupt may have arrived, or the machine halted.
    pending = attention();
  }
  if ((pending & attention::kHalting) != 0) check_still_running();
  if ((pending & attention::kWatchdog) != 0 && running_routine_ != nullptr) running_routine_->check_watchdog();
  if ((pending & (attention::kPendingIrqls | attention::kUnrouted)) != 0) take_pending_interrupts(*this);
  // Read again: an ISR just taken may have queued a DPC.
  if ((attention() & attention::kDpcQueued) != 0 && irql() < irql::kDispatch) machine_.dpcs().retire_if_due(*this);
}

void ExecutionContext::check_still_running() const {
  if (machine_.halted() || (processor_ != nullptr && processor_->stopping())) machine_.leave_halted_machine(*this);
}

void ExecutionContext::set_running_routine(RunningRoutine* routine) noexcept {
  running_routine_ = routine;
  const bool dpc = routine != nullptr && routine->kind() == RoutineKind::DeferredProcedure;
  state_.dpc_routine_floor = dpc ? std::uint8_t{1u << irql::kDispatch} : std::uint8_t{0};
}

void ExecutionContext::note_irql_change(Irql level) noexcept {
  const Irql previous = irql();
  if (processor_ == nullptr || level == previous) return;
  const std::int64_t now = tracer_->record(TraceEventKind::IrqlChange, 0, level, 0, previous);
  processor_->times().enter(level, now);
}

void ExecutionContext::note_lock_address(std::uintptr_t lock, bool held) noexcept {
  if (held) {
    if (held_lock_count_ < kTrackedLocks) held_lock_addresses_[held_lock_count_++] = lock;
    return;
  }
  const auto end = held_lock_addresses_.begin() + static_cast<std::ptrdiff_t>(held_lock_count_);
  if (const auto found = std::find(held_lock_addresses_.begin(), end, lock); found != end) {
    std::copy(found + 1, end, found);
    --held_lock_count_;
  }
}

std::vector<std::uint64_t> ExecutionContext::held_lock_addresses() const {
  return {held_lock_addresses_.begin(), held_lock_addresses_.begin() + static_cast<std::ptrdiff_t>(held_lock_count_)};
}

void ExecutionContext::reset() noexcept {
  held_lock_count_ = 0;
  set_irql_silently(irql::kPassive);
  for (std::uint32_t& count : state_.held_locks) count = 0;
  state_.held_lock_levels = 0;
}

namespace detail {

ExecutionContext& external_context() {
  Machine& machine = Machine::active();
  // One context per (thread, machine): a thread's IRQL never leaks from one test's machine
  // into the next one.
  thread_local std::unique_ptr<ExecutionContext> context;
  thread_local std::uint64_t context_machine = 0;
  if (!context || context_machine != machine.serial()) {
    context = std::make_unique<ExecutionContext>(machine, nullptr, machine.new_external_lock_token());
    context_machine = machine.serial();
  }
  return *context;
}

}  // namespace detail

}  // namespace irqsim::core
