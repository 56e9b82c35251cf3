#include "core/execution_context.hpp"

#include <memory>

#include "core/dpc_queues.hpp"
#include "core/interrupt_dispatch.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/running_routine.hpp"

namespace irqsim::core {

ExecutionContext::ExecutionContext(Machine& machine, Processor* processor, std::uintptr_t lock_token)
    : machine_(machine), processor_(processor), lock_token_(lock_token) {}

std::optional<unsigned> ExecutionContext::processor_number() const {
  if (processor_ == nullptr) return std::nullopt;
  return processor_->index();
}

void ExecutionContext::lower_to(Irql level) {
  irql_.store(level, std::memory_order_seq_cst);
  preemption_point();
}

void ExecutionContext::preemption_point() {
  if (processor_ == nullptr) return;
  check_still_running();
  if (running_routine_ != nullptr) running_routine_->check_watchdog();
  take_pending_interrupts(*this);
  if (irql() < irql::kDispatch) machine_.dpcs().retire_if_due(*this);
}

void ExecutionContext::check_still_running() const {
  if (machine_.halted() || (processor_ != nullptr && processor_->stopping())) machine_.leave_halted_machine(*this);
}

std::optional<Irql> ExecutionContext::highest_held_lock_level() const noexcept {
  for (int level = irql::kHigh; level >= 0; --level) {
    if (held_by_level_[static_cast<std::size_t>(level)] != 0) return static_cast<Irql>(level);
  }
  return std::nullopt;
}

void ExecutionContext::reset() noexcept {
  irql_.store(irql::kPassive, std::memory_order_seq_cst);
  held_by_level_.fill(0);
}

ExecutionContext& current_context() {
  if (Processor* processor = Processor::current()) return processor->context();
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

}  // namespace irqsim::core
