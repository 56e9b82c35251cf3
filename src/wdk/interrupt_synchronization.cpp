// KeSynchronizeExecution and the interrupt spin lock: the ways driver code outside the ISR
// enters the ISR's critical section (its SynchronizeIrql plus its lock).

#include <fmt/format.h>

#include "core/spin_lock.hpp"
#include "platform/compiler.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

// The interrupt's critical section is its SynchronizeIrql plus its lock. Entering it from
// above SynchronizeIrql would be a raise to a lower IRQL. Returns the IRQL to go back to.
IRQSIM_ALWAYS_INLINE Irql enter_critical_section(core::ExecutionContext& context, core::InterruptObject& object,
                                                 std::string_view api) {
  const Irql previous = context.irql();
  wdk::require_irql_not_above(context, object.synchronize_irql, "SynchronizeIrql", api, wdk::address(&object));
  context.raise_to(object.synchronize_irql);
  core::spin_lock::acquire(context, *object.lock, object.synchronize_irql, api);
  return previous;
}

IRQSIM_ALWAYS_INLINE void leave_critical_section(core::ExecutionContext& context, core::InterruptObject& object,
                                                 Irql previous, std::string_view api) {
  core::spin_lock::release(context, *object.lock, object.synchronize_irql, api);
  wdk::lower_irql(context, previous, api);
}

// A passive-level interrupt synchronizes through an event, not a spin lock (KeSynchronizeExecution
// handles both); its spin-lock routines are documented to bug-check.
void require_spin_lock(core::ExecutionContext& context, const core::InterruptObject& object, std::string_view api) {
  if (object.synchronize_irql != PASSIVE_LEVEL) return;
  wdk::bug_check(context, bugcheck::kPassiveInterruptError, {1, wdk::address(&object), 0, 0},
                 fmt::format("{} was called on passive-level interrupt {:#x}, which has no spin lock; use "
                             "KeSynchronizeExecution.",
                             api, wdk::address(&object)));
}

}  // namespace

extern "C" {

BOOLEAN KeSynchronizeExecution(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                               PVOID SynchronizeContext) {
  constexpr std::string_view api = "KeSynchronizeExecution";
  auto& context = wdk::enter();
  core::InterruptObject& object = wdk::resolve(context, Interrupt, api);
  const Irql previous = enter_critical_section(context, object, api);
  if (SynchronizeRoutine == nullptr) {
    wdk::bug_check(context, bugcheck::kDriverIrqlNotLessOrEqual, {0, context.irql(), 8, 0},
                   fmt::format("KeSynchronizeExecution was passed a NULL SynchronizeRoutine and called it at IRQL {}.",
                               wdk::irql_name(context.irql())));
  }
  const BOOLEAN result = SynchronizeRoutine(SynchronizeContext);
  leave_critical_section(context, object, previous, api);
  return result;
}

KIRQL KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt) {
  constexpr std::string_view api = "KeAcquireInterruptSpinLock";
  auto& context = wdk::enter();
  core::InterruptObject& object = wdk::resolve(context, Interrupt, api);
  require_spin_lock(context, object, api);
  return enter_critical_section(context, object, api);
}

VOID KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql) {
  constexpr std::string_view api = "KeReleaseInterruptSpinLock";
  auto& context = wdk::enter();
  core::InterruptObject& object = wdk::resolve(context, Interrupt, api);
  require_spin_lock(context, object, api);
  leave_critical_section(context, object, OldIrql, api);
}

}  // extern "C"
