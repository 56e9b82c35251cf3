// Processor numbers and the active-processor set.

#include <bit>

#include "core/machine.hpp"
#include "core/processor.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

extern "C" {

ULONG KeGetCurrentProcessorNumber(void) {
  // A thread that is not a simulated processor numbers itself 0, so per-processor arrays that
  // driver code indexes with the result stay in bounds.
  return wdk::enter().processor_number().value_or(0);
}

ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber) {
  const ULONG number = wdk::enter().processor_number().value_or(0);
  if (ProcNumber != nullptr) {
    ProcNumber->Group = 0;
    ProcNumber->Number = static_cast<UCHAR>(number);
    ProcNumber->Reserved = 0;
  }
  return number;
}

ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors) {
  auto& machine = wdk::enter().machine();
  if (ActiveProcessors != nullptr) *ActiveProcessors = machine.active_processors();
  return machine.processor_count();
}

ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber) {
  auto& machine = wdk::enter().machine();
  return GroupNumber == 0 || GroupNumber == ALL_PROCESSOR_GROUPS ? machine.processor_count() : 0;
}

KAFFINITY KeQueryActiveProcessors(void) {
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, APC_LEVEL, bugcheck::kRuleIrqlKeApcLte1, "KeQueryActiveProcessors");
  return context.machine().active_processors();
}

ULONG KeQueryMaximumProcessorCount(void) {
  return wdk::enter().machine().processor_count();
}

}  // extern "C"
