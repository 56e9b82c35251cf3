#include "wdk/interrupt_sets.hpp"

#include <atomic>

#include <fmt/format.h>

#include "core/interrupt_controller.hpp"
#include "core/machine.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/kernel_call.hpp"

namespace irqsim::wdk {

bool call_service_routine(core::InterruptObject& object) {
  const auto routine = reinterpret_cast<PKSERVICE_ROUTINE>(const_cast<void*>(object.routine));
  return routine(to_handle(&object), object.context) != FALSE;
}

bool call_message_service_routine(core::InterruptObject& object) {
  const auto routine = reinterpret_cast<PKMESSAGE_SERVICE_ROUTINE>(const_cast<void*>(object.routine));
  return routine(to_handle(&object), object.context, object.message) != FALSE;
}

namespace {

void disconnect_connected(core::Machine& machine, core::ExecutionContext& context, core::InterruptObject* object) {
  while (object != nullptr) {
    core::InterruptObject* next = object->next_in_set;
    machine.controller().disconnect(context, *object);
    machine.interrupt_objects().retire(*object);
    object = next;
  }
}

bool holds_lock_of(const core::ExecutionContext& context, const core::InterruptObject& object) {
  return std::atomic_ref<std::uintptr_t>(*object.lock).load(std::memory_order_relaxed) == context.lock_token();
}

}  // namespace

NTSTATUS connect_set(core::Machine& machine, std::span<const ObjectRequest> requests, bool one_lock,
                     core::InterruptObject** first) {
  *first = nullptr;
  core::InterruptObject* last = nullptr;
  for (const ObjectRequest& request : requests) {
    core::InterruptObject* object = machine.interrupt_objects().allocate();
    NTSTATUS status = STATUS_SUCCESS;
    if (object == nullptr) {
      status = STATUS_INSUFFICIENT_RESOURCES;
    } else {
      object->vector = request.vector;
      object->irql = request.irql;
      object->synchronize_irql = request.synchronize_irql;
      object->mode = request.mode;
      object->shareable = request.shareable;
      object->group = request.group;
      object->affinity = request.affinity;
      object->message = request.message;
      object->next_in_set = nullptr;
      object->active.store(true);
      object->builtin_lock = 0;
      object->lock = request.lock != nullptr            ? request.lock
                     : one_lock && *first != nullptr ? (*first)->lock
                                                     : &object->builtin_lock;
      object->service = request.service;
      object->routine = request.routine;
      object->context = request.context;
      if (machine.controller().connect(*object) != core::InterruptController::ConnectResult::Connected) {
        machine.interrupt_objects().give_back(*object);
        status = STATUS_INVALID_PARAMETER;
      }
    }
    if (status != STATUS_SUCCESS) {
      disconnect_connected(machine, core::current_context(), *first);
      *first = nullptr;
      return status;
    }
    (last != nullptr ? last->next_in_set : *first) = object;
    last = object;
  }
  hand_out(**first, *first);
  return STATUS_SUCCESS;
}

void hand_out(core::InterruptObject& first, const void* handle) {
  for (core::InterruptObject* object = &first; object != nullptr; object = object->next_in_set) {
    object->set_handle = handle;
  }
}

core::InterruptObject& set_of(core::ExecutionContext& context, PKINTERRUPT handle, std::string_view api) {
  core::InterruptObject& object = resolve(context, handle, api);
  if (object.set_handle != &object) {
    bug_check(context, bugcheck::kPageFaultInNonpagedArea, {address(handle), 0, 0, 0},
              fmt::format("{} was passed interrupt object {:#x}, one of a set connected by one call; only what the "
                          "connect returned ({:#x}) stands for the set.",
                          api, address(handle), address(object.set_handle)));
  }
  return object;
}

void disconnect_set(core::ExecutionContext& context, core::InterruptObject& first, std::string_view api) {
  core::Machine& machine = context.machine();
  // Disconnecting waits for the set's ISRs to finish, and an ISR first takes its interrupt lock.
  // A caller holding one (a passive-level ISR, or code inside KeSynchronizeExecution on a
  // passive-level interrupt; at a device IRQL the IRQL rule stops it first) would wait forever.
  for (const core::InterruptObject* object = &first; object != nullptr; object = object->next_in_set) {
    if (!holds_lock_of(context, *object)) continue;
    bug_check(context, bugcheck::kSpinLockAlreadyOwned, {address(object->lock), 0, 0, 0},
              fmt::format("{} was called holding the interrupt lock {:#x} of interrupt object {:#x} (from its ISR, or "
                          "inside KeSynchronizeExecution); it waits for the ISR, which needs that lock first.",
                          api, address(object->lock), address(object)));
  }
  for (core::InterruptObject* object = &first; object != nullptr; object = object->next_in_set) {
    if (!machine.interrupt_objects().begin_disconnect(*object)) {
      bug_check(context, bugcheck::kPageFaultInFreedSpecialPool, {address(&first), 0, 0, 0},
                fmt::format("{} was passed interrupt object {:#x}, which another call is already disconnecting.", api,
                            address(&first)));
    }
  }
  disconnect_connected(machine, context, &first);
}

}  // namespace irqsim::wdk
