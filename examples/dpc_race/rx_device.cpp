#include "rx_device.hpp"

#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "rx_registers.h"

// Everything behind one mutex: a frame's arrival, the driver's acknowledgement and the line they
// both drive must not interleave, or the line could drop while a cause is still set. Only the
// device's own line is driven under it, never a WDK routine (a preemption point, where another
// processor's ISR could come in and wait for this mutex).
struct RxDevice::State {
  explicit State(irqsim::Device plugged) : device(plugged) {}

  // The line follows the status register. Called with the mutex held.
  void update_line() {
    if (status != 0) {
      device.assert_line();
    } else {
      device.deassert_line();
    }
  }

  irqsim::Device device;
  mutable std::mutex mutex;
  std::uint32_t status = 0;
  std::uint32_t arrived_unread = 0;  // RX_ARRIVED
  std::deque<std::uint32_t> ring;    // frame lengths, oldest first
  RxDeviceCounts counts;
};

RxDevice::RxDevice(irqsim::Machine& machine, const irqsim::LineInterruptConfig& line, std::string name)
    : state_(std::make_shared<State>(
          machine.plug({.name = std::move(name), .lines = {line}, .register_bytes = RX_REGISTER_BYTES}))) {
  // The handlers share the state, not this handle: they outlive it on the machine's device.
  irqsim::Device device = state_->device;
  device.on_read(RX_STATUS, [state = state_](std::uint64_t, unsigned) -> std::uint64_t {
    std::lock_guard lock(state->mutex);
    return state->status;
  });
  device.on_write(RX_STATUS, [state = state_](std::uint64_t, unsigned, std::uint64_t value) {
    std::lock_guard lock(state->mutex);
    state->status &= ~static_cast<std::uint32_t>(value);
    state->update_line();
  });
  device.on_read(RX_ARRIVED, [state = state_](std::uint64_t, unsigned) -> std::uint64_t {
    std::lock_guard lock(state->mutex);
    return std::exchange(state->arrived_unread, 0);
  });
  device.on_read(RX_HEAD_LENGTH, [state = state_](std::uint64_t, unsigned) -> std::uint64_t {
    std::lock_guard lock(state->mutex);
    return state->ring.empty() ? 0 : state->ring.front();
  });
  device.on_write(RX_RELEASE, [state = state_](std::uint64_t, unsigned, std::uint64_t) {
    std::lock_guard lock(state->mutex);
    if (state->ring.empty()) {
      ++state->counts.empty_releases;
      return;
    }
    ++state->counts.frames_released;
    state->counts.bytes_released += state->ring.front();
    state->ring.pop_front();
  });
}

void RxDevice::receive_frame(std::uint32_t length) {
  if (length == 0 || length > 0xFFFF) throw std::invalid_argument("a frame is 1 to 65535 bytes long");
  std::lock_guard lock(state_->mutex);
  ++state_->counts.frames_arrived;
  state_->counts.bytes_arrived += length;
  if (state_->ring.size() == RX_RING_SLOTS) {
    ++state_->counts.frames_dropped;
    return;
  }
  // The frame is in the ring before it is announced, so an ISR that sees the cause finds it.
  state_->ring.push_back(length);
  ++state_->arrived_unread;
  state_->status |= RX_STATUS_FRAMES_ARRIVED;
  state_->update_line();
}

RxDeviceCounts RxDevice::counts() const {
  std::lock_guard lock(state_->mutex);
  RxDeviceCounts counts = state_->counts;
  counts.frames_in_ring = state_->ring.size();
  return counts;
}

irqsim::Device RxDevice::device() const { return state_->device; }
