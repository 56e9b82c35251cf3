#include "audio_card.hpp"

#include "audio_miniport.hpp"

AudioCard::AudioCard(irqsim::Machine& machine)
    : device_(machine.plug({.name = "audio",
                            .lines = {{.vector = kVector, .irql = kIrql, .trigger = irqsim::Trigger::Level}},
                            .register_bytes = 0x100})) {
  device_.on_read(audio_registers::kStatus, [this](std::uint64_t, unsigned) {
    std::lock_guard lock(mutex_);
    return status();
  });
  device_.on_write(audio_registers::kStatus,
                   [this](std::uint64_t, unsigned, std::uint64_t value) { acknowledge(value); });
  device_.on_read(audio_registers::kMidiData, [this](std::uint64_t, unsigned) -> std::uint64_t {
    std::lock_guard lock(mutex_);
    return midi_fifo_.empty() ? 0 : midi_fifo_.front();
  });
}

void AudioCard::finish_wave_period() {
  std::lock_guard lock(mutex_);
  ++wave_periods_pending_;
  update_line();
}

void AudioCard::receive_midi(std::uint8_t byte) {
  std::lock_guard lock(mutex_);
  midi_fifo_.push_back(byte);
  update_line();
}

std::uint64_t AudioCard::status() const {
  std::uint64_t causes = 0;
  if (wave_periods_pending_ != 0) causes |= audio_registers::kWavePeriodDone;
  if (!midi_fifo_.empty()) causes |= audio_registers::kMidiByteReady;
  return causes;
}

void AudioCard::acknowledge(std::uint64_t causes) {
  std::lock_guard lock(mutex_);
  if ((causes & audio_registers::kWavePeriodDone) != 0 && wave_periods_pending_ != 0) --wave_periods_pending_;
  if ((causes & audio_registers::kMidiByteReady) != 0 && !midi_fifo_.empty()) midi_fifo_.pop_front();
  update_line();
}

void AudioCard::update_line() {
  const bool pending = status() != 0;
  if (pending == line_asserted_) return;
  line_asserted_ = pending;
  if (pending) {
    device_.assert_line();
  } else {
    device_.deassert_line();
  }
}
