// The simulated cards. Each keeps a count of packets not yet reported; the shared line is
// asserted while any card has something to report, which is exactly a wired-OR PCI INTx line.

#include "nic_hardware.hpp"

NicHardware::NicHardware(SharedLine& line) : line_(line) {}

void NicHardware::receive(unsigned packets) {
  std::lock_guard lock(line_.mutex);
  unreported_ += packets;
  line_.machine.assert_line(line_.vector);
}

unsigned NicHardware::read_and_clear() {
  std::lock_guard lock(line_.mutex);
  const unsigned packets = unreported_;
  unreported_ = 0;
  bool anyone_pending = false;
  for (const NicHardware* card : line_.cards) anyone_pending |= card->unreported_ != 0;
  if (!anyone_pending) line_.machine.deassert_line(line_.vector);
  return packets;
}

extern "C" ULONG NicReadAndClearStatus(NIC_HARDWARE* Hardware) {
  return reinterpret_cast<NicHardware*>(Hardware)->read_and_clear();
}
