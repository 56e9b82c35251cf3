// Unit tests of a port-class miniport's interrupt path: the pattern to copy for your own.
//
// Each test builds its own simulated machine, plugs the card model in, starts the miniport the
// way port class would at IRP_MN_START_DEVICE, makes the card do something specific, waits for
// the machine to settle and then asserts on what the miniport did: what it counted (read the way
// its own stream side reads it, with CallSynchronizedRoutine) and what it wrote to the card (the
// card logs every status write with the processor and IRQL it came from).
//
// Two tools recur. wait_until_quiescent() instead of sleeping: it returns once every interrupt
// that can be delivered has been handled, so no test depends on timing. Masking the vector at
// the interrupt controller freezes the moment between "the hardware raised its line" and "the
// driver ran", so a test can look at it, or make several causes pending before the first
// service routine runs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace_failing_tests.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

#include "audio_adapter_scenario.hpp"
#include "audio_card.hpp"
#include "audio_miniport.hpp"
#include "audio_registers.hpp"
#include "port_driver.hpp"

namespace {

// A failing test leaves the trace of its machine in irqsim-traces/ (docs/tracing.md).
[[maybe_unused]] const bool traced = irqsim::testing::trace_failing_tests();

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::FieldsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr std::uint64_t kAnyProcessor = ~std::uint64_t{0};

// A write of `cause` to the status register: the miniport acknowledging one event.
auto Acknowledges(ULONG cause) { return Field(&AudioCard::StatusWrite::value, cause); }

// A machine with the card plugged in and its miniport. Members are declared in the order they
// must be built; destruction runs backwards, so the miniport stops (disconnecting its
// interrupt) while the machine still exists. Stop does nothing on a miniport that never started
// or was stopped already, so tests may stop it themselves.
struct AudioAdapter {
  explicit AudioAdapter(irqsim::MachineConfig config = {.processors = 4}, std::uint64_t affinity = kAnyProcessor)
      : machine(config), card(machine, affinity) {}
  AudioAdapter(const AudioAdapter&) = delete;
  AudioAdapter& operator=(const AudioAdapter&) = delete;
  ~AudioAdapter() { miniport.Stop(); }

  NTSTATUS start() { return start_miniport(miniport, card.device()); }
  [[nodiscard]] irqsim::VectorStats line_stats() const { return machine.stats(AudioCard::kVector); }

  irqsim::Machine machine;
  AudioCard card;
  AudioMiniport miniport;
};

TEST(AudioAdapter, WavePeriodRaisesTheLineAndOnlyTheWaveRoutineCountsIt) {
  AudioAdapter adapter;
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  // Masked, the raised line waits at the controller: the card has asserted it and the
  // miniport has not run yet.
  adapter.machine.mask(AudioCard::kVector);
  adapter.card.finish_wave_period();
  EXPECT_TRUE(adapter.machine.line_asserted(AudioCard::kVector));
  EXPECT_THAT(adapter.miniport.ReadProgress(), FieldsAre(0u, 0u, 0u));

  adapter.machine.unmask(AudioCard::kVector);
  adapter.machine.wait_until_quiescent();

  EXPECT_THAT(adapter.miniport.ReadProgress(), FieldsAre(1u, 0u, 0u));
  EXPECT_THAT(adapter.card.status_writes(), ElementsAre(Acknowledges(audio_registers::kWavePeriodDone)));
  // Acknowledging the only cause is what lets a level-triggered line drop.
  EXPECT_FALSE(adapter.machine.line_asserted(AudioCard::kVector));
  EXPECT_EQ(adapter.line_stats().claimed, 1u);
  EXPECT_EQ(adapter.line_stats().unclaimed, 0u);
}

TEST(AudioAdapter, MidiBytesArriveIntactThroughTheDataRegister) {
  AudioAdapter adapter;
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  // A note-on message: status byte, note, velocity. Each byte is one interrupt; the checksum
  // proves the routine read the data register while the byte was still the one announced.
  adapter.card.receive_midi(0x90);
  adapter.card.receive_midi(0x3C);
  adapter.card.receive_midi(0x64);
  adapter.machine.wait_until_quiescent();

  EXPECT_THAT(adapter.miniport.ReadProgress(), FieldsAre(0u, 3u, 0x90u + 0x3Cu + 0x64u));
  EXPECT_THAT(adapter.card.status_writes(), ElementsAre(Acknowledges(audio_registers::kMidiByteReady),
                                                        Acknowledges(audio_registers::kMidiByteReady),
                                                        Acknowledges(audio_registers::kMidiByteReady)));
  EXPECT_FALSE(adapter.machine.line_asserted(AudioCard::kVector));
}

TEST(AudioAdapter, WaveAndMidiPendingTogetherAreBothServicedAndTheLineDrops) {
  AudioAdapter adapter;
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  adapter.machine.mask(AudioCard::kVector);
  adapter.card.finish_wave_period();
  adapter.card.receive_midi(0x42);
  adapter.machine.unmask(AudioCard::kVector);
  adapter.machine.wait_until_quiescent();

  EXPECT_THAT(adapter.miniport.ReadProgress(), FieldsAre(1u, 1u, 0x42u));
  EXPECT_FALSE(adapter.machine.line_asserted(AudioCard::kVector));
  // In InterruptSyncModeNormal a delivery stops at the first routine that returns
  // STATUS_SUCCESS, so the wave routine (registered first) takes the first delivery and the
  // line, still asserted for the MIDI byte, brings a second one for the MIDI routine.
  EXPECT_THAT(adapter.card.status_writes(), ElementsAre(Acknowledges(audio_registers::kWavePeriodDone),
                                                        Acknowledges(audio_registers::kMidiByteReady)));
  EXPECT_EQ(adapter.line_stats().claimed, 2u);
  EXPECT_EQ(adapter.line_stats().unclaimed, 0u);
}

TEST(AudioAdapter, ServiceRoutinesRunAtTheLinesDirqlOnAProcessorOfItsAffinity) {
  // The firmware routed the card's line to processors 2 and 3 only; port class connects with
  // the translated descriptor's affinity, so no other processor may run the routines.
  constexpr std::uint64_t kProcessors2And3 = 0b1100;
  AudioAdapter adapter({.processors = 4}, kProcessors2And3);
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  for (unsigned i = 0; i < 20; ++i) {
    adapter.card.finish_wave_period();
    adapter.card.receive_midi(static_cast<std::uint8_t>(i));
  }
  adapter.machine.wait_until_quiescent();

  const std::vector<AudioCard::StatusWrite> writes = adapter.card.status_writes();
  EXPECT_THAT(writes, SizeIs(40));
  EXPECT_THAT(writes, Each(AllOf(Field(&AudioCard::StatusWrite::irql, AudioCard::kIrql),
                                 Field(&AudioCard::StatusWrite::processor, AnyOf(2u, 3u)))));
}

TEST(AudioAdapter, StreamSideSeesConsistentProgressWhileTheCardInterrupts) {
  AudioAdapter adapter;
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  // MIDI byte i is i % 256, so after n bytes the checksum must be the sum of 0..n-1 taken
  // modulo 256 each. A snapshot taken between the MIDI routine's count and checksum updates
  // would break that; so would one whose counts went backwards.
  constexpr unsigned kBytes = 600;
  std::vector<ULONG> checksum_after{0};
  for (unsigned i = 0; i < kBytes; ++i) checksum_after.push_back(checksum_after.back() + i % 256);

  // The stream side polls from the highest-numbered processor while this thread plays the
  // card; it stops once the card is done and its line has dropped. Results are counted there
  // and asserted here, after wait_until_quiescent has waited for the poller too.
  std::atomic<bool> card_done{false};
  unsigned polls = 0;
  unsigned torn = 0;
  adapter.machine.post(adapter.machine.processor_count() - 1, [&] {
    AudioMiniport::Progress last{};
    while (!card_done.load(std::memory_order_acquire) || adapter.machine.line_asserted(AudioCard::kVector)) {
      const AudioMiniport::Progress now = adapter.miniport.ReadProgress();
      const bool forward = now.wave_periods >= last.wave_periods && now.midi_bytes >= last.midi_bytes;
      if (!forward || now.midi_bytes > kBytes || now.midi_checksum != checksum_after[now.midi_bytes]) ++torn;
      last = now;
      ++polls;
      KeStallExecutionProcessor(10);
    }
  });
  for (unsigned i = 0; i < kBytes; ++i) {
    adapter.card.receive_midi(static_cast<std::uint8_t>(i));
    adapter.card.finish_wave_period();
  }
  card_done.store(true, std::memory_order_release);
  adapter.machine.wait_until_quiescent();

  EXPECT_GT(polls, 0u);
  EXPECT_EQ(torn, 0u);
  EXPECT_THAT(adapter.miniport.ReadProgress(), FieldsAre(kBytes, kBytes, checksum_after.back()));
}

TEST(AudioAdapter, AnInterruptPendingBeforeStartIsServicedOnceTheRoutinesConnect) {
  AudioAdapter adapter;
  // The card raises its line before the driver starts. With nothing connected the controller
  // holds it, and the machine counts as settled.
  adapter.card.finish_wave_period();
  adapter.machine.wait_until_quiescent();
  EXPECT_EQ(adapter.line_stats().deliveries, 0u);

  // Connect delivers it at once, possibly before it returns: the miniport must have mapped its
  // registers and registered both routines by then.
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);
  adapter.machine.wait_until_quiescent();

  EXPECT_THAT(adapter.miniport.ReadProgress(), FieldsAre(1u, 0u, 0u));
  EXPECT_FALSE(adapter.machine.line_asserted(AudioCard::kVector));
}

TEST(AudioAdapter, ACauseNoRoutineHandlesIsNotClaimedAndItsStuckLineIsAStorm) {
  // A low storm threshold keeps the test short: that many unclaimed deliveries in a row of a
  // line that stays asserted is bug check 0xF2.
  AudioAdapter adapter({.processors = 4, .storm_threshold = 16});
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  // Both routines find their bit clear and return STATUS_UNSUCCESSFUL, so port class's ISR
  // returns FALSE; nobody acknowledges the capture period and the level line never drops.
  adapter.card.finish_capture_period();
  const auto report = irqsim::testing::bug_check_from([&] { adapter.machine.wait_until_quiescent(); });

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, irqsim::bugcheck::kHardwareInterruptStorm) << report->to_string();
  EXPECT_THAT(report->rule, HasSubstr("Vector 0x58"));
  EXPECT_EQ(adapter.line_stats().claimed, 0u);
  EXPECT_GE(adapter.line_stats().unclaimed, 16u);
  EXPECT_THAT(adapter.card.status_writes(), IsEmpty());
  // The fixture still stops the miniport: teardown after a bug check works from the test thread.
}

TEST(AudioAdapter, StopDisconnectsSoLaterEventsAreLeftPendingAndUnserviced) {
  AudioAdapter adapter;
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);
  adapter.card.finish_wave_period();
  adapter.machine.wait_until_quiescent();
  ASSERT_THAT(adapter.card.status_writes(), SizeIs(1));
  const irqsim::VectorStats stopped = adapter.line_stats();

  adapter.miniport.Stop();
  // A line with nothing connected is not delivered, so asserting it cannot storm: it waits at
  // the controller, and the machine settles around it.
  adapter.card.finish_wave_period();
  adapter.card.receive_midi(0x7F);
  adapter.machine.wait_until_quiescent();

  EXPECT_TRUE(adapter.machine.line_asserted(AudioCard::kVector));
  EXPECT_EQ(adapter.line_stats().deliveries, stopped.deliveries);
  EXPECT_THAT(adapter.card.status_writes(), SizeIs(1));
}

TEST(AudioAdapter, StartWithoutAnInterruptFailsWithPortClassStatus) {
  irqsim::Machine machine;
  // Registers but no line: a resource list with no interrupt descriptor. The miniport leaves
  // the check to PcNewInterruptSync, which refuses interrupt index 0 of a list that has none
  // with STATUS_INVALID_PARAMETER (docs/decisions.md, port class); Start passes that on.
  const irqsim::Device card = machine.plug({.name = "audio without a line", .register_bytes = audio_registers::kBytes});
  AudioMiniport miniport;

  EXPECT_EQ(start_miniport(miniport, card), STATUS_INVALID_PARAMETER);
  // A failed Start already undid itself; stopping again is harmless, as PnP teardown may do.
  miniport.Stop();
}

TEST(AudioAdapter, StartWithoutRegistersFailsBeforeConnecting) {
  irqsim::Machine machine;
  const irqsim::Device card = machine.plug(
      {.name = "audio without registers", .lines = {{.vector = AudioCard::kVector, .irql = AudioCard::kIrql}}});
  AudioMiniport miniport;

  EXPECT_EQ(start_miniport(miniport, card), STATUS_INSUFFICIENT_RESOURCES);

  // Proof that nothing was connected: a raised line is not delivered.
  machine.assert_line(AudioCard::kVector);
  machine.wait_until_quiescent();
  EXPECT_EQ(machine.stats(AudioCard::kVector).deliveries, 0u);
}

TEST(AudioAdapter, ReadingProgressAboveTheCardsDirqlIsBugCheck0x9) {
  AudioAdapter adapter;
  ASSERT_EQ(adapter.start(), STATUS_SUCCESS);

  // CallSynchronizedRoutine raises to the interrupt's level; from code already above it
  // (a higher-level ISR asking for the position, say) it would have to lower the IRQL instead.
  const auto read_above_dirql = [&] {
    KIRQL old_irql = 0;
    KeRaiseIrql(static_cast<KIRQL>(AudioCard::kIrql + 1), &old_irql);
    adapter.miniport.ReadProgress();
  };
  IRQSIM_EXPECT_BUGCHECK(adapter.machine.run_on(1, read_above_dirql), irqsim::bugcheck::kIrqlNotGreaterOrEqual);
}

TEST(AudioAdapter, ScenarioAccountsForEveryEventAndLeavesTheLineUnconnected) {
  // irqsim_demo runs every example's scenario on one machine, so the scenario must work on the
  // smallest machine it supports and more than once, and leave its line to the next one.
  irqsim::Machine machine({.processors = 2});
  EXPECT_TRUE(run_audio_adapter(machine).accounted);
  EXPECT_TRUE(run_audio_adapter(machine).accounted);
  EXPECT_FALSE(machine.line_asserted(AudioCard::kVector));

  const std::uint64_t deliveries = machine.stats(AudioCard::kVector).deliveries;
  machine.assert_line(AudioCard::kVector);
  machine.wait_until_quiescent();
  EXPECT_EQ(machine.stats(AudioCard::kVector).deliveries, deliveries);
}

}  // namespace
