// The demo's device model (test-side code): an audio card whose wave engine and MIDI input share
// one level-triggered line. The line is asserted while any interrupt cause is pending; the
// driver acknowledges a cause by writing its bit to the status register, one event at a time.
#pragma once

#include <irqsim/machine.hpp>

#include <cstdint>
#include <deque>
#include <mutex>

class AudioCard {
 public:
  static constexpr std::uint32_t kVector = 0x58;
  static constexpr irqsim::Irql kIrql = 6;

  explicit AudioCard(irqsim::Machine& machine);

  // The wave engine finished playing one period of the buffer.
  void finish_wave_period();
  // A byte arrived on the MIDI input.
  void receive_midi(std::uint8_t byte);
  [[nodiscard]] irqsim::Device& device() { return device_; }

 private:
  std::uint64_t status() const;  // with mutex_ held
  void acknowledge(std::uint64_t causes);
  void update_line();  // with mutex_ held

  irqsim::Device device_;
  std::mutex mutex_;
  unsigned wave_periods_pending_ = 0;
  std::deque<std::uint8_t> midi_fifo_;
  bool line_asserted_ = false;
};
