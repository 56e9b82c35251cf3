// The simulated network card (test-side C++): an irqsim::Device whose registers behave as
// nic_registers.h says. Packets and link changes arrive from the test thread while the
// driver's ISR reads and acknowledges on processor threads.
#pragma once

#include <irqsim/machine.hpp>

#include <cstdint>
#include <mutex>

#include "interrupt_status.hpp"

class NicDevice {
 public:
  // Plugs the card into `machine`, interrupting on `line`, with its link up. Its registers call
  // back into this object: keep it alive while a driver uses the card.
  NicDevice(irqsim::Machine& machine, const irqsim::LineInterruptConfig& line);

  // The wire delivered `packets` packets.
  void receive_packets(std::uint32_t packets);
  // The link went up or down.
  void change_link(bool up);

  [[nodiscard]] irqsim::Device& device() { return device_; }
  [[nodiscard]] const InterruptStatusRegister& status() const { return status_; }

 private:
  std::uint64_t take_rx_count();

  irqsim::Device device_;
  InterruptStatusRegister status_;
  std::mutex mutex_;
  std::uint32_t unreported_packets_ = 0;
};
