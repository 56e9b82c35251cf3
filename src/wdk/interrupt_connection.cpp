// IoConnectInterrupt and IoDisconnectInterrupt: validate the driver's request, then connect one
// interrupt set (the documented "set" is a single object with an affinity mask here).

#include "core/interrupt_controller.hpp"
#include "core/machine.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/interrupt_sets.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

extern "C" {

NTSTATUS IoConnectInterrupt(PKINTERRUPT* InterruptObject, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                            PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql, KIRQL SynchronizeIrql,
                            KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector, KAFFINITY ProcessorEnableMask,
                            BOOLEAN FloatingSave) {
  UNREFERENCED_PARAMETER(FloatingSave);  // x64 ignores it: the kernel always saves what it must
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, PASSIVE_LEVEL, bugcheck::kRuleIrqlIoPassive2, "IoConnectInterrupt");
  if (InterruptObject == nullptr) return STATUS_INVALID_PARAMETER;
  *InterruptObject = nullptr;

  core::Machine& machine = context.machine();
  const KAFFINITY processors = ProcessorEnableMask & machine.topology().active_mask(0);
  if (processors == 0 || ServiceRoutine == nullptr || Vector >= core::InterruptController::kVectorCount ||
      !wdk::is_device_irql(Irql) || SynchronizeIrql < Irql || SynchronizeIrql > HIGH_LEVEL ||
      (InterruptMode != LevelSensitive && InterruptMode != Latched)) {
    return STATUS_INVALID_PARAMETER;
  }
  const wdk::ObjectRequest request{wdk::call_service_routine,
                                   reinterpret_cast<const void*>(ServiceRoutine),
                                   ServiceContext,
                                   SpinLock,
                                   Vector,
                                   Irql,
                                   SynchronizeIrql,
                                   InterruptMode == Latched ? core::TriggerMode::Edge : core::TriggerMode::Level,
                                   ShareVector != FALSE,
                                   0,
                                   processors,
                                   0};
  core::InterruptObject* object = nullptr;
  const NTSTATUS status = wdk::connect_set(machine, {&request, 1}, false, &object);
  if (NT_SUCCESS(status)) *InterruptObject = wdk::to_handle(object);
  return status;
}

VOID IoDisconnectInterrupt(PKINTERRUPT InterruptObject) {
  constexpr std::string_view api = "IoDisconnectInterrupt";
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, PASSIVE_LEVEL, bugcheck::kRuleIrqlIoPassive4, api);
  wdk::disconnect_set(context, wdk::set_of(context, InterruptObject, api), api);
}

}  // extern "C"
