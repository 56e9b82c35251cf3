// IoReportInterruptActive / IoReportInterruptInactive (a soft connect and disconnect that keep
// the registration) and IoGetAffinityInterrupt.

#include "core/interrupt_controller.hpp"
#include "core/machine.hpp"
#include "wdk/connection_contexts.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

void report_state(PIO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS parameters, bool active, std::string_view api) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, parameters, api, "Parameters");
  core::InterruptObject* object =
      &wdk::connected_set(context, parameters->Version, parameters->ConnectionContext.Generic, api, false);
  for (; object != nullptr; object = object->next_in_set) context.machine().controller().set_active(*object, active);
}

}  // namespace

extern "C" {

VOID IoReportInterruptActive(PIO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS Parameters) {
  report_state(Parameters, true, "IoReportInterruptActive");
}

VOID IoReportInterruptInactive(PIO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS Parameters) {
  report_state(Parameters, false, "IoReportInterruptInactive");
}

NTSTATUS IoGetAffinityInterrupt(PKINTERRUPT InterruptObject, PGROUP_AFFINITY GroupAffinity) {
  auto& context = wdk::enter();
  core::InterruptObject* object = nullptr;
  if (GroupAffinity == nullptr || context.machine().interrupt_objects().find(InterruptObject, &object) !=
                                      core::InterruptObjectPool::Lookup::Connected) {
    return STATUS_INVALID_PARAMETER;
  }
  *GroupAffinity = GROUP_AFFINITY{};
  GroupAffinity->Mask = object->affinity;
  GroupAffinity->Group = object->group;
  return STATUS_SUCCESS;
}

}  // extern "C"
