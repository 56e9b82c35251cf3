#pragma once
// The IO_INTERRUPT_MESSAGE_INFO tables IoConnectInterruptEx hands out for message-based
// connections, kept per machine so that IoDisconnectInterruptEx can recognise one (and a
// disconnected one) and find the interrupt set behind it. A disconnected table's memory stays
// valid until the machine goes, so a driver reading it late reads stale data, not freed memory.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/interrupt_object.hpp"
#include "wdm.h"

namespace irqsim::core {
class Machine;
}

namespace irqsim::wdk {

class MessageTables {
 public:
  explicit MessageTables(core::Machine& machine);

  // A zeroed table with room for `count` entries, owned here.
  PIO_INTERRUPT_MESSAGE_INFO make(std::size_t count, core::InterruptObject& first);
  enum class Lookup : std::uint8_t { Connected, Disconnected, Unknown };
  // The first object of a connected table's set.
  Lookup find(const void* table, core::InterruptObject** first);
  // The same, and the table counts as disconnected from now on.
  Lookup take(const void* table, core::InterruptObject** first);

 private:
  Lookup locate(const void* table, core::InterruptObject** first, bool disconnect);

  struct Table {
    std::unique_ptr<std::byte[]> bytes;
    core::InterruptObject* first;
    bool disconnected = false;
  };
  std::mutex mutex_;
  std::map<const void*, Table> tables_;
};

}  // namespace irqsim::wdk
