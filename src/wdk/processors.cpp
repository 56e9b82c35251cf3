// Processor numbers and the active-processor set.

#include "core/machine.hpp"
#include "core/processor.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

// Group 0 and index 0 for a thread that is not a simulated processor.
PROCESSOR_NUMBER current_processor_number(const core::ExecutionContext& context) {
  PROCESSOR_NUMBER number{};
  if (const core::Processor* processor = context.processor()) {
    number.Group = processor->group();
    number.Number = static_cast<UCHAR>(processor->number_in_group());
  }
  return number;
}

}  // namespace

extern "C" {

ULONG KeGetCurrentProcessorNumber(void) {
  // Documented compatibility rule: the group-relative number in group 0, and in other groups
  // some number below group 0's processor count. A thread that is not a simulated processor
  // numbers itself 0, so per-processor arrays indexed with the result stay in bounds.
  auto& context = wdk::enter();
  const PROCESSOR_NUMBER number = current_processor_number(context);
  return number.Number % context.machine().topology().group_size(0);
}

ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber) {
  auto& context = wdk::enter();
  if (ProcNumber != nullptr) *ProcNumber = current_processor_number(context);
  return context.processor_number().value_or(0);
}

ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors) {
  const core::Topology& topology = wdk::enter().machine().topology();
  if (ActiveProcessors != nullptr) *ActiveProcessors = topology.active_mask(0);
  return topology.group_size(0);
}

ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber) {
  const core::Topology& topology = wdk::enter().machine().topology();
  return GroupNumber == ALL_PROCESSOR_GROUPS ? topology.processor_count() : topology.group_size(GroupNumber);
}

KAFFINITY KeQueryActiveProcessors(void) {
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, APC_LEVEL, bugcheck::kRuleIrqlKeApcLte1, "KeQueryActiveProcessors");
  return context.machine().topology().active_mask(0);
}

ULONG KeQueryMaximumProcessorCount(void) { return wdk::enter().machine().topology().group_size(0); }

}  // extern "C"
