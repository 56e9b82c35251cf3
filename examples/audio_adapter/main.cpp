// audio_adapter_demo: an audio card's wave engine and MIDI input share one level-triggered
// line. The miniport (audio_miniport.cpp) gets an IInterruptSync from port class, registers a
// wave and a MIDI service routine on it and connects; its streaming side, running on another
// processor, reads their progress with CallSynchronizedRoutine while the card plays and
// receives.

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "audio_card.hpp"
#include "audio_miniport.hpp"

namespace {

constexpr unsigned kProcessors = 4;
constexpr unsigned kEvents = 3000;

}  // namespace

int main() {
  irqsim::Machine machine({.processors = kProcessors});
  AudioCard card(machine);

  PRESOURCELIST resources = nullptr;
  if (PcNewResourceList(&resources, nullptr, NonPagedPool, card.device().translated_resources(),
                        card.device().raw_resources()) != STATUS_SUCCESS) {
    fmt::print(stderr, "PcNewResourceList failed\n");
    return EXIT_FAILURE;
  }
  AudioMiniport miniport;
  if (!NT_SUCCESS(miniport.Start(resources))) {
    fmt::print(stderr, "starting the miniport failed\n");
    return EXIT_FAILURE;
  }
  fmt::print("Port class connected the card's line (vector {:#x}, IRQL {}) with a wave and a MIDI service "
             "routine.\n",
             AudioCard::kVector, AudioCard::kIrql);

  // The stream side: polls the service routines' progress from processor 3, as a position
  // query would, until the test thread says the card is done.
  std::atomic<bool> card_done{false};
  std::atomic<unsigned> polls{0};
  machine.post(3, [&] {
    while (!card_done.load(std::memory_order_acquire)) {
      miniport.ReadProgress();
      polls.fetch_add(1, std::memory_order_relaxed);
      KeStallExecutionProcessor(20);
    }
  });

  std::mt19937 traffic(11);
  unsigned periods = 0;
  unsigned midi_bytes = 0;
  unsigned midi_checksum = 0;
  for (unsigned i = 0; i < kEvents; ++i) {
    if (traffic() % 3 == 0) {
      const auto byte = static_cast<std::uint8_t>(traffic());
      card.receive_midi(byte);
      ++midi_bytes;
      midi_checksum += byte;
    } else {
      card.finish_wave_period();
      ++periods;
    }
  }
  // The line goes quiet once the service routines have acknowledged every cause; then the
  // stream stops polling and the machine settles.
  while (machine.line_asserted(AudioCard::kVector)) std::this_thread::sleep_for(std::chrono::microseconds(100));
  card_done.store(true, std::memory_order_release);
  machine.wait_until_quiescent();

  const AudioMiniport::Progress progress = miniport.ReadProgress();
  const irqsim::VectorStats stats = machine.stats(AudioCard::kVector);
  fmt::print("  wave: {} of {} periods\n", progress.wave_periods, periods);
  fmt::print("  MIDI: {} of {} bytes (checksum {:#x}, expected {:#x})\n", progress.midi_bytes, midi_bytes,
             progress.midi_checksum, midi_checksum);
  fmt::print("  line: {} deliveries, {} claimed, {} unclaimed; {} CallSynchronizedRoutine polls from the stream\n",
             stats.deliveries, stats.claimed, stats.unclaimed, polls.load());
  fmt::print("  interrupts per processor:");
  for (unsigned p = 0; p < kProcessors; ++p) fmt::print(" {}", machine.interrupts_taken(p));
  fmt::print("\n");
  miniport.Stop();
  resources->Release();

  const bool all = progress.wave_periods == periods && progress.midi_bytes == midi_bytes &&
                   progress.midi_checksum == midi_checksum;
  fmt::print("{}\n", all ? "Result: every wave period and MIDI byte accounted for." : "Result: events were lost!");
  return all ? EXIT_SUCCESS : EXIT_FAILURE;
}
