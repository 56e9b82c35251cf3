// The example's device model (test-side code): an audio card whose wave engine, MIDI input and
// capture engine share one level-triggered line. The status and MIDI data registers are plain
// register memory the card keeps up to date; the one handler is the status register's write,
// where the driver acknowledges a cause, one event at a time. The card also logs every status
// write with the processor and IRQL it came from, as a bus analyser would, so tests can see
// where the service routines ran.
#pragma once

#include <irqsim/machine.hpp>
#include <wdm.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

class AudioCard {
 public:
  static constexpr std::uint32_t kVector = 0x58;
  static constexpr irqsim::Irql kIrql = 6;

  // Plugs the card in, its line routed to `affinity` (processors of group 0).
  explicit AudioCard(irqsim::Machine& machine, std::uint64_t affinity = ~std::uint64_t{0});
  // The device outlives the card (it lives as long as the machine): its status register goes
  // back to plain memory, so a late write cannot reach a destroyed card.
  ~AudioCard();
  AudioCard(const AudioCard&) = delete;
  AudioCard& operator=(const AudioCard&) = delete;

  // The wave engine finished playing one period of the buffer.
  void finish_wave_period();
  // A byte arrived on the MIDI input.
  void receive_midi(std::uint8_t byte);
  // The capture engine finished recording one period: a cause the miniport has no routine for.
  void finish_capture_period();

  // One write to the status register and where the driver made it.
  struct StatusWrite {
    std::uint64_t value;
    ULONG processor;
    KIRQL irql;
  };
  [[nodiscard]] std::vector<StatusWrite> status_writes() const;

  [[nodiscard]] const irqsim::Device& device() const { return device_; }

 private:
  void acknowledge(std::uint64_t causes);
  void publish();  // with mutex_ held

  irqsim::Device device_;
  mutable std::mutex mutex_;
  unsigned wave_periods_pending_ = 0;
  std::deque<std::uint8_t> midi_fifo_;
  unsigned capture_periods_pending_ = 0;
  bool line_asserted_ = false;
  std::vector<StatusWrite> status_writes_;
};
