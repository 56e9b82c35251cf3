// The statistics every machine keeps (Machine::statistics, include/irqsim/machine_stats.hpp):
// latency and service-time histograms per vector, DPC run times per routine, and where each
// processor's time went.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include <irqsim/device.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr ULONG kVector = 0x71;
constexpr KIRQL kIrql = 7;

const irqsim::VectorEntry* EntryFor(const irqsim::MachineStats& stats, std::uint32_t vector) {
  const auto found = std::ranges::find(stats.vectors, vector, &irqsim::VectorEntry::vector);
  return found == stats.vectors.end() ? nullptr : &*found;
}

BOOLEAN Claims(PKINTERRUPT, PVOID) { return TRUE; }

BOOLEAN StallsTwoMilliseconds(PKINTERRUPT, PVOID) {
  KeStallExecutionProcessor(2000);
  return TRUE;
}

TEST(Statistics, EveryDeliveryHasALatencyAndEveryEndedOneAServiceTime) {
  irqsim::Machine m({.processors = 2});
  PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
  for (int i = 0; i < 10; ++i) {
    m.pulse(kVector);
    m.wait_until_quiescent();
  }
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.deliveries, 10u);
  EXPECT_EQ(stats.latency.count(), 10u);
  EXPECT_EQ(stats.service_time.count(), 10u);
  EXPECT_LE(stats.latency.min(), stats.latency.max());
  IoDisconnectInterrupt(object);
}

TEST(Statistics, AnIsrsRunTimeIsItsDeliverysServiceTimeAndItsProcessorsTimeAtTheVectorsIrql) {
  irqsim::Machine m({.processors = 1});
  PKINTERRUPT object = ConnectLatched(StallsTwoMilliseconds, nullptr, kVector, kIrql, kIrql);
  m.pulse(kVector);
  m.wait_until_quiescent();
  const irqsim::MachineStats stats = m.statistics();
  const irqsim::VectorEntry* entry = EntryFor(stats, kVector);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->source, "test");
  EXPECT_GE(entry->stats.service_time.min(), 2ms);
  EXPECT_GE(stats.processors.at(0).time_at_irql[kIrql], 2ms);
  EXPECT_EQ(stats.processors[0].interrupts, 1u);
  IoDisconnectInterrupt(object);
}

struct SlowDpc {
  KDPC dpc;
};

VOID StallsOneMillisecond(PKDPC, PVOID, PVOID, PVOID) { KeStallExecutionProcessor(1000); }

TEST(Statistics, ADpcRoutinesRunsAreTimedAndChargedToDispatchLevel) {
  irqsim::Machine m({.processors = 1});
  SlowDpc slow;
  KeInitializeDpc(&slow.dpc, StallsOneMillisecond, nullptr);
  for (int i = 0; i < 3; ++i) {
    m.run_on(0, [&] { KeInsertQueueDpc(&slow.dpc, nullptr, nullptr); });
    m.wait_until_quiescent();
  }
  const irqsim::MachineStats stats = m.statistics();
  ASSERT_EQ(stats.dpc_routines.size(), 1u);
  EXPECT_EQ(stats.dpc_routines[0].routine, AddressOf(reinterpret_cast<const void*>(&StallsOneMillisecond)));
  EXPECT_EQ(stats.dpc_routines[0].duration.count(), 3u);
  EXPECT_GE(stats.dpc_routines[0].duration.min(), 1ms);
  EXPECT_EQ(stats.processors.at(0).dpcs, 3u);
  EXPECT_GE(stats.processors[0].time_at_irql[DISPATCH_LEVEL], 3ms);
}

TEST(Statistics, AProcessorsTimesAddUpToTheMachinesUptime) {
  irqsim::Machine m({.processors = 2});
  PKINTERRUPT object = ConnectLatched(StallsTwoMilliseconds, nullptr, kVector, kIrql, kIrql);
  m.pulse(kVector);
  m.run_on(1, [] { KeStallExecutionProcessor(1000); });
  m.wait_until_quiescent();
  std::this_thread::sleep_for(5ms);
  const irqsim::MachineStats stats = m.statistics();
  for (const irqsim::ProcessorStats& processor : stats.processors) {
    EXPECT_EQ(processor.total(), stats.uptime);
    EXPECT_GT(processor.idle, 0ns);
  }
  EXPECT_GE(stats.processors.at(1).time_at_irql[PASSIVE_LEVEL], 1ms) << "the function run on it";
  IoDisconnectInterrupt(object);
}

// The statistics of processor 0 after a function run there stayed at DISPATCH_LEVEL for 2 ms,
// raised there by the driver itself.
irqsim::ProcessorStats AfterTwoMillisecondsRaisedToDispatch(irqsim::TraceRecording trace) {
  irqsim::Machine m({.processors = 1, .trace = trace});
  m.run_on(0, [] {
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    KeStallExecutionProcessor(2000);
    KeLowerIrql(old);
  });
  return m.statistics().processors.at(0);
}

TEST(Statistics, WithoutATraceADriversOwnRaiseCountsAtTheLevelItsFunctionRanAt) {
  const irqsim::ProcessorStats stats = AfterTwoMillisecondsRaisedToDispatch(irqsim::TraceRecording::Off);
  EXPECT_FALSE(stats.exact_irql_changes);
  EXPECT_GE(stats.time_at_irql[PASSIVE_LEVEL], 2ms);
  EXPECT_LT(stats.time_at_irql[DISPATCH_LEVEL], 2ms);
}

TEST(Statistics, WhileRecordingATraceEveryRaiseIsChargedToItsIrql) {
  const irqsim::ProcessorStats stats = AfterTwoMillisecondsRaisedToDispatch(irqsim::TraceRecording::On);
  EXPECT_TRUE(stats.exact_irql_changes);
  EXPECT_GE(stats.time_at_irql[DISPATCH_LEVEL], 2ms);
}

TEST(Statistics, VectorsAreListedWithTheDeviceLinesAndMessagesWiredToThem) {
  irqsim::Machine m({.processors = 2});
  irqsim::Device nic = m.plug({.name = "nic",
                               .message_kind = irqsim::MessageKind::MsiX,
                               .messages = {{.vector = 0x80, .irql = 8}, {.vector = 0x81, .irql = 8}}});
  nic.signal_message(1);
  m.pulse(0x90);
  const irqsim::MachineStats stats = m.statistics();
  const irqsim::VectorEntry* message = EntryFor(stats, 0x81);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(message->source, "nic message 1");
  EXPECT_EQ(message->stats.dropped, 1u) << "nothing is connected";
  ASSERT_NE(EntryFor(stats, 0x90), nullptr);
  EXPECT_EQ(EntryFor(stats, 0x90)->source, "test");
  EXPECT_EQ(EntryFor(stats, 0x80), nullptr) << "message 0 saw no activity";
  EXPECT_THAT(stats.summary(), HasSubstr("nic message 1"));
}

}  // namespace
