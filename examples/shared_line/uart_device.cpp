#include "uart_device.hpp"

#include "uart_registers.h"

UartDevice::UartDevice(irqsim::Machine& machine, const irqsim::LineInterruptConfig& line)
    : device_(machine.plug({.name = "uart", .lines = {line}, .register_bytes = UART_REGISTER_BYTES})),
      status_(device_, UART_STATUS) {
  device_.on_read(UART_RX_LEVEL, [this](std::uint64_t, unsigned) { return fifo_level(); });
  device_.on_read(UART_RX_DATA, [this](std::uint64_t, unsigned) { return take_byte(); });
}

// The bytes are in the FIFO before the cause is raised, so an ISR that sees it finds them.
void UartDevice::receive(std::span<const std::uint8_t> bytes) {
  std::uint32_t causes = UART_STATUS_RX_AVAILABLE;
  {
    std::lock_guard lock(mutex_);
    for (const std::uint8_t byte : bytes) {
      if (fifo_.size() < UART_RX_FIFO_DEPTH) {
        fifo_.push_back(byte);
      } else {
        ++bytes_lost_;
        causes |= UART_STATUS_RX_OVERRUN;
      }
    }
  }
  status_.raise(causes);
}

std::size_t UartDevice::fifo_space() const {
  std::lock_guard lock(mutex_);
  return UART_RX_FIFO_DEPTH - fifo_.size();
}

std::size_t UartDevice::bytes_lost() const {
  std::lock_guard lock(mutex_);
  return bytes_lost_;
}

std::uint64_t UartDevice::fifo_level() const {
  std::lock_guard lock(mutex_);
  return fifo_.size();
}

// An empty FIFO reads as 0; the driver reads no more bytes than RX_LEVEL announced.
std::uint64_t UartDevice::take_byte() {
  std::lock_guard lock(mutex_);
  if (fifo_.empty()) return 0;
  const std::uint8_t byte = fifo_.front();
  fifo_.pop_front();
  return byte;
}
