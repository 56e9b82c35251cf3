// IoConnectInterrupt and IoDisconnectInterrupt: validate the driver's request, then connect one
// core interrupt object (the documented "set" is a single object with an affinity mask here).

#include <fmt/format.h>

#include "core/interrupt_controller.hpp"
#include "core/machine.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

bool call_service_routine(core::InterruptObject& object) {
  const auto routine = reinterpret_cast<PKSERVICE_ROUTINE>(const_cast<void*>(object.routine));
  return routine(wdk::to_handle(&object), object.context) != FALSE;
}

bool is_device_irql(KIRQL irql) { return irql >= irql::kDeviceLowest && irql <= irql::kDeviceHighest; }

}  // namespace

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
      !is_device_irql(Irql) || SynchronizeIrql < Irql || SynchronizeIrql > HIGH_LEVEL ||
      (InterruptMode != LevelSensitive && InterruptMode != Latched)) {
    return STATUS_INVALID_PARAMETER;
  }

  core::InterruptObject* object = machine.interrupt_objects().allocate();
  if (object == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  object->vector = Vector;
  object->irql = Irql;
  object->synchronize_irql = SynchronizeIrql;
  object->mode = InterruptMode == Latched ? core::TriggerMode::Edge : core::TriggerMode::Level;
  object->shareable = ShareVector != FALSE;
  object->group = 0;
  object->affinity = processors;
  object->message = 0;
  object->builtin_lock = 0;
  object->lock = SpinLock != nullptr ? SpinLock : &object->builtin_lock;
  object->service = call_service_routine;
  object->routine = reinterpret_cast<const void*>(ServiceRoutine);
  object->context = ServiceContext;

  if (machine.controller().connect(*object) != core::InterruptController::ConnectResult::Connected) {
    machine.interrupt_objects().give_back(*object);
    return STATUS_INVALID_PARAMETER;
  }
  *InterruptObject = wdk::to_handle(object);
  return STATUS_SUCCESS;
}

VOID IoDisconnectInterrupt(PKINTERRUPT InterruptObject) {
  constexpr std::string_view api = "IoDisconnectInterrupt";
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, PASSIVE_LEVEL, bugcheck::kRuleIrqlIoPassive4, api);
  core::InterruptObject& object = wdk::resolve(context, InterruptObject, api);
  core::Machine& machine = context.machine();
  if (!machine.interrupt_objects().begin_disconnect(object)) {
    wdk::bug_check(context, bugcheck::kPageFaultInFreedSpecialPool, {wdk::address(InterruptObject), 0, 0, 0},
                   fmt::format("IoDisconnectInterrupt was passed interrupt object {:#x}, which another call is "
                               "already disconnecting.",
                               wdk::address(InterruptObject)));
  }
  machine.controller().disconnect(context, object);
  machine.interrupt_objects().retire(object);
}

}  // extern "C"
