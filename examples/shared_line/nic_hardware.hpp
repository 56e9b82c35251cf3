#pragma once
// The demo's device model (test-side code): network cards wired to one level-triggered line.

#include <irqsim/machine.hpp>

#include <cstdint>
#include <mutex>
#include <vector>

#include "nic_hardware.h"

class NicHardware;

struct SharedLine {
  irqsim::Machine& machine;
  std::uint32_t vector;
  std::mutex mutex;
  std::vector<const NicHardware*> cards;
};

class NicHardware {
 public:
  explicit NicHardware(SharedLine& line);
  // The wire delivered `packets` packets: the card raises its interrupt.
  void receive(unsigned packets);
  // The status register, as the driver reads it.
  unsigned read_and_clear();
  NIC_HARDWARE* registers() { return reinterpret_cast<NIC_HARDWARE*>(this); }

 private:
  SharedLine& line_;
  unsigned unreported_ = 0;
};
