#include "wdk/connection_contexts.hpp"

#include <fmt/format.h>

#include "core/machine.hpp"
#include "wdk/interrupt_handles.hpp"
#include "wdk/interrupt_sets.hpp"
#include "wdk/kernel_call.hpp"
#include "wdk/message_tables.hpp"

namespace irqsim::wdk {

namespace {

core::InterruptObject& message_set(core::ExecutionContext& context, ULONG version, PVOID table, std::string_view api,
                                   bool disconnecting) {
  MessageTables& tables = context.machine().extension<MessageTables>();
  core::InterruptObject* first = nullptr;
  switch (disconnecting ? tables.take(table, &first) : tables.find(table, &first)) {
    case MessageTables::Lookup::Connected:
      return *first;
    case MessageTables::Lookup::Disconnected:
      bug_check(context, bugcheck::kPageFaultInFreedSpecialPool, {address(table), 0, 0, 0},
                fmt::format("{} was passed message table {:#x}, which was already disconnected.", api, address(table)));
    case MessageTables::Lookup::Unknown:
      break;
  }
  core::InterruptObject* object = nullptr;
  const bool is_object =
      context.machine().interrupt_objects().find(table, &object) != core::InterruptObjectPool::Lookup::Unknown;
  bug_check(context, bugcheck::kPageFaultInNonpagedArea, {address(table), 0, 0, 0},
            is_object ? fmt::format("{} was given Version {} with interrupt object {:#x}; a message-based connection "
                                    "that fell back to its line ISR returns CONNECT_LINE_BASED, and the Version "
                                    "connect returned must be passed.",
                                    api, version, address(table))
                      : fmt::format("{} was given Version {} with {:#x}, which is not a message table "
                                    "IoConnectInterruptEx returned.",
                                    api, version, address(table)));
}

}  // namespace

core::InterruptObject& connected_set(core::ExecutionContext& context, ULONG version, PVOID connection_context,
                                     std::string_view api, bool disconnecting) {
  switch (version) {
    case CONNECT_FULLY_SPECIFIED:
    case CONNECT_FULLY_SPECIFIED_GROUP:
    case CONNECT_LINE_BASED:
      return set_of(context, static_cast<PKINTERRUPT>(connection_context), api);
    case CONNECT_MESSAGE_BASED:
    case CONNECT_MESSAGE_BASED_PASSIVE:
      return message_set(context, version, connection_context, api, disconnecting);
    default:
      bug_check(context, bugcheck::kPageFaultInNonpagedArea, {address(connection_context), 0, 0, 0},
                fmt::format("{} was given Version {}, which no IoConnectInterruptEx call returns.", api, version));
  }
}

}  // namespace irqsim::wdk
