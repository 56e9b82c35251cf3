#include "audio_adapter_scenario.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <vector>

#include "audio_card.hpp"
#include "audio_miniport.hpp"
#include "port_driver.hpp"

namespace {

constexpr unsigned kEvents = 3000;

// One thing the card does: finish a wave period, or receive a MIDI byte.
struct CardEvent {
  bool midi;
  std::uint8_t byte;
};

// The whole traffic is drawn before the card starts, so the stream side can check each
// progress snapshot against it while the card is still producing it.
struct Traffic {
  std::vector<CardEvent> events;
  ULONG wave_periods = 0;
  // checksum_after[n]: the MIDI checksum once the first n bytes have been received.
  std::vector<ULONG> checksum_after{0};
};

Traffic draw_traffic() {
  std::mt19937 random(11);
  Traffic traffic;
  for (unsigned i = 0; i < kEvents; ++i) {
    if (random() % 3 == 0) {
      const auto byte = static_cast<std::uint8_t>(random());
      traffic.events.push_back({.midi = true, .byte = byte});
      traffic.checksum_after.push_back(traffic.checksum_after.back() + byte);
    } else {
      traffic.events.push_back({.midi = false, .byte = 0});
      ++traffic.wave_periods;
    }
  }
  return traffic;
}

// A snapshot is torn if a count went backwards or the checksum is not that of the bytes counted:
// what an unsynchronized reader could see between a routine's two updates.
bool consistent(const AudioMiniport::Progress& before, const AudioMiniport::Progress& now, const Traffic& traffic) {
  return now.wave_periods >= before.wave_periods && now.midi_bytes >= before.midi_bytes &&
         now.wave_periods <= traffic.wave_periods && now.midi_bytes < traffic.checksum_after.size() &&
         now.midi_checksum == traffic.checksum_after[now.midi_bytes];
}

}  // namespace

ScenarioResult run_audio_adapter(irqsim::Machine& machine) {
  ScenarioResult result{.name = "audio_adapter: wave and MIDI service routines on one IInterruptSync",
                        .vectors = {{AudioCard::kVector, "line 0x58 (IRQL 6): wave + MIDI"}},
                        .findings = {},
                        .accounted = false};
  AudioCard card(machine);
  AudioMiniport miniport;
  if (const NTSTATUS status = start_miniport(miniport, card.device()); !NT_SUCCESS(status)) {
    result.findings.push_back(fmt::format("starting the miniport failed with {:#x}", static_cast<ULONG>(status)));
    return result;
  }
  const Traffic traffic = draw_traffic();
  const irqsim::VectorStats before = machine.stats(AudioCard::kVector);

  // The stream side, as a position query would: polls until the card has produced everything
  // and its line has gone quiet, i.e. the service routines acknowledged every cause.
  const unsigned stream_processor = machine.processor_count() - 1;
  std::atomic<bool> card_done{false};
  unsigned polls = 0;
  unsigned torn = 0;
  machine.post(stream_processor, [&] {
    AudioMiniport::Progress last{};
    while (!card_done.load(std::memory_order_acquire) || machine.line_asserted(AudioCard::kVector)) {
      const AudioMiniport::Progress now = miniport.ReadProgress();
      if (!consistent(last, now, traffic)) ++torn;
      last = now;
      ++polls;
      KeStallExecutionProcessor(20);
    }
  });
  for (const CardEvent& event : traffic.events) {
    if (event.midi) {
      card.receive_midi(event.byte);
    } else {
      card.finish_wave_period();
    }
  }
  card_done.store(true, std::memory_order_release);
  machine.wait_until_quiescent();

  const AudioMiniport::Progress progress = miniport.ReadProgress();
  miniport.Stop();
  const irqsim::VectorStats after = machine.stats(AudioCard::kVector);

  const auto midi_bytes = static_cast<ULONG>(traffic.checksum_after.size() - 1);
  const ULONG midi_checksum = traffic.checksum_after.back();
  result.findings.push_back(fmt::format("wave: {} of {} periods; MIDI: {} of {} bytes, checksum {:#x} of {:#x}",
                                        progress.wave_periods, traffic.wave_periods, progress.midi_bytes,
                                        midi_bytes, progress.midi_checksum, midi_checksum));
  result.findings.push_back(fmt::format("line {:#x}: {} deliveries for {} events, {} unclaimed (Normal mode: one "
                                        "routine services one event per delivery)",
                                        AudioCard::kVector, after.deliveries - before.deliveries, kEvents,
                                        after.unclaimed - before.unclaimed));
  result.findings.push_back(
      fmt::format("stream side on P{}: {} CallSynchronizedRoutine polls, {} torn", stream_processor, polls, torn));
  result.accounted = progress.wave_periods == traffic.wave_periods && progress.midi_bytes == midi_bytes &&
                     progress.midi_checksum == midi_checksum && torn == 0;
  return result;
}
