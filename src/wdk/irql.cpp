// KeGetCurrentIrql, KfRaiseIrql (KeRaiseIrql), KeLowerIrql, KeRaiseIrqlToDpcLevel.

#include <fmt/format.h>

#include "wdk/kernel_call.hpp"

using namespace irqsim;

extern "C" {

KIRQL KeGetCurrentIrql(void) { return wdk::enter().irql(); }

KIRQL KfRaiseIrql(KIRQL NewIrql) {
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

VOID KeLowerIrql(KIRQL NewIrql) { wdk::lower_irql(wdk::enter(), NewIrql, "KeLowerIrql"); }

KIRQL KeRaiseIrqlToDpcLevel(void) {
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, DISPATCH_LEVEL, bugcheck::kRuleIrqlKeDispatchLte, "KeRaiseIrqlToDpcLevel");
  const Irql current = context.irql();
  context.raise_to(DISPATCH_LEVEL);
  return current;
}

}  // extern "C"
