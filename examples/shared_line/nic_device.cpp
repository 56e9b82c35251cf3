#include "nic_device.hpp"

#include <utility>

#include "nic_registers.h"

NicDevice::NicDevice(irqsim::Machine& machine, const irqsim::LineInterruptConfig& line)
    : device_(machine.plug({.name = "nic", .lines = {line}, .register_bytes = NIC_REGISTER_BYTES})),
      status_(device_, NIC_STATUS) {
  device_.on_read(NIC_RX_COUNT, [this](std::uint64_t, unsigned) { return take_rx_count(); });
  device_.store_register(NIC_LINK_STATE, NIC_LINK_UP);
}

// The count goes up before the cause is raised, so an ISR that sees the cause finds the packets.
void NicDevice::receive_packets(std::uint32_t packets) {
  {
    std::lock_guard lock(mutex_);
    unreported_packets_ += packets;
  }
  status_.raise(NIC_STATUS_RX_PACKETS);
}

void NicDevice::change_link(bool up) {
  device_.store_register(NIC_LINK_STATE, up ? NIC_LINK_UP : 0);
  status_.raise(NIC_STATUS_LINK_CHANGE);
}

std::uint64_t NicDevice::take_rx_count() {
  std::lock_guard lock(mutex_);
  return std::exchange(unreported_packets_, 0);
}
