// The library paths of wdm.h's inline KeGetCurrentIrql, KfRaiseIrql (KeRaiseIrql), KeLowerIrql
// and KeRaiseIrqlToDpcLevel, and the preemption point their fast paths call after lowering.

#include <fmt/format.h>

#include "wdk/kernel_call.hpp"

using namespace irqsim;

extern "C" {

uint8_t irqsim_get_current_irql(void) { return wdk::enter().irql(); }

uint8_t irqsim_raise_irql(uint8_t NewIrql) {
  auto& context = wdk::enter();
  const Irql current = context.irql();
  if (NewIrql < current || NewIrql > HIGH_LEVEL) {
    wdk::bug_check(context, bugcheck::kDriverVerifierDetectedViolation,
                   {bugcheck::kVerifierRaiseToLowerIrql, current, NewIrql, 0},
                   fmt::format("KeRaiseIrql was asked to raise the IRQL from {} to {}; the new IRQL must be at "
                               "least the current one and at most HIGH_LEVEL (15).",
                               wdk::irql_name(current), wdk::irql_name(NewIrql)));
  }
  context.raise_to(NewIrql);
  return current;
}

void irqsim_lower_irql(uint8_t NewIrql) { wdk::lower_irql(wdk::enter(), NewIrql, "KeLowerIrql"); }

uint8_t irqsim_raise_irql_to_dpc_level(void) {
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, DISPATCH_LEVEL, bugcheck::kRuleIrqlKeDispatchLte, "KeRaiseIrqlToDpcLevel");
  const Irql current = context.irql();
  context.raise_to(DISPATCH_LEVEL);
  return current;
}

void irqsim_preemption_point(void) { core::current_context().preemption_point(); }

}  // extern "C"
