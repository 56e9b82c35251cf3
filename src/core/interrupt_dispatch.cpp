#include "core/interrupt_dispatch.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/address.hpp"
#include "core/execution_context.hpp"
#include "core/interrupt_controller.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/running_routine.hpp"
#include "core/spin_lock.hpp"
#include "core/trace_recorder.hpp"

namespace irqsim::core {

namespace {

constexpr std::string_view kDispatcher = "The interrupt dispatcher";

// One interrupt object: raise to its SynchronizeIrql, take its lock, call, check, release.
bool call_service_routine(ExecutionContext& context, InterruptObject& object) {
  const Irql entry = context.irql();
  const Irql synchronize = object.synchronize_irql;
  context.set_irql_silently(synchronize);
  spin_lock::acquire(context, *object.lock, synchronize, kDispatcher);
  TraceRecorder* tracer = context.tracer();
  const auto vector = static_cast<std::uint16_t>(object.vector);
  if (tracer != nullptr) {
    tracer->record(TraceEventKind::IsrEnter, vector, synchronize, address(object.routine), address(&object));
  }
  bool claimed = false;
  {
    RunningRoutine running(context, RoutineKind::InterruptService, object.routine, synchronize > irql::kPassive);
    claimed = object.service(object);
    running.check_watchdog();
  }
  if (tracer != nullptr) {
    tracer->record(TraceEventKind::IsrExit, vector, synchronize, address(object.routine), claimed);
  }
  if (context.irql() != synchronize) {
    const std::uint64_t unique_value = 3;  // "after an interrupt's ServiceRoutine"
    context.machine().bug_check(
        context, bugcheck::kIrqlUnexpectedValue,
        {(std::uint64_t{context.irql()} << 16) | (std::uint64_t{synchronize} << 8) | unique_value,
         address(object.routine), address(&object), 0},
        fmt::format("The interrupt service routine at {:#x} (vector {:#x}) was called at IRQL {} and "
                    "returned at IRQL {}; an ISR must return at the IRQL it was called at.",
                    address(object.routine), object.vector, synchronize, context.irql()));
  }
  spin_lock::release(context, *object.lock, synchronize, kDispatcher);
  context.set_irql_silently(entry);
  return claimed;
}

bool runs_here(const InterruptObject& object, const Processor& processor) {
  return object.group == processor.group() && (object.affinity >> processor.number_in_group() & 1u) != 0;
}

std::string describe_chain(const Chain& chain) {
  std::string text;
  for (const InterruptObject* object : chain) {
    if (!text.empty()) text += ", ";
    text += fmt::format("ISR {:#x} (context {:#x})", address(object->routine), address(object->context));
  }
  return text.empty() ? std::string("none") : text;
}

[[noreturn]] void report_storm(ExecutionContext& context, const Acceptance& accepted, std::string_view what) {
  const Processor& processor = *context.processor();
  Chain mine;
  if (accepted.chain) {
    for (InterruptObject* object : *accepted.chain) {
      if (runs_here(*object, processor)) mine.push_back(object);
    }
  }
  const InterruptObject* first = mine.empty() ? nullptr : mine.front();
  context.machine().bug_check(
      context, bugcheck::kHardwareInterruptStorm,
      {first ? address(first->routine) : 0, first ? address(first->context) : 0, address(first),
       mine.size() > 1 ? 2u : 1u},
      fmt::format("Vector {:#x} (IRQL {}, {}) {}; connected ISRs: {}.", accepted.vector, accepted.irql,
                  accepted.mode == TriggerMode::Level ? "level-triggered" : "latched", what, describe_chain(mine)));
}

// Calls the ISRs connected on this processor, in connection order, until `stop_at_claim` and
// one claims. Returns {claimed, called any}.
std::pair<bool, bool> one_pass(ExecutionContext& context, const Chain& chain, bool stop_at_claim) {
  const Processor& processor = *context.processor();
  bool claimed = false;
  bool called = false;
  for (InterruptObject* object : chain) {
    if (!runs_here(*object, processor) || !object->active.load(std::memory_order_acquire)) continue;
    called = true;
    claimed |= call_service_routine(context, *object);
    if (claimed && stop_at_claim) break;
  }
  return {claimed, called};
}

// Walks the objects connected on this processor. One object is called once. A level-triggered
// chain stops at the first ISR that claims the interrupt (the line brings it back if another
// device still needs service); a latched chain repeats whole passes until one in which nobody
// claims it, because an edge that arrived while the chain ran would otherwise be lost.
DeliveryOutcome run_service_routines(ExecutionContext& context, const Acceptance& accepted) {
  DeliveryOutcome outcome;
  if (accepted.chain) {
    const Processor& processor = *context.processor();
    const auto count = std::count_if(accepted.chain->begin(), accepted.chain->end(),
                                     [&](const InterruptObject* object) { return runs_here(*object, processor); });
    const bool repeat_passes = count > 1 && accepted.mode == TriggerMode::Edge;
    auto [claimed, called] = one_pass(context, *accepted.chain, !repeat_passes);
    outcome.claimed = claimed;
    outcome.unexpected = !called && count == 0;
    outcome.all_inactive = !called && count > 0;
    const unsigned limit = context.machine().config().storm_threshold;
    for (unsigned passes = 1; repeat_passes && claimed; ++passes) {
      if (passes >= limit) {
        report_storm(context, accepted, fmt::format("was claimed in {} consecutive passes of its chain", passes));
      }
      claimed = one_pass(context, *accepted.chain, false).first;
    }
  } else {
    outcome.unexpected = true;
  }
  return outcome;
}

InterruptOutcome outcome_of(const DeliveryOutcome& outcome) {
  if (outcome.all_inactive) return InterruptOutcome::Undone;
  if (outcome.unexpected) return InterruptOutcome::Unexpected;
  return outcome.claimed ? InterruptOutcome::Claimed : InterruptOutcome::Unclaimed;
}

// One accepted interrupt from its acceptance to its end: the processor runs at the vector's
// IRQL while the chain of ISRs runs, and its time is charged there. If the ISRs' frames unwind
// (the machine halted under them, or an exception escaped one) the vector still leaves service,
// counted as abandoned, so a disconnect waiting for it can finish.
class Delivery {
 public:
  Delivery(ExecutionContext& context, const Acceptance& accepted)
      : context_(context),
        accepted_(accepted),
        interrupted_(context.irql()),
        outer_(context.processor()->times().enter(accepted.irql, accepted.accepted_at_ns)) {
    if (TraceRecorder* tracer = context.tracer()) {
      tracer->record_at(accepted.accepted_at_ns, TraceEventKind::Deliver, static_cast<std::uint16_t>(accepted.vector),
                        accepted.irql, accepted.edges_raised, static_cast<std::uint64_t>(accepted.latency.count()));
    }
    // The hardware raises the processor to the vector's IRQL when it takes the interrupt and
    // the end-of-interrupt path restores the interrupted IRQL.
    context.set_irql_silently(accepted.irql);
  }
  ~Delivery() {
    if (ended_) return;
    leave(InterruptOutcome::Abandoned);
    context_.machine().controller().abandon(accepted_);
  }
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // Back at the interrupted IRQL before end of interrupt, so that a test that sees the machine
  // quiescent also sees this processor ready for the next interrupt. Returns what is wrong if
  // the vector storms.
  std::optional<std::string> end(const DeliveryOutcome& outcome) {
    ended_ = true;
    const std::int64_t ended_at = leave(outcome_of(outcome));
    return context_.machine().controller().end_of_interrupt(
        accepted_, outcome, std::chrono::nanoseconds(ended_at - accepted_.accepted_at_ns));
  }

 private:
  std::int64_t leave(InterruptOutcome outcome) {
    const std::int64_t now = context_.machine().uptime_ns();
    if (TraceRecorder* tracer = context_.tracer()) {
      tracer->record_at(now, TraceEventKind::InterruptEnd, static_cast<std::uint16_t>(accepted_.vector),
                        accepted_.irql, 0, static_cast<std::uint64_t>(outcome));
    }
    context_.set_irql_silently(interrupted_);
    context_.processor()->times().enter(outer_, now);
    return now;
  }

  ExecutionContext& context_;
  const Acceptance& accepted_;
  Irql interrupted_;
  unsigned outer_;
  bool ended_ = false;
};

}  // namespace

namespace {

void take_interrupts_above(ExecutionContext& context, int level_of_code) {
  Processor* processor = context.processor();
  if (processor == nullptr) return;
  InterruptController& controller = context.machine().controller();
  while (controller.may_have_work_above(context, level_of_code)) {
    context.check_still_running();
    auto accepted = controller.accept(processor->index(), level_of_code);
    if (!accepted) return;
    std::optional<std::string> storm;
    {
      Delivery delivery(context, *accepted);
      storm = delivery.end(run_service_routines(context, *accepted));
    }
    if (storm) {
      context.set_irql_silently(accepted->irql);  // report the storm from the interrupt's level
      report_storm(context, *accepted, *storm);
    }
  }
}

}  // namespace

void take_pending_interrupts(ExecutionContext& context) { take_interrupts_above(context, context.irql()); }

void take_pending_interrupts_when_idle(ExecutionContext& context) {
  take_interrupts_above(context, InterruptController::kIdle);
}

}  // namespace irqsim::core
