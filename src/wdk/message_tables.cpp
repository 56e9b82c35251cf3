#include "wdk/message_tables.hpp"

namespace irqsim::wdk {

MessageTables::MessageTables(core::Machine&) {}

PIO_INTERRUPT_MESSAGE_INFO MessageTables::make(std::size_t count, core::InterruptObject& first) {
  const std::size_t size = sizeof(IO_INTERRUPT_MESSAGE_INFO) + (count - 1) * sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY);
  auto bytes = std::make_unique<std::byte[]>(size);
  auto* table = reinterpret_cast<PIO_INTERRUPT_MESSAGE_INFO>(bytes.get());
  std::lock_guard lock(mutex_);
  tables_.emplace(table, Table{std::move(bytes), &first});
  return table;
}

MessageTables::Lookup MessageTables::find(const void* table, core::InterruptObject** first) {
  return locate(table, first, false);
}

MessageTables::Lookup MessageTables::take(const void* table, core::InterruptObject** first) {
  return locate(table, first, true);
}

MessageTables::Lookup MessageTables::locate(const void* table, core::InterruptObject** first, bool disconnect) {
  std::lock_guard lock(mutex_);
  auto found = tables_.find(table);
  if (found == tables_.end()) return Lookup::Unknown;
  if (found->second.disconnected) return Lookup::Disconnected;
  found->second.disconnected = disconnect;
  *first = found->second.first;
  return Lookup::Connected;
}

}  // namespace irqsim::wdk
