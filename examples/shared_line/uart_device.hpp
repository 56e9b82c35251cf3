// The simulated serial port (test-side C++): an irqsim::Device whose registers behave as
// uart_registers.h says. Bytes arrive from the test thread into a 16-byte receive FIFO while
// the driver's ISR drains it on processor threads.
#pragma once

#include <irqsim/machine.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>

#include "interrupt_status.hpp"

class UartDevice {
 public:
  // Plugs the port into `machine`, interrupting on `line`. Its registers call back into this
  // object: keep it alive while a driver uses the port.
  UartDevice(irqsim::Machine& machine, const irqsim::LineInterruptConfig& line);

  // The serial line delivered `bytes`: each goes into the FIFO, or is lost to an overrun if
  // the FIFO is full.
  void receive(std::span<const std::uint8_t> bytes);
  // Room left in the FIFO: what hardware flow control tells the sender.
  [[nodiscard]] std::size_t fifo_space() const;
  // Bytes lost to overruns.
  [[nodiscard]] std::size_t bytes_lost() const;

  [[nodiscard]] irqsim::Device& device() { return device_; }
  [[nodiscard]] const InterruptStatusRegister& status() const { return status_; }

 private:
  std::uint64_t fifo_level() const;
  std::uint64_t take_byte();

  irqsim::Device device_;
  InterruptStatusRegister status_;
  mutable std::mutex mutex_;
  std::deque<std::uint8_t> fifo_;
  std::size_t bytes_lost_ = 0;
};
