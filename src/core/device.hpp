#pragma once
// A simulated device as the hardware sees it: the interrupt lines and messages it is wired to,
// and a block of memory-mapped registers whose reads and writes test code can define. Nothing
// here knows about WDK structures; the layer above builds the PDO and resource lists from it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/interrupt_object.hpp"
#include "irqsim/irql.hpp"

namespace irqsim::core {

class InterruptController;
class Topology;

struct LineWiring {
  std::uint32_t vector = 0;
  Irql irql = 0;
  TriggerMode mode = TriggerMode::Level;
  bool shareable = true;
  std::uint16_t group = 0;
  std::uint64_t affinity = 0;
};

struct MessageWiring {
  std::uint32_t vector = 0;
  Irql irql = 0;
  std::uint16_t group = 0;
  std::uint64_t affinity = 0;
};

enum class MessageKind : std::uint8_t { None, Msi, MsiX };

struct DeviceWiring {
  std::string name;
  std::vector<LineWiring> lines;
  MessageKind message_kind = MessageKind::None;
  std::vector<MessageWiring> messages;
  std::uint64_t register_bytes = 0;
};

// Throws std::invalid_argument for wiring no PCI device could have; narrows each affinity to
// the processors that exist.
DeviceWiring checked_wiring(DeviceWiring wiring, const Topology& topology);

class Device {
 public:
  using ReadHandler = std::function<std::uint64_t(std::uint64_t offset, unsigned width)>;
  using WriteHandler = std::function<void(std::uint64_t offset, unsigned width, std::uint64_t value)>;

  Device(InterruptController& controller, DeviceWiring wiring, std::uint64_t register_base);

  [[nodiscard]] const DeviceWiring& wiring() const noexcept { return wiring_; }
  // Physical address of register offset 0.
  [[nodiscard]] std::uint64_t register_base() const noexcept { return register_base_; }

  void assert_line(std::size_t line);
  void deassert_line(std::size_t line);
  void pulse_line(std::size_t line);
  void signal_message(std::uint32_t message);
  // Throws std::out_of_range for a message the device does not have.
  [[nodiscard]] const MessageWiring& message(std::uint32_t id) const;

  // Register accesses. `width` is 1, 2, 4 or 8 bytes; the range must lie in the block.
  [[nodiscard]] std::uint64_t read_register(std::uint64_t offset, unsigned width);
  void write_register(std::uint64_t offset, unsigned width, std::uint64_t value);
  void on_read(std::uint64_t offset, ReadHandler handler);
  void on_write(std::uint64_t offset, WriteHandler handler);
  // The register memory itself, bypassing handlers: what the hardware holds.
  [[nodiscard]] std::uint64_t stored_value(std::uint64_t offset, unsigned width) const;
  void store_value(std::uint64_t offset, unsigned width, std::uint64_t value);

 private:
  const LineWiring& line(std::size_t index) const;
  void check_range(std::uint64_t offset, unsigned width) const;

  InterruptController& controller_;
  DeviceWiring wiring_;
  std::uint64_t register_base_;
  mutable std::mutex registers_mutex_;
  std::vector<std::uint8_t> registers_;
  std::map<std::uint64_t, ReadHandler> read_handlers_;
  std::map<std::uint64_t, WriteHandler> write_handlers_;
};

}  // namespace irqsim::core
