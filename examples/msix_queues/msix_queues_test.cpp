// Unit tests of the queue driver's interrupt path (queue_driver.c), written the way a driver
// writer would: each test plugs a simulated card into a fresh machine, starts the driver with the
// PDO and translated resources IRP_MN_START_DEVICE would carry, makes the hardware do something
// specific, waits for the machine to settle and checks what the driver did. Most checks are made
// from the card's side (which registers the driver touched, from which processor and at which
// IRQL), because that is what the hardware would see on a real system.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace_failing_tests.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <set>

#include "msix_queues_scenario.hpp"
#include "queue_card.hpp"
#include "queue_driver.h"

namespace {

// A failing test leaves the trace of its machine in irqsim-traces/ (docs/tracing.md).
[[maybe_unused]] const bool traced = irqsim::testing::trace_failing_tests();

using ::testing::Contains;
using ::testing::HasSubstr;

// Four processors, so each queue's message gets a processor of its own (they are threads: the
// tests run the same on a two-core host).
constexpr unsigned kProcessors = 4;

class QueueDriverTest : public ::testing::Test {
 protected:
  NTSTATUS Start(const QueueCard& card) { return StartOn(card.device()); }
  NTSTATUS StartOn(const irqsim::Device& device) {
    return QueueStartDevice(&extension, device.pdo(), device.translated_resources());
  }

  ULONG Completed(ULONG queue) {
    ULONG processor = 0;
    ULONG runs = 0;
    return QueueCompleted(&extension, queue, &processor, &runs);
  }
  ULONG DpcRuns(ULONG queue) {
    ULONG processor = 0;
    ULONG runs = 0;
    QueueCompleted(&extension, queue, &processor, &runs);
    return runs;
  }

  irqsim::Machine machine{{.processors = kProcessors}};
  QUEUE_EXTENSION extension{};
};

// ---- MSI-X: one message, one ISR and one DPC per queue -------------------------------------------

TEST_F(QueueDriverTest, MessageTableGivesEachQueueItsOwnVectorIrqlAndProcessor) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  // A card with messages keeps the Version the driver asked for, and the context is the table.
  EXPECT_EQ(extension.ConnectVersion, ULONG{CONNECT_MESSAGE_BASED});
  const IO_INTERRUPT_MESSAGE_INFO& table = *extension.Connection.InterruptMessageTable;
  ASSERT_EQ(table.MessageCount, ULONG{QUEUE_COUNT});
  // No SpinLock and no SynchronizeIrql: every message keeps its own IRQL and its own lock.
  EXPECT_EQ(table.UnifiedIrql, 0);
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    const IO_INTERRUPT_MESSAGE_INFO_ENTRY& entry = table.MessageInfo[queue];
    EXPECT_EQ(entry.Vector, QueueCard::kFirstMessageVector + queue);
    EXPECT_EQ(entry.Irql, QueueCard::message_irql(queue));
    EXPECT_EQ(entry.TargetProcessorSet, KAFFINITY{1} << queue);
  }
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, EachMessageIsrRunsOnTheProcessorItsMessageTargetsAtTheMessageIrql) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) card.complete(queue);
  machine.wait_until_quiescent();

  // Only queue q's ISR reads queue q's completion register, so where that read happened is
  // where the ISR ran.
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    const auto read = card.last_completions_read(queue);
    ASSERT_TRUE(read.has_value()) << "queue " << queue;
    EXPECT_EQ(read->processor, QueueCard::message_processor(queue, kProcessors));
    EXPECT_EQ(read->irql, QueueCard::message_irql(queue));
  }
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, EachQueueDpcRunsOnItsMessagesProcessorAtDispatchLevel) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) card.complete(queue);
  machine.wait_until_quiescent();

  // The DPC rings the queue's doorbell; its KDPC has no target processor, so it runs where the
  // message's ISR queued it: the work stays in the cache of the processor the message aims at.
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    const auto doorbell = card.last_doorbell(queue);
    ASSERT_TRUE(doorbell.has_value()) << "queue " << queue;
    EXPECT_EQ(doorbell->processor, QueueCard::message_processor(queue, kProcessors));
    EXPECT_EQ(doorbell->irql, DISPATCH_LEVEL);
  }
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, CompletionsWhoseMessagesMergedAreAllProcessedByOneIsrAndOneDpc) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  // Masking the vector holds the messages back the way a busy processor would: the three
  // messages merge into one, and the ISR finds all six completions in one read of the
  // read-to-clear register. The driver must take the count from the register, not count
  // interrupts.
  const std::uint32_t vector = QueueCard::kFirstMessageVector;
  machine.mask(vector);
  for (const unsigned count : {1u, 2u, 3u}) card.complete(0, count);
  machine.unmask(vector);
  machine.wait_until_quiescent();

  EXPECT_EQ(machine.stats(vector).deliveries, 1u);
  EXPECT_EQ(DpcRuns(0), 1u);
  EXPECT_EQ(Completed(0), 6u);
  EXPECT_EQ(card.doorbelled(0), card.produced(0));
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, AMessageOnQueueKQueuesOnlyQueueKsDpc) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  card.complete(2, 3);
  machine.wait_until_quiescent();

  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    if (queue == 2) continue;
    EXPECT_EQ(DpcRuns(queue), 0u) << "queue " << queue;
    EXPECT_FALSE(card.last_completions_read(queue).has_value()) << "queue " << queue;
  }
  EXPECT_EQ(DpcRuns(2), 1u);
  EXPECT_EQ(Completed(2), 3u);
  QueueStopDevice(&extension);
}

// ---- The fallback: a card without messages ------------------------------------------------------

TEST_F(QueueDriverTest, ACardWithOnlyALineGetsTheFallbackIsrConnectedLineBased) {
  QueueCard card(machine, CardInterrupts::LineOnly, "line");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  // IoConnectInterruptEx rewrote Version and stored an interrupt object, not a table.
  EXPECT_EQ(extension.ConnectVersion, ULONG{CONNECT_LINE_BASED});
  ASSERT_NE(extension.Connection.InterruptObject, nullptr);
  GROUP_AFFINITY affinity{};
  EXPECT_EQ(IoGetAffinityInterrupt(extension.Connection.InterruptObject, &affinity), STATUS_SUCCESS);
  EXPECT_EQ(affinity.Mask, machine.active_processors());
  // The stop disconnects with the Version it got back: with CONNECT_MESSAGE_BASED it would bug
  // check (see DisconnectingTheFallbackAsMessageBasedIsABugCheck).
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, TheFallbackIsrServesEveryQueueAndTheCardReleasesItsLine) {
  QueueCard card(machine, CardInterrupts::LineOnly, "line");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) card.complete(queue, queue + 1);
  machine.wait_until_quiescent();

  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    EXPECT_EQ(Completed(queue), queue + 1) << "queue " << queue;
    EXPECT_EQ(card.doorbelled(queue), queue + 1) << "queue " << queue;
    const auto read = card.last_completions_read(queue);
    ASSERT_TRUE(read.has_value()) << "queue " << queue;
    EXPECT_EQ(read->irql, QueueCard::kLineIrql);
  }
  // The machine settled, so the level-triggered line dropped: the ISR read every queue the
  // cause register flagged. A queue it never read would have kept the line asserted until the
  // machine reported an interrupt storm.
  EXPECT_FALSE(machine.line_asserted(QueueCard::kLineVector));
  EXPECT_GE(machine.stats(QueueCard::kLineVector).claimed, 1u);
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, OnASharedLineTheFallbackIsrDoesNotClaimAnotherCardsInterrupt) {
  QueueCard quiet(machine, CardInterrupts::LineOnly, "quiet");
  QueueCard busy(machine, CardInterrupts::LineOnly, "busy");
  // The quiet card's driver connects first, so its ISR is first on the line's chain and is asked
  // about every interrupt the busy card raises.
  QUEUE_EXTENSION quiet_extension{};
  ASSERT_EQ(QueueStartDevice(&quiet_extension, quiet.device().pdo(), quiet.device().translated_resources()),
            STATUS_SUCCESS);
  ASSERT_EQ(Start(busy), STATUS_SUCCESS);

  busy.complete(1, 2);
  busy.complete(3, 1);
  machine.wait_until_quiescent();

  // The quiet driver looked (its cause register) and said "not mine", so the chain went on.
  EXPECT_GE(quiet.cause_reads(), 1u);
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    EXPECT_FALSE(quiet.last_completions_read(queue).has_value()) << "queue " << queue;
    ULONG processor = 0;
    ULONG runs = 0;
    EXPECT_EQ(QueueCompleted(&quiet_extension, queue, &processor, &runs), 0u);
    EXPECT_EQ(runs, 0u);
  }
  EXPECT_EQ(Completed(1), 2u);
  EXPECT_EQ(Completed(3), 1u);
  EXPECT_EQ(machine.stats(QueueCard::kLineVector).unclaimed, 0u);
  QueueStopDevice(&extension);
  QueueStopDevice(&quiet_extension);
}

TEST_F(QueueDriverTest, ACardWithNeitherMessagesNorALineFailsWithStatusNotFound) {
  // Registers but no interrupt resource at all: even the fallback has nothing to connect to.
  irqsim::Device card = machine.plug({.name = "no interrupts", .register_bytes = QUEUE_REGISTER_BYTES});

  EXPECT_EQ(StartOn(card), STATUS_NOT_FOUND);
  // The failed start released the registers it had mapped.
  EXPECT_EQ(extension.Registers, nullptr);
}

TEST_F(QueueDriverTest, ACardGrantedFewerMessagesThanQueuesIsRefusedAndLeftDisconnected) {
  // The system may grant fewer messages than a card asks for; this driver needs one per queue.
  irqsim::DeviceConfig config{.name = "two messages", .register_bytes = QUEUE_REGISTER_BYTES};
  config.message_kind = irqsim::MessageKind::MsiX;
  for (std::uint32_t message = 0; message < 2; ++message) {
    config.messages.push_back({.vector = QueueCard::kFirstMessageVector + message, .irql = 7});
  }
  irqsim::Device card = machine.plug(config);

  EXPECT_EQ(StartOn(card), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(extension.Registers, nullptr);
  // Nothing stayed connected: a message now finds no ISR and is never delivered.
  card.signal_message(0);
  machine.wait_until_quiescent();
  EXPECT_EQ(machine.stats(QueueCard::kFirstMessageVector).deliveries, 0u);
}

// ---- Stopping ---------------------------------------------------------------------------------

TEST_F(QueueDriverTest, StopRunsTheDpcsStillQueuedAndNoDpcRunsAfterItReturns) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  // Processor 0, queue 0's target, is kept at DISPATCH_LEVEL (like a long DPC of another
  // driver): the message's ISR still runs there, but the DPC it queues has to wait. Only once
  // the stop has begun (the card's interrupts are disabled) does the processor lower its IRQL
  // and run the DPC, racing the rest of the stop. Wherever the race puts it, the DPC must have
  // run by the time QueueStopDevice returns, and must still find its interrupt object (a DPC
  // after the disconnect is bug check 0xCC) and its registers (after the unmap, 0x50).
  std::promise<void> isr_ran;
  std::future<void> isr_ran_future = isr_ran.get_future();
  machine.post(0, [&] {
    KIRQL old_irql = PASSIVE_LEVEL;
    KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    card.complete(0, 3);
    // KeStallExecutionProcessor is a preemption point: the message's ISR runs inside it.
    while (!card.last_completions_read(0)) KeStallExecutionProcessor(1);
    isr_ran.set_value();
    while (card.interrupts_enabled()) KeStallExecutionProcessor(1);
    KeLowerIrql(old_irql);
  });
  ASSERT_EQ(isr_ran_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(DpcRuns(0), 0u);

  QueueStopDevice(&extension);

  // The flush waited for the DPC.
  EXPECT_EQ(Completed(0), 3u);
  EXPECT_EQ(card.doorbelled(0), 3u);
  const ULONG runs_at_stop = DpcRuns(0);
  // The stopped card only counts completions; nothing reaches the driver any more.
  card.complete(0, 2);
  machine.wait_until_quiescent();
  EXPECT_EQ(DpcRuns(0), runs_at_stop);
  EXPECT_EQ(Completed(0), 3u);
}

TEST_F(QueueDriverTest, CompletionsCountedWhileStoppedAreProcessedAfterARestart) {
  QueueCard card(machine, CardInterrupts::MsiX, "msix");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);
  QueueStopDevice(&extension);

  card.complete(1, 4);
  machine.wait_until_quiescent();
  EXPECT_FALSE(card.last_completions_read(1).has_value());

  // The messages' vectors belong to the device alone, so connecting again succeeds only because
  // the stop disconnected everything. Enabling the card announces what it counted meanwhile.
  ASSERT_EQ(Start(card), STATUS_SUCCESS);
  machine.wait_until_quiescent();
  EXPECT_EQ(Completed(1), 4u);
  EXPECT_EQ(card.doorbelled(1), 4u);
  QueueStopDevice(&extension);
}

TEST_F(QueueDriverTest, DisconnectingTheFallbackAsMessageBasedIsABugCheck) {
  QueueCard card(machine, CardInterrupts::LineOnly, "line");
  ASSERT_EQ(Start(card), STATUS_SUCCESS);

  // The bug QueueStopDevice avoids by keeping the Version connect returned: a driver that
  // always disconnects with CONNECT_MESSAGE_BASED passes an interrupt object as a message table.
  IO_DISCONNECT_INTERRUPT_PARAMETERS parameters{};
  parameters.Version = CONNECT_MESSAGE_BASED;
  parameters.ConnectionContext.Generic = extension.Connection.Generic;
  IRQSIM_EXPECT_BUGCHECK(IoDisconnectInterruptEx(&parameters), irqsim::bugcheck::kPageFaultInNonpagedArea);
}

// ---- The scenario ------------------------------------------------------------------------------

TEST(MsixQueuesScenario, AccountsForEveryCompletionOnTwoAndFourProcessors) {
  for (const unsigned processors : {2u, 4u}) {
    irqsim::Machine machine({.processors = processors});
    const ScenarioResult result = run_msix_queues(machine);

    EXPECT_TRUE(result.accounted) << processors << " processors";
    // The tour runs every scenario on one machine: this one keeps to its assigned vectors.
    std::set<std::uint32_t> vectors;
    for (const ScenarioVector& vector : result.vectors) vectors.insert(vector.vector);
    EXPECT_EQ(vectors, (std::set<std::uint32_t>{0x53, 0x70, 0x71, 0x72, 0x73}));
    // Which connection each card got is part of what it reports.
    EXPECT_THAT(result.findings, Contains(HasSubstr("CONNECT_MESSAGE_BASED")));
    EXPECT_THAT(result.findings, Contains(HasSubstr("CONNECT_LINE_BASED")));
  }
}

}  // namespace
