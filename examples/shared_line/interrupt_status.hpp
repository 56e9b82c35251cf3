// The interrupt status register both simulated devices have (test-side C++). The hardware
// raises causes; the driver acknowledges them by writing them back (write-1-to-clear); the
// device drives its interrupt line while any cause is pending. On a shared line each device
// drives only its own output: the wire is asserted while any device on it asserts.
#pragma once

#include <irqsim/device.hpp>

#include <cstdint>
#include <mutex>
#include <vector>

class InterruptStatusRegister {
 public:
  // Becomes the register at `offset` of `device`. It answers the driver's accesses from then
  // on, so it must outlive the driver's use of the device.
  InterruptStatusRegister(irqsim::Device device, std::uint64_t offset);
  InterruptStatusRegister(const InterruptStatusRegister&) = delete;
  InterruptStatusRegister& operator=(const InterruptStatusRegister&) = delete;

  // The hardware sets `causes` and asserts its line.
  void raise(std::uint32_t causes);

  // Causes not acknowledged yet.
  [[nodiscard]] std::uint32_t pending() const;
  // Every value the driver wrote, oldest first.
  [[nodiscard]] std::vector<std::uint32_t> acknowledgements() const;
  // How often the driver read it: each read is an ISR asking "did you interrupt?".
  [[nodiscard]] unsigned reads() const;

 private:
  std::uint32_t read();
  void acknowledge(std::uint32_t causes);

  irqsim::Device device_;
  // Causes are raised on the test thread and acknowledged by ISRs on processor threads. The
  // line is driven under the lock too, so it always matches the causes left.
  mutable std::mutex mutex_;
  std::uint32_t pending_ = 0;
  std::vector<std::uint32_t> acknowledgements_;
  unsigned reads_ = 0;
};
