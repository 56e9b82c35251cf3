// KeSynchronizeExecution and the interrupt spin lock: the ways driver code outside the ISR
// enters the ISR's critical section (its SynchronizeIrql plus its lock).

#include <fmt/format.h>

#include "core/spin_lock.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

// Entering the critical section from above SynchronizeIrql would be a raise to a lower IRQL.
void require_at_most_synchronize_irql(core::ExecutionContext& context, const core::InterruptObject& object,
                                      std::string_view api) {
  if (context.irql() <= object.synchronize_irql) return;
  wdk::bug_check(context, bugcheck::kIrqlNotGreaterOrEqual,
                 {context.irql(), object.synchronize_irql, wdk::address(&object), 0},
                 fmt::format("{} was called at IRQL {}, above the interrupt's SynchronizeIrql {}; it may be called "
                             "only at IRQL <= SynchronizeIrql.",
                             api, wdk::irql_name(context.irql()), wdk::irql_name(object.synchronize_irql)));
}

}  // namespace

extern "C" {

BOOLEAN KeSynchronizeExecution(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                               PVOID SynchronizeContext) {
  constexpr std::string_view api = "KeSynchronizeExecution";
  auto& context = wdk::enter();
  core::InterruptObject& object = wdk::resolve(context, Interrupt, api);
  require_at_most_synchronize_irql(context, object, api);
  const Irql previous = context.irql();
  context.raise_to(object.synchronize_irql);
  if (SynchronizeRoutine == nullptr) {
    wdk::bug_check(context, bugcheck::kDriverIrqlNotLessOrEqual, {0, context.irql(), 8, 0},
                   fmt::format("KeSynchronizeExecution was passed a NULL SynchronizeRoutine and called it at IRQL {}.",
                               wdk::irql_name(context.irql())));
  }
  core::spin_lock::acquire(context, *object.lock, object.synchronize_irql, api);
  const BOOLEAN result = SynchronizeRoutine(SynchronizeContext);
  core::spin_lock::release(context, *object.lock, object.synchronize_irql, api);
  wdk::lower_irql(context, previous, api);
  return result;
}

KIRQL KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt) {
  constexpr std::string_view api = "KeAcquireInterruptSpinLock";
  auto& context = wdk::enter();
  core::InterruptObject& object = wdk::resolve(context, Interrupt, api);
  require_at_most_synchronize_irql(context, object, api);
  const Irql previous = context.irql();
  context.raise_to(object.synchronize_irql);
  core::spin_lock::acquire(context, *object.lock, object.synchronize_irql, api);
  return previous;
}

VOID KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql) {
  constexpr std::string_view api = "KeReleaseInterruptSpinLock";
  auto& context = wdk::enter();
  core::InterruptObject& object = wdk::resolve(context, Interrupt, api);
  core::spin_lock::release(context, *object.lock, object.synchronize_irql, api);
  wdk::lower_irql(context, OldIrql, api);
}

}  // extern "C"
