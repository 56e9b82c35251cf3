// IoConnectInterruptEx in all its versions and IoDisconnectInterruptEx: find the device's
// interrupts from its PDO, validate with the documented status codes, connect an interrupt set.

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/device.hpp"
#include "core/interrupt_controller.hpp"
#include "core/machine.hpp"
#include "wdk/connection_contexts.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/interrupt_sets.hpp"
#include "wdk/kernel_call.hpp"
#include "wdk/message_tables.hpp"
#include "wdk/pnp_devices.hpp"

using namespace irqsim;

namespace {

// The local APIC's MSI address window: where a message write lands.
constexpr LONGLONG kMessageAddress = 0xFEE00000;

core::Device* device_of(core::ExecutionContext& context, PDEVICE_OBJECT pdo) {
  return pdo == nullptr ? nullptr : context.machine().extension<wdk::PnpDevices>().device_of(pdo);
}

bool has_vector(const core::Device& device, ULONG vector) {
  const core::DeviceWiring& wiring = device.wiring();
  return std::any_of(wiring.lines.begin(), wiring.lines.end(), [&](const auto& line) { return line.vector == vector; }) ||
         std::any_of(wiring.messages.begin(), wiring.messages.end(),
                     [&](const auto& message) { return message.vector == vector; });
}

core::TriggerMode trigger_of(KINTERRUPT_MODE mode) {
  return mode == Latched ? core::TriggerMode::Edge : core::TriggerMode::Level;
}

NTSTATUS connect_fully_specified(core::ExecutionContext& context, IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS& p,
                                 bool honour_group) {
  if (p.InterruptObject == nullptr) return STATUS_INVALID_PARAMETER;
  *p.InterruptObject = nullptr;
  core::Device* device = device_of(context, p.PhysicalDeviceObject);
  if (device == nullptr || p.ServiceRoutine == nullptr) return STATUS_INVALID_PARAMETER;
  const USHORT group = honour_group ? p.Group : 0;
  const KAFFINITY processors = p.ProcessorEnableMask & context.machine().topology().active_mask(group);
  if (processors == 0) return STATUS_INVALID_PARAMETER_10;
  if (!has_vector(*device, p.Vector)) return STATUS_NOT_FOUND;
  // Irql == SynchronizeIrql == PASSIVE_LEVEL asks for a passive-level ISR, which has no spin lock.
  const bool passive = p.Irql == PASSIVE_LEVEL && p.SynchronizeIrql == PASSIVE_LEVEL;
  if (passive && p.SpinLock != nullptr) return STATUS_INVALID_PARAMETER;
  if ((!passive && (!wdk::is_device_irql(p.Irql) || p.SynchronizeIrql < p.Irql || p.SynchronizeIrql > HIGH_LEVEL)) ||
      (p.InterruptMode != LevelSensitive && p.InterruptMode != Latched)) {
    return STATUS_INVALID_PARAMETER;
  }
  const wdk::ObjectRequest request{wdk::call_service_routine,
                                   reinterpret_cast<const void*>(p.ServiceRoutine),
                                   p.ServiceContext,
                                   p.SpinLock,
                                   p.Vector,
                                   p.Irql,
                                   p.SynchronizeIrql,
                                   trigger_of(p.InterruptMode),
                                   p.ShareVector != FALSE,
                                   group,
                                   processors,
                                   0};
  core::InterruptObject* first = nullptr;
  const NTSTATUS status = wdk::connect_set(context.machine(), {&request, 1}, false, &first);
  if (NT_SUCCESS(status)) *p.InterruptObject = wdk::to_handle(first);
  return status;
}

// One ISR for all of the device's line interrupts (a device granted a single message has that
// message as its one interrupt), under one lock at the highest of their IRQLs.
NTSTATUS connect_line_based(core::ExecutionContext& context, PDEVICE_OBJECT pdo, PKINTERRUPT* out,
                            PKSERVICE_ROUTINE routine, PVOID service_context, PKSPIN_LOCK lock,
                            KIRQL minimum_synchronize_irql) {
  if (out == nullptr) return STATUS_INVALID_PARAMETER;
  *out = nullptr;
  core::Device* device = device_of(context, pdo);
  if (device == nullptr || routine == nullptr || minimum_synchronize_irql > HIGH_LEVEL) return STATUS_INVALID_PARAMETER;
  const core::DeviceWiring& wiring = device->wiring();
  if (wiring.messages.size() > 1) return STATUS_INVALID_DEVICE_REQUEST;
  std::vector<core::LineWiring> interrupts = wiring.lines;
  if (interrupts.empty() && wiring.messages.size() == 1) {
    const core::MessageWiring& message = wiring.messages.front();
    interrupts.push_back({message.vector, message.irql, core::TriggerMode::Edge, false, message.group, message.affinity});
  }
  if (interrupts.empty()) return STATUS_NOT_FOUND;

  Irql synchronize = minimum_synchronize_irql;
  for (const core::LineWiring& line : interrupts) synchronize = std::max(synchronize, line.irql);
  std::vector<wdk::ObjectRequest> requests;
  for (const core::LineWiring& line : interrupts) {
    requests.push_back({wdk::call_service_routine, reinterpret_cast<const void*>(routine), service_context, lock,
                        line.vector, line.irql, synchronize, line.mode, line.shareable, line.group, line.affinity, 0});
  }
  core::InterruptObject* first = nullptr;
  const NTSTATUS status = wdk::connect_set(context.machine(), requests, true, &first);
  if (NT_SUCCESS(status)) *out = wdk::to_handle(first);
  return status;
}

NTSTATUS connect_message_based(core::ExecutionContext& context, IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS& p,
                               bool passive, ULONG& version) {
  if (p.ConnectionContext.Generic == nullptr) return STATUS_INVALID_PARAMETER;
  *p.ConnectionContext.Generic = nullptr;
  core::Device* device = device_of(context, p.PhysicalDeviceObject);
  if (device == nullptr || p.SynchronizeIrql > HIGH_LEVEL) return STATUS_INVALID_PARAMETER;
  if (passive && p.SpinLock != nullptr) return STATUS_INVALID_PARAMETER;
  const std::vector<core::MessageWiring>& messages = device->wiring().messages;
  if (messages.empty()) {
    // No messages: the fallback ISR is connected like CONNECT_LINE_BASED, and Version says so.
    if (p.FallBackServiceRoutine == nullptr) return STATUS_NOT_FOUND;
    const NTSTATUS status =
        connect_line_based(context, p.PhysicalDeviceObject, p.ConnectionContext.InterruptObject,
                           p.FallBackServiceRoutine, p.ServiceContext, p.SpinLock, p.SynchronizeIrql);
    if (NT_SUCCESS(status)) version = CONNECT_LINE_BASED;
    return status;
  }
  if (p.MessageServiceRoutine == nullptr) return STATUS_INVALID_PARAMETER;

  // A caller lock or SynchronizeIrql unifies the messages at one IRQL (the highest); without
  // either each message runs at its own IRQL under its own lock.
  Irql highest = 0;
  for (const core::MessageWiring& message : messages) highest = std::max(highest, message.irql);
  const Irql unified = passive ? PASSIVE_LEVEL
                       : p.SpinLock != nullptr || p.SynchronizeIrql != 0 ? std::max<Irql>(p.SynchronizeIrql, highest)
                                                                          : Irql{0};
  std::vector<wdk::ObjectRequest> requests;
  for (std::size_t id = 0; id < messages.size(); ++id) {
    const core::MessageWiring& message = messages[id];
    const Irql irql = passive ? PASSIVE_LEVEL : message.irql;
    requests.push_back({wdk::call_message_service_routine, reinterpret_cast<const void*>(p.MessageServiceRoutine),
                        p.ServiceContext, p.SpinLock, message.vector, irql, unified != 0 ? unified : irql,
                        core::TriggerMode::Edge, false, message.group, message.affinity, static_cast<std::uint32_t>(id)});
  }
  core::InterruptObject* first = nullptr;
  const NTSTATUS status = wdk::connect_set(context.machine(), requests, false, &first);
  if (!NT_SUCCESS(status)) return status;

  PIO_INTERRUPT_MESSAGE_INFO table = context.machine().extension<wdk::MessageTables>().make(messages.size(), *first);
  wdk::hand_out(*first, table);
  table->UnifiedIrql = unified;
  table->MessageCount = static_cast<ULONG>(messages.size());
  core::InterruptObject* object = first;
  for (std::size_t id = 0; id < messages.size(); ++id, object = object->next_in_set) {
    IO_INTERRUPT_MESSAGE_INFO_ENTRY& entry = table->MessageInfo[id];
    entry.MessageAddress.QuadPart = kMessageAddress;
    entry.TargetProcessorSet = object->affinity;
    entry.InterruptObject = wdk::to_handle(object);
    entry.MessageData = object->vector;
    entry.Vector = object->vector;
    entry.Irql = object->irql;
    entry.Mode = Latched;
    entry.Polarity = InterruptRisingEdge;
  }
  *p.ConnectionContext.InterruptMessageTable = table;
  return STATUS_SUCCESS;
}

}  // namespace

extern "C" {

NTSTATUS IoConnectInterruptEx(PIO_CONNECT_INTERRUPT_PARAMETERS Parameters) {
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, PASSIVE_LEVEL, bugcheck::kRuleIrqlIoPassive2, "IoConnectInterruptEx");
  if (Parameters == nullptr) return STATUS_INVALID_PARAMETER;
  switch (Parameters->Version) {
    case CONNECT_FULLY_SPECIFIED:
      return connect_fully_specified(context, Parameters->FullySpecified, false);
    case CONNECT_FULLY_SPECIFIED_GROUP:
      return connect_fully_specified(context, Parameters->FullySpecified, true);
    case CONNECT_LINE_BASED: {
      IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS& p = Parameters->LineBased;
      return connect_line_based(context, p.PhysicalDeviceObject, p.InterruptObject, p.ServiceRoutine,
                                p.ServiceContext, p.SpinLock, p.SynchronizeIrql);
    }
    case CONNECT_MESSAGE_BASED:
      return connect_message_based(context, Parameters->MessageBased, false, Parameters->Version);
    case CONNECT_MESSAGE_BASED_PASSIVE:
      return connect_message_based(context, Parameters->MessageBased, true, Parameters->Version);
    default:
      // The documented way to tell a caller what this system supports.
      Parameters->Version = CONNECT_CURRENT_VERSION;
      return STATUS_INVALID_PARAMETER_1;
  }
}

VOID IoDisconnectInterruptEx(PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters) {
  constexpr std::string_view api = "IoDisconnectInterruptEx";
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, PASSIVE_LEVEL, bugcheck::kRuleIrqlIoPassive4, api);
  wdk::require_pointer(context, Parameters, api, "Parameters");
  wdk::disconnect_set(
      context, wdk::connected_set(context, Parameters->Version, Parameters->ConnectionContext.Generic, api, true), api);
}

}  // extern "C"
