#pragma once
// An interrupt set: the interrupt objects one connect call creates (one per processor set in
// IoConnectInterrupt, one per line or message in IoConnectInterruptEx), connected all or
// nothing and disconnected together. The routines above validate the driver's parameters
// with their own status codes; this is what they share.

#include <cstdint>
#include <span>
#include <string_view>

#include "core/execution_context.hpp"
#include "core/interrupt_object.hpp"
#include "wdm.h"

namespace irqsim::core {
class Machine;
}

namespace irqsim::wdk {

// One interrupt object as a validated request: affinity already narrowed to existing
// processors of `group` and nonzero.
struct ObjectRequest {
  core::InterruptObject::ServiceRoutine service;
  const void* routine;
  void* context;
  PKSPIN_LOCK lock;  // nullptr: the object's own
  std::uint32_t vector;
  Irql irql;
  Irql synchronize_irql;
  core::TriggerMode mode;
  bool shareable;
  std::uint16_t group;
  std::uint64_t affinity;
  std::uint32_t message;
};

// Thunks from the core to the driver's routines.
bool call_service_routine(core::InterruptObject& object);          // KSERVICE_ROUTINE
bool call_message_service_routine(core::InterruptObject& object);  // KMESSAGE_SERVICE_ROUTINE

[[nodiscard]] inline bool is_device_irql(Irql level) {
  return level >= irql::kDeviceLowest && level <= irql::kDeviceHighest;
}

// Connects the requests as one set, linked through next_in_set; on failure nothing stays
// connected. With `one_lock` every object without a caller lock uses the first object's own
// lock. Returns STATUS_SUCCESS, STATUS_INSUFFICIENT_RESOURCES (no interrupt object left) or
// STATUS_INVALID_PARAMETER (a sharing, mode or IRQL conflict on a vector).
NTSTATUS connect_set(core::Machine& machine, std::span<const ObjectRequest> requests, bool one_lock,
                     core::InterruptObject** first);

// Records `handle` (the first object, or a message table) as what the driver got for the set.
void hand_out(core::InterruptObject& first, const void* handle);

// The set an interrupt-object handle from a connect call stands for: bug check 0x50 for one
// of the other objects of a set (a message's object, a second line's), 0x50 / 0xCC as resolve().
core::InterruptObject& set_of(core::ExecutionContext& context, PKINTERRUPT handle, std::string_view api);

// Disconnects the set that `first` starts; when it returns none of its routines is running
// anywhere or will run again. Bug check 0xCC if another call is already disconnecting it, 0xF
// if the caller holds one of its interrupt locks (the wait for its ISRs would never end).
void disconnect_set(core::ExecutionContext& context, core::InterruptObject& first, std::string_view api);

}  // namespace irqsim::wdk
