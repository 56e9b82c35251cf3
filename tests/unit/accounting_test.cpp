// Interrupt accounting (include/irqsim/vector_stats.hpp): every edge raised is delivered,
// coalesced, dropped or still pending, every delivery ends claimed, unclaimed, unexpected or
// abandoned unless it is in service, and irqsim::testing::accounting_adds_up checks both sums.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using ::testing::HasSubstr;

constexpr ULONG kVector = 0x52;
constexpr KIRQL kIrql = 5;

BOOLEAN Claims(PKINTERRUPT, PVOID) { return TRUE; }
BOOLEAN DeclinesAll(PKINTERRUPT, PVOID) { return FALSE; }

TEST(Accounting, EdgesWhileMaskedCoalesceIntoOnePendingEdgeThatOneDeliveryTakes) {
  irqsim::Machine m({.processors = 2});
  PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
  m.mask(kVector);
  for (int i = 0; i < 5; ++i) m.pulse(kVector);
  irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.raised, 5u);
  EXPECT_EQ(stats.coalesced, 4u);
  EXPECT_EQ(stats.pending, 1u);
  EXPECT_EQ(stats.deliveries, 0u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));

  m.unmask(kVector);
  m.wait_until_quiescent();
  stats = m.stats(kVector);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.deliveries, 1u);
  EXPECT_EQ(stats.delivered_edges, 1u);
  EXPECT_EQ(stats.claimed, 1u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  IoDisconnectInterrupt(object);
}

TEST(Accounting, UnclaimedDeliveriesAreCountedAndAddUp) {
  irqsim::Machine m({.processors = 1});
  PKINTERRUPT object = ConnectLatched(DeclinesAll, nullptr, kVector, kIrql, kIrql);
  for (int i = 0; i < 3; ++i) {
    m.pulse(kVector);
    m.wait_until_quiescent();
  }
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.raised, 3u);
  EXPECT_EQ(stats.delivered_edges, 3u);
  EXPECT_EQ(stats.unclaimed, 3u);
  EXPECT_EQ(stats.claimed, 0u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  IoDisconnectInterrupt(object);
}

// A level line is no edge: its deliveries count, its assertions do not count as raised edges.
BOOLEAN DeassertsTheLine(PKINTERRUPT, PVOID context) {
  static_cast<irqsim::Machine*>(context)->deassert_line(kVector);
  return TRUE;
}

TEST(Accounting, LevelLineDeliveriesAreNotEdges) {
  irqsim::Machine m({.processors = 2});
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, DeassertsTheLine, &m, nullptr, kVector, kIrql, kIrql, LevelSensitive, TRUE,
                               ~KAFFINITY{0}, FALSE),
            STATUS_SUCCESS);
  for (int i = 0; i < 3; ++i) {
    m.assert_line(kVector);
    m.wait_until_quiescent();
  }
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.raised, 0u);
  EXPECT_EQ(stats.deliveries, 3u);
  EXPECT_EQ(stats.delivered_edges, 0u);
  EXPECT_EQ(stats.claimed, 3u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  IoDisconnectInterrupt(object);
}

TEST(Accounting, ADeliveryInServiceIsCountedAsSuchAndStillAddsUp) {
  Gate release;
  irqsim::Machine m({.processors = 2});
  const OpenOnExit never_leave_the_isr_blocked(release);
  std::atomic<bool> entered{false};
  struct Context {
    Gate& release;
    std::atomic<bool>& entered;
  } context{release, entered};
  PKINTERRUPT object = ConnectLatched(
      [](PKINTERRUPT, PVOID raw) -> BOOLEAN {
        auto& c = *static_cast<Context*>(raw);
        c.entered = true;
        c.release.wait();
        return TRUE;
      },
      &context, kVector, kIrql, kIrql);
  m.pulse(kVector);
  ASSERT_TRUE(Eventually([&] { return entered.load(); }));
  irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.in_service, 1u);
  EXPECT_EQ(stats.deliveries, 1u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  release.open();
  m.wait_until_quiescent();
  stats = m.stats(kVector);
  EXPECT_EQ(stats.in_service, 0u);
  EXPECT_EQ(stats.claimed, 1u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  IoDisconnectInterrupt(object);
}

BOOLEAN Throws(PKINTERRUPT, PVOID) { throw std::runtime_error("device fault"); }

TEST(Accounting, ADeliveryWhoseIsrThrowsIsAbandoned) {
  irqsim::Machine m({.processors = 1});
  PKINTERRUPT object = ConnectLatched(Throws, nullptr, kVector, kIrql, kIrql);
  EXPECT_THROW(m.run_on(0,
                        [&] {
                          const KIRQL old = RaiseTo(HIGH_LEVEL);
                          m.pulse(kVector);
                          KeLowerIrql(old);
                        }),
               std::runtime_error);
  m.wait_until_quiescent();
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.abandoned, 1u);
  EXPECT_EQ(stats.claimed + stats.unclaimed, 0u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  IoDisconnectInterrupt(object);
}

BOOLEAN CountsMessage(PKINTERRUPT, PVOID context, ULONG message_id) {
  static_cast<std::atomic<int>*>(context)[message_id].fetch_add(1);
  return TRUE;
}

TEST(Accounting, EachMessageIsCountedOnItsOwnVector) {
  irqsim::Machine m({.processors = 2});
  irqsim::Device card = m.plug({.name = "card",
                                .message_kind = irqsim::MessageKind::MsiX,
                                .messages = {{.vector = 0x90, .irql = 7}, {.vector = 0x91, .irql = 8}}});
  std::atomic<int> calls[2]{};
  PIO_INTERRUPT_MESSAGE_INFO table = nullptr;
  IO_CONNECT_INTERRUPT_PARAMETERS connect{};
  connect.Version = CONNECT_MESSAGE_BASED;
  connect.MessageBased.PhysicalDeviceObject = card.pdo();
  connect.MessageBased.ConnectionContext.InterruptMessageTable = &table;
  connect.MessageBased.MessageServiceRoutine = CountsMessage;
  connect.MessageBased.ServiceContext = calls;
  ASSERT_EQ(IoConnectInterruptEx(&connect), STATUS_SUCCESS);
  card.signal_message(0);
  m.wait_until_quiescent();
  card.signal_message(1);
  m.wait_until_quiescent();
  card.signal_message(1);
  m.wait_until_quiescent();
  EXPECT_EQ(card.message_stats(0).raised, 1u);
  EXPECT_EQ(card.message_stats(0).claimed, 1u);
  EXPECT_EQ(card.message_stats(1).raised, 2u);
  EXPECT_EQ(card.message_stats(1).claimed, 2u);
  EXPECT_EQ(calls[1].load(), 2);
  for (std::uint32_t id = 0; id < 2; ++id) EXPECT_TRUE(irqsim::testing::accounting_adds_up(card.message_stats(id)));
  EXPECT_THROW((void)card.message_stats(2), std::out_of_range);
  IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
  disconnect.Version = CONNECT_MESSAGE_BASED;
  disconnect.ConnectionContext.InterruptMessageTable = table;
  IoDisconnectInterruptEx(&disconnect);
}

TEST(Accounting, TheHelperNamesEveryCounterWhenTheSumsDoNotAddUp) {
  irqsim::VectorStats stats;
  stats.raised = 3;
  stats.delivered_edges = 1;
  stats.deliveries = 2;
  stats.claimed = 2;
  const ::testing::AssertionResult result = irqsim::testing::accounting_adds_up(stats);
  EXPECT_FALSE(result);
  EXPECT_THAT(result.message(), HasSubstr("raised 3 = delivered edges 1 + coalesced 0 + dropped 0 + pending 0  "
                                          "(does not add up)"));
  EXPECT_THAT(result.message(), HasSubstr("deliveries 2 = claimed 2"));
}

}  // namespace
