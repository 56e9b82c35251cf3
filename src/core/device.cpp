#include "core/device.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "core/interrupt_controller.hpp"
#include "core/topology.hpp"

namespace irqsim::core {

namespace {

constexpr std::uint64_t kMaxRegisterBytes = 1 << 20;
constexpr std::size_t kMaxMsiMessages = 32;
constexpr std::size_t kMaxMsiXMessages = 2048;

[[noreturn]] void reject(const DeviceWiring& wiring, std::string_view why) {
  throw std::invalid_argument(fmt::format("irqsim: device '{}': {}", wiring.name, why));
}

// Vector, device IRQL and a target set with at least one existing processor.
void check_interrupt(const DeviceWiring& wiring, std::string_view what, std::uint32_t vector, Irql irql,
                     std::uint16_t group, std::uint64_t& affinity, const Topology& topology) {
  if (vector >= InterruptController::kVectorCount) reject(wiring, fmt::format("{} has vector {:#x}", what, vector));
  if (irql < irql::kDeviceLowest || irql > irql::kDeviceHighest) {
    reject(wiring, fmt::format("{} has IRQL {}, outside the device IRQLs 3..12", what, irql));
  }
  affinity &= topology.active_mask(group);
  if (affinity == 0) reject(wiring, fmt::format("{} targets no processor of group {}", what, group));
}

}  // namespace

DeviceWiring checked_wiring(DeviceWiring wiring, const Topology& topology) {
  for (std::size_t i = 0; i < wiring.lines.size(); ++i) {
    LineWiring& line = wiring.lines[i];
    check_interrupt(wiring, fmt::format("line {}", i), line.vector, line.irql, line.group, line.affinity, topology);
  }
  for (std::size_t i = 0; i < wiring.messages.size(); ++i) {
    MessageWiring& message = wiring.messages[i];
    check_interrupt(wiring, fmt::format("message {}", i), message.vector, message.irql, message.group,
                    message.affinity, topology);
  }
  const std::size_t count = wiring.messages.size();
  switch (wiring.message_kind) {
    case MessageKind::None:
      if (count != 0) reject(wiring, "messages are listed but the device has neither MSI nor MSI-X");
      break;
    case MessageKind::Msi:
      // PCI MSI: a power-of-two block of consecutive vectors sharing one address, so one IRQL
      // and one target set.
      if (count == 0 || count > kMaxMsiMessages || (count & (count - 1)) != 0) {
        reject(wiring, fmt::format("MSI grants 1, 2, 4, 8, 16 or 32 messages, not {}", count));
      }
      for (std::size_t i = 1; i < count; ++i) {
        const MessageWiring& first = wiring.messages[0];
        const MessageWiring& message = wiring.messages[i];
        if (message.vector != first.vector + i || message.irql != first.irql || message.group != first.group ||
            message.affinity != first.affinity) {
          reject(wiring, "MSI messages need consecutive vectors with one IRQL and one target set");
        }
      }
      break;
    case MessageKind::MsiX:
      if (count == 0 || count > kMaxMsiXMessages) {
        reject(wiring, fmt::format("MSI-X grants 1..{} messages, not {}", kMaxMsiXMessages, count));
      }
      break;
  }
  if (wiring.register_bytes > kMaxRegisterBytes) {
    reject(wiring, fmt::format("{:#x} register bytes is more than the {:#x} a device may have",
                               wiring.register_bytes, kMaxRegisterBytes));
  }
  return wiring;
}

Device::Device(InterruptController& controller, DeviceWiring wiring, std::uint64_t register_base)
    : controller_(controller),
      wiring_(std::move(wiring)),
      register_base_(register_base),
      registers_(wiring_.register_bytes, std::uint8_t{0}) {}

const LineWiring& Device::line(std::size_t index) const {
  if (index >= wiring_.lines.size()) {
    throw std::out_of_range(
        fmt::format("irqsim: device '{}' has {} interrupt lines, not line {}", wiring_.name, wiring_.lines.size(),
                    index));
  }
  return wiring_.lines[index];
}

// The device's pin on the line is its wiring entry: one driver of the wired OR per device line.
void Device::assert_line(std::size_t index) { controller_.drive_line(line(index).vector, &line(index), true); }
void Device::deassert_line(std::size_t index) { controller_.drive_line(line(index).vector, &line(index), false); }
void Device::pulse_line(std::size_t index) { controller_.pulse(line(index).vector); }

const MessageWiring& Device::message(std::uint32_t id) const {
  if (id >= wiring_.messages.size()) {
    throw std::out_of_range(fmt::format("irqsim: device '{}' has {} messages, not message {}", wiring_.name,
                                        wiring_.messages.size(), id));
  }
  return wiring_.messages[id];
}

// A message is a write to the processor's interrupt address: an edge, merged with one that has
// not been taken yet (the documented coalescing of identical close messages).
void Device::signal_message(std::uint32_t id) { controller_.pulse(message(id).vector); }

void Device::check_range(std::uint64_t offset, unsigned width) const {
  if ((width != 1 && width != 2 && width != 4 && width != 8) || offset > registers_.size() ||
      width > registers_.size() - offset) {
    throw std::out_of_range(fmt::format("irqsim: a {}-byte register access at offset {:#x} is outside device "
                                        "'{}' ({:#x} register bytes)",
                                        width, offset, wiring_.name, registers_.size()));
  }
}

std::uint64_t Device::stored_value(std::uint64_t offset, unsigned width) const {
  std::lock_guard lock(registers_mutex_);
  check_range(offset, width);
  std::uint64_t value = 0;
  for (unsigned byte = 0; byte < width; ++byte) value |= std::uint64_t{registers_[offset + byte]} << (8 * byte);
  return value;
}

void Device::store_value(std::uint64_t offset, unsigned width, std::uint64_t value) {
  std::lock_guard lock(registers_mutex_);
  check_range(offset, width);
  for (unsigned byte = 0; byte < width; ++byte) {
    registers_[offset + byte] = static_cast<std::uint8_t>(value >> (8 * byte));
  }
}

// Handlers run outside the register lock: they are test code playing the hardware and may
// read or store registers, or drive the device's lines, themselves.
std::uint64_t Device::read_register(std::uint64_t offset, unsigned width) {
  ReadHandler handler;
  {
    std::lock_guard lock(registers_mutex_);
    check_range(offset, width);
    if (auto found = read_handlers_.find(offset); found != read_handlers_.end()) handler = found->second;
  }
  return handler ? handler(offset, width) : stored_value(offset, width);
}

void Device::write_register(std::uint64_t offset, unsigned width, std::uint64_t value) {
  WriteHandler handler;
  {
    std::lock_guard lock(registers_mutex_);
    check_range(offset, width);
    if (auto found = write_handlers_.find(offset); found != write_handlers_.end()) handler = found->second;
  }
  if (handler) {
    handler(offset, width, value);
  } else {
    store_value(offset, width, value);
  }
}

void Device::on_read(std::uint64_t offset, ReadHandler handler) {
  std::lock_guard lock(registers_mutex_);
  check_range(offset, 1);
  read_handlers_[offset] = std::move(handler);
}

void Device::on_write(std::uint64_t offset, WriteHandler handler) {
  std::lock_guard lock(registers_mutex_);
  check_range(offset, 1);
  write_handlers_[offset] = std::move(handler);
}

}  // namespace irqsim::core
