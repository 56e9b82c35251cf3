#pragma once
/// @file
/// @brief Simulated devices: what test code plugs into a machine to play the hardware a driver
///        talks to — interrupt lines, message-signaled interrupts and memory-mapped registers.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "irqsim/irql.hpp"
#include "irqsim/vector_stats.hpp"

// The WDK structures a device hands to driver code: <wdm.h>'s DEVICE_OBJECT and CM_RESOURCE_LIST,
// by their tags. Declared rather than included, so that the control headers bring none of the WDK
// shims' names into a test, which may include <windows.h> instead, whose names collide with them.
struct _DEVICE_OBJECT;
struct _CM_RESOURCE_LIST;

namespace irqsim {

namespace core {
class Device;
class Machine;
}  // namespace core

/// @brief How an interrupt input signals.
enum class Trigger {
  /// @brief Level-triggered: pending while asserted (line-based PCI INTx).
  Level,
  /// @brief Edge-triggered: one interrupt per edge.
  Latched,
};

/// @brief One interrupt line a device is wired to.
struct LineInterruptConfig {
  /// @brief System vector (0..255) of the line.
  std::uint32_t vector = 0;
  /// @brief Device IRQL (3..12) of the line.
  Irql irql = irql::kDeviceLowest;
  /// @brief Level-triggered (PCI) or latched.
  Trigger trigger = Trigger::Level;
  /// @brief Whether other devices may share the line (ShareDisposition CmResourceShareShared).
  bool shareable = true;
  /// @brief Processor group the line is routed to.
  std::uint16_t group = 0;
  /// @brief Processors of that group the line may interrupt; narrowed to those that exist.
  std::uint64_t affinity = ~std::uint64_t{0};
};

/// @brief One message of a message-signaled device.
struct MessageConfig {
  /// @brief System vector (0..255) the message raises.
  std::uint32_t vector = 0;
  /// @brief Device IRQL (3..12) of the message.
  Irql irql = irql::kDeviceLowest;
  /// @brief Processor group the message targets.
  std::uint16_t group = 0;
  /// @brief Processors of that group the message may interrupt; narrowed to those that exist.
  std::uint64_t affinity = ~std::uint64_t{0};
};

/// @brief Which message-signaled interrupt capability the device uses.
enum class MessageKind {
  /// @brief No messages: line-based interrupts only.
  None,
  /// @brief PCI MSI: 1, 2, 4, 8, 16 or 32 messages on consecutive vectors with one IRQL and
  /// target set, described by one resource descriptor.
  Msi,
  /// @brief MSI-X: up to 2048 messages, each with its own vector, IRQL and targets, one
  /// resource descriptor per message.
  MsiX,
};

/// @brief Everything about a device that test code decides before plugging it in.
struct DeviceConfig {
  /// @brief A name for reports.
  std::string name{};
  /// @brief Line interrupts, in resource-list order.
  std::vector<LineInterruptConfig> lines{};
  /// @brief MSI, MSI-X or none.
  MessageKind message_kind = MessageKind::None;
  /// @brief Messages, indexed by message ID.
  std::vector<MessageConfig> messages{};
  /// @brief Size of the memory-mapped register block (0: the device has none); at most 1 MiB.
  std::uint64_t register_bytes = 0;
};

/// @brief A device plugged into a Machine. A cheap handle: copies refer to the same device,
/// which lives as long as the machine.
class Device {
 public:
  /// @brief Reads a register: gets the offset and the access width in bytes, returns the value.
  using ReadHandler = std::function<std::uint64_t(std::uint64_t offset, unsigned width)>;
  /// @brief Writes a register: gets the offset, the access width in bytes and the value.
  using WriteHandler = std::function<void(std::uint64_t offset, unsigned width, std::uint64_t value)>;

  /// @brief Wraps the engine's device (for the library's own layers).
  Device(core::Machine& machine, core::Device& device) : machine_(&machine), device_(&device) {}

  /// @brief The name given in its configuration.
  [[nodiscard]] const std::string& name() const;

  /// @brief Drives interrupt line `line` (index into DeviceConfig::lines) active. Devices
  /// sharing a vector are wired-OR: the line stays asserted while any of them drives it.
  void assert_line(std::size_t line = 0);
  /// @brief Stops this device driving interrupt line `line`; the line drops when no other
  /// device (and not the test, Machine::assert_line) still drives it.
  void deassert_line(std::size_t line = 0);
  /// @brief Signals one edge on interrupt line `line`.
  void pulse_line(std::size_t line = 0);
  /// @brief Sends message `message_id`. A message not yet taken merges with a new identical one.
  void signal_message(std::uint32_t message_id);
  /// @brief The counters of message `message_id`: those of the vector it raises (a message is
  /// a write of its vector to the processor's interrupt address), so they count the message
  /// alone when no other source shares that vector.
  [[nodiscard]] VectorStats message_stats(std::uint32_t message_id) const;

  /// @brief Physical address of the register block, as in its memory resource descriptor.
  [[nodiscard]] std::uint64_t register_address() const;
  /// @brief From now on, a driver's read of the register at `offset` returns what `handler` says.
  /// An empty handler makes the register plain memory again.
  void on_read(std::uint64_t offset, ReadHandler handler);
  /// @brief From now on, a driver's write to the register at `offset` calls `handler` instead of
  /// storing the value. An empty handler makes the register plain memory again.
  void on_write(std::uint64_t offset, WriteHandler handler);
  /// @brief The value the register memory holds, bypassing handlers (width 1, 2, 4 or 8).
  [[nodiscard]] std::uint64_t stored_register(std::uint64_t offset, unsigned width = 4) const;
  /// @brief Sets the register memory, bypassing handlers: what the hardware itself does.
  void store_register(std::uint64_t offset, std::uint64_t value, unsigned width = 4);

  /// @brief The physical device object the bus driver created for the device: what a driver
  /// passes to IoConnectInterruptEx as `PhysicalDeviceObject`.
  [[nodiscard]] _DEVICE_OBJECT* pdo() const;
  /// @brief The raw resource list IRP_MN_START_DEVICE carries (`AllocatedResources`): memory
  /// first, then line interrupts, then messages, with bus-relative values.
  [[nodiscard]] _CM_RESOURCE_LIST* raw_resources() const;
  /// @brief The translated resource list (`AllocatedResourcesTranslated`), in the same order,
  /// with system values: DIRQLs, system vectors, physical addresses.
  [[nodiscard]] _CM_RESOURCE_LIST* translated_resources() const;

  /// @brief The engine's device (for the library's own layers).
  [[nodiscard]] core::Device& engine() const { return *device_; }

 private:
  core::Machine* machine_;
  core::Device* device_;
};

}  // namespace irqsim
