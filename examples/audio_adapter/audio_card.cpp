#include "audio_card.hpp"

#include "audio_registers.hpp"

AudioCard::AudioCard(irqsim::Machine& machine, std::uint64_t affinity)
    : device_(machine.plug({.name = "audio",
                            .lines = {{.vector = kVector,
                                       .irql = kIrql,
                                       .trigger = irqsim::Trigger::Level,
                                       .affinity = affinity}},
                            .register_bytes = audio_registers::kBytes})) {
  device_.on_write(audio_registers::kStatus, [this](std::uint64_t, unsigned, std::uint64_t value) {
    // Asked before taking the card's lock: a WDK call is a preemption point.
    const StatusWrite write{value, KeGetCurrentProcessorNumber(), KeGetCurrentIrql()};
    std::lock_guard lock(mutex_);
    status_writes_.push_back(write);
    acknowledge(value);
  });
}

AudioCard::~AudioCard() { device_.on_write(audio_registers::kStatus, nullptr); }

void AudioCard::finish_wave_period() {
  std::lock_guard lock(mutex_);
  ++wave_periods_pending_;
  publish();
}

void AudioCard::receive_midi(std::uint8_t byte) {
  std::lock_guard lock(mutex_);
  midi_fifo_.push_back(byte);
  publish();
}

void AudioCard::finish_capture_period() {
  std::lock_guard lock(mutex_);
  ++capture_periods_pending_;
  publish();
}

std::vector<AudioCard::StatusWrite> AudioCard::status_writes() const {
  std::lock_guard lock(mutex_);
  return status_writes_;
}

void AudioCard::acknowledge(std::uint64_t causes) {
  if ((causes & audio_registers::kWavePeriodDone) != 0 && wave_periods_pending_ != 0) --wave_periods_pending_;
  if ((causes & audio_registers::kMidiByteReady) != 0 && !midi_fifo_.empty()) midi_fifo_.pop_front();
  if ((causes & audio_registers::kCapturePeriodDone) != 0 && capture_periods_pending_ != 0) {
    --capture_periods_pending_;
  }
  publish();
}

// The data register is stored before the status bit that makes it valid, so a driver that sees
// kMidiByteReady reads the byte it announces.
void AudioCard::publish() {
  if (!midi_fifo_.empty()) device_.store_register(audio_registers::kMidiData, midi_fifo_.front());
  std::uint64_t status = 0;
  if (wave_periods_pending_ != 0) status |= audio_registers::kWavePeriodDone;
  if (!midi_fifo_.empty()) status |= audio_registers::kMidiByteReady;
  if (capture_periods_pending_ != 0) status |= audio_registers::kCapturePeriodDone;
  device_.store_register(audio_registers::kStatus, status);

  const bool pending = status != 0;
  if (pending == line_asserted_) return;
  line_asserted_ = pending;
  if (pending) {
    device_.assert_line();
  } else {
    device_.deassert_line();
  }
}
