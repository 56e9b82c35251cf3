// The simulated packet receiver (test-side C++): an irqsim::Device whose registers behave as
// rx_registers.h says. Frames arrive from the wire (the scenario's device timers) into a receive
// ring while the driver's ISR and DPC work on processor threads; the device counts what the
// driver took out of the ring, so a scenario can tell whether every frame sent was passed up
// exactly once.
#pragma once

#include <irqsim/machine.hpp>

#include <cstdint>
#include <memory>
#include <string>

// What the receiver saw, from the hardware's side.
struct RxDeviceCounts {
  std::uint64_t frames_arrived = 0;   // frames the wire delivered
  std::uint64_t frames_released = 0;  // frames the driver took out of the ring (RX_RELEASE)
  std::uint64_t frames_in_ring = 0;   // frames still in the ring, never taken out
  std::uint64_t frames_dropped = 0;   // frames that found the ring full
  std::uint64_t bytes_arrived = 0;
  std::uint64_t bytes_released = 0;
  std::uint64_t empty_releases = 0;  // RX_RELEASE writes with the ring empty: a driver bug
};

// A handle: copies refer to the same receiver. Its state lives as long as the machine's device
// holds its register handlers, so a scenario's receiver may go out of scope before the machine.
class RxDevice {
 public:
  // Plugs a receiver into `machine`, interrupting on `line`.
  RxDevice(irqsim::Machine& machine, const irqsim::LineInterruptConfig& line, std::string name);

  // A frame of `length` bytes (1..65535) arrives from the wire: into the ring, counted in
  // RX_ARRIVED, with RX_STATUS_FRAMES_ARRIVED raised; or dropped if the ring is full.
  void receive_frame(std::uint32_t length);

  [[nodiscard]] RxDeviceCounts counts() const;
  [[nodiscard]] irqsim::Device device() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};
