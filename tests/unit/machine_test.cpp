// The control API a test has over a simulated machine (include/irqsim/machine.hpp): running and
// posting work on processors, waiting for quiescence, driving interrupt lines, and the machine's
// lifetime.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr ULONG kVector = 0x51;
constexpr KIRQL kDeviceIrql = 5;
constexpr KIRQL kSyncIrql = 6;

struct BlockingDevice {
  Gate entered;
  Gate release;
  std::atomic<int> serviced{0};
};

// Stays in the ISR until the test releases it, so the interrupt is in service meanwhile.
BOOLEAN BlockingIsr(PKINTERRUPT Interrupt, PVOID Context) {
  UNREFERENCED_PARAMETER(Interrupt);
  auto* device = static_cast<BlockingDevice*>(Context);
  device->entered.open();
  device->release.wait();
  device->serviced.fetch_add(1);
  return TRUE;
}

// Connects `isr` to kVector at kDeviceIrql with SynchronizeIrql kSyncIrql on every processor.
PKINTERRUPT Connect(PKSERVICE_ROUTINE isr, void* context) {
  return ConnectLatched(isr, context, kVector, kDeviceIrql, kSyncIrql);
}

// ---- construction ---------------------------------------------------------------------------

TEST(MachineConfig, ProcessorCountOutsideOneToMaximumIsRejected) {
  EXPECT_THROW(irqsim::Machine({.processors = 0}), std::invalid_argument);
  EXPECT_THROW(irqsim::Machine({.processors = irqsim::Machine::kMaxProcessors + 1}), std::invalid_argument);
}

TEST(MachineConfig, GroupSizeOutsideOneToSixtyFourIsRejected) {
  EXPECT_THROW(irqsim::Machine({.processors = 2, .processors_per_group = 0}), std::invalid_argument);
  EXPECT_THROW(irqsim::Machine({.processors = 2, .processors_per_group = 65}), std::invalid_argument);
}

TEST(MachineConfig, NegativeIdleSpinIsRejected) {
  EXPECT_THROW(irqsim::Machine({.idle_spin = -1us}), std::invalid_argument);
}

// Parking at once and polling for an hour are both only a matter of speed: interrupts are
// delivered, and the machine shuts down promptly either way.
TEST(MachineConfig, ProcessorsThatParkAtOnceOrKeepPollingBothTakeInterrupts) {
  for (const std::chrono::microseconds idle_spin : {std::chrono::microseconds(0), std::chrono::microseconds(1h)}) {
    irqsim::Machine m({.processors = 2, .idle_spin = idle_spin});
    IsrRecord isr;
    PKINTERRUPT object = Connect(RecordingIsr, &isr);
    for (int i = 0; i < 20; ++i) {
      m.pulse(kVector);
      m.wait_until_quiescent();
    }
    EXPECT_EQ(isr.runs.load(), 20) << "idle_spin " << idle_spin.count() << " us";
    IoDisconnectInterrupt(object);
  }
}

TEST(MachineConfig, ReportsItsProcessors) {
  irqsim::Machine m({.processors = 3});
  EXPECT_EQ(m.processor_count(), 3u);
  EXPECT_EQ(m.active_processors(), 0b111u);
}

// ---- run_on ---------------------------------------------------------------------------------

TEST(RunOn, ReturnsAnInt) {
  irqsim::Machine m({.processors = 2});
  EXPECT_EQ(m.run_on(1, [] { return 42; }), 42);
}

TEST(RunOn, ReturnsAString) {
  irqsim::Machine m({.processors = 2});
  const std::string result = m.run_on(0, [] { return std::string("from processor 0"); });
  EXPECT_EQ(result, "from processor 0");
}

TEST(RunOn, ReturnsAMoveOnlyValue) {
  irqsim::Machine m({.processors = 2});
  std::unique_ptr<int> result = m.run_on(1, [] { return std::make_unique<int>(7); });
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(*result, 7);
}

TEST(RunOn, RunsAVoidFunctionToCompletionBeforeReturning) {
  irqsim::Machine m({.processors = 2});
  int value = 0;  // deliberately not atomic: run_on must synchronise with the caller
  m.run_on(1, [&value] { value = 5; });
  EXPECT_EQ(value, 5);
}

TEST(RunOn, RunsOnTheRequestedProcessorAtPassiveLevel) {
  irqsim::Machine m({.processors = 4});
  const auto test_thread = std::this_thread::get_id();
  for (unsigned p = 0; p < 4; ++p) {
    struct Seen {
      ULONG processor;
      KIRQL irql;
      bool other_thread;
    };
    const Seen seen = m.run_on(p, [test_thread] {
      return Seen{KeGetCurrentProcessorNumber(), KeGetCurrentIrql(), std::this_thread::get_id() != test_thread};
    });
    EXPECT_EQ(seen.processor, p);
    EXPECT_EQ(seen.irql, PASSIVE_LEVEL);
    EXPECT_TRUE(seen.other_thread);
  }
}

TEST(RunOn, RethrowsAnExceptionWithItsMessage) {
  irqsim::Machine m({.processors = 2});
  try {
    m.run_on(1, []() -> int { throw std::runtime_error("device not ready"); });
    FAIL() << "run_on did not rethrow";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "device not ready");
  }
}

TEST(RunOn, ProcessorKeepsWorkingAtPassiveLevelAfterAnException) {
  irqsim::Machine m({.processors = 2});
  // The function leaves a raised IRQL behind as it unwinds; that state dies with its frames.
  EXPECT_THROW(m.run_on(1,
                        [] {
                          RaiseTo(DISPATCH_LEVEL);
                          throw std::runtime_error("unwinding at DISPATCH_LEVEL");
                        }),
               std::runtime_error);
  EXPECT_EQ(m.run_on(1, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
  EXPECT_EQ(m.run_on(1, [] { return KeGetCurrentProcessorNumber(); }), 1u);
  EXPECT_FALSE(m.halted());
}

TEST(RunOn, FromInsideAProcessorThrowsLogicError) {
  irqsim::Machine m({.processors = 2});
  std::atomic<bool> inner_ran{false};
  EXPECT_THROW(m.run_on(0, [&] { m.run_on(1, [&] { inner_ran = true; }); }), std::logic_error);
  EXPECT_FALSE(inner_ran);
  EXPECT_EQ(m.run_on(1, [] { return 3; }), 3);
}

TEST(RunOn, FromAPostedFunctionThrowsLogicError) {
  irqsim::Machine m({.processors = 2});
  std::atomic<bool> caught{false};
  m.post(0, [&] {
    try {
      m.run_on(1, [] {});
    } catch (const std::logic_error&) {
      caught = true;
    }
  });
  m.wait_until_quiescent();
  EXPECT_TRUE(caught);
}

TEST(RunOn, NonexistentProcessorThrowsOutOfRange) {
  irqsim::Machine m({.processors = 2});
  EXPECT_THROW(m.run_on(2, [] {}), std::out_of_range);
  EXPECT_THROW(m.post(2, [] {}), std::out_of_range);
  m.wait_until_quiescent();  // the rejected work left nothing outstanding
}

// ---- post -----------------------------------------------------------------------------------

TEST(Post, WaitUntilQuiescentReturnsAfterEveryPostedFunctionRan) {
  constexpr unsigned kProcessors = 4;
  constexpr int kPosts = 1000;
  irqsim::Machine m({.processors = kProcessors});
  std::atomic<int> ran{0};
  std::atomic<int> wrong_processor{0};
  for (int i = 0; i < kPosts; ++i) {
    const unsigned p = static_cast<unsigned>(i) % kProcessors;
    m.post(p, [&ran, &wrong_processor, p] {
      if (KeGetCurrentProcessorNumber() != p || KeGetCurrentIrql() != PASSIVE_LEVEL) ++wrong_processor;
      ++ran;
    });
  }
  m.wait_until_quiescent();
  EXPECT_EQ(ran.load(), kPosts);
  EXPECT_EQ(wrong_processor.load(), 0);
}

TEST(Post, ExceptionIsRethrownByTheNextWaitUntilQuiescentOnly) {
  irqsim::Machine m({.processors = 2});
  m.post(1, [] { throw std::runtime_error("posted failure"); });
  try {
    m.wait_until_quiescent();
    FAIL() << "wait_until_quiescent did not rethrow the posted exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "posted failure");
  }
  EXPECT_NO_THROW(m.wait_until_quiescent());
  EXPECT_EQ(m.run_on(1, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
}

TEST(Post, WaitUntilQuiescentTimesOutWhileAPostedFunctionIsBlocked) {
  irqsim::Machine m({.processors = 2});
  Latch release(1);
  std::atomic<bool> finished{false};
  m.post(0, [&] {
    release.wait();
    finished = true;
  });
  try {
    m.wait_until_quiescent(20ms);
    FAIL() << "wait_until_quiescent returned while a posted function was blocked";
  } catch (const irqsim::TimeoutError& error) {
    EXPECT_THAT(error.what(), HasSubstr("still busy"));
  }
  release.count_down();
  m.wait_until_quiescent();
  EXPECT_TRUE(finished);
}

// ---- interrupts and quiescence --------------------------------------------------------------

TEST(Quiescence, WaitsForEveryPulsedInterrupt) {
  irqsim::Machine m({.processors = 2});
  IsrRecord isr;
  PKINTERRUPT object = Connect(RecordingIsr, &isr);
  constexpr int kPulses = 200;
  for (int i = 0; i < kPulses; ++i) m.pulse(kVector);
  m.wait_until_quiescent();
  // Edges that arrive while one is still pending merge with it, so fewer ISR calls is fine,
  // but every call that happened is accounted for and nothing is left pending.
  const int serviced = isr.runs.load();
  EXPECT_GE(serviced, 1);
  EXPECT_LE(serviced, kPulses);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.claimed, static_cast<std::uint64_t>(serviced));
  EXPECT_EQ(stats.deliveries, stats.claimed);
  EXPECT_EQ(stats.unclaimed, 0u);
  EXPECT_EQ(m.interrupts_taken(0) + m.interrupts_taken(1), stats.deliveries);
  IoDisconnectInterrupt(object);
}

TEST(Quiescence, EachPulseAfterQuiescenceIsServicedExactlyOnce) {
  irqsim::Machine m({.processors = 2});
  IsrRecord isr;
  PKINTERRUPT object = Connect(RecordingIsr, &isr);
  for (int i = 1; i <= 20; ++i) {
    m.pulse(kVector);
    m.wait_until_quiescent();
    ASSERT_EQ(isr.runs.load(), i);
  }
  EXPECT_EQ(m.stats(kVector).claimed, 20u);
  IoDisconnectInterrupt(object);
}

TEST(Quiescence, TimesOutWhileAnIsrIsStillRunning) {
  irqsim::Machine m({.processors = 2});
  BlockingDevice device;
  PKINTERRUPT object = Connect(BlockingIsr, &device);
  m.pulse(kVector);
  device.entered.wait();
  EXPECT_THROW(m.wait_until_quiescent(20ms), irqsim::TimeoutError);
  device.release.open();
  m.wait_until_quiescent();
  EXPECT_EQ(device.serviced.load(), 1);
  IoDisconnectInterrupt(object);
}

// ---- edges while the vector is in service -----------------------------------------------------

// Raises the next edge the moment the ISR has counted the previous one, so most edges arrive
// while the vector is still in service or ending it. Returns false if one was lost (its ISR
// call did not come within a generous deadline).
bool EveryEdgeRaisedDuringServiceIsDelivered(irqsim::Machine& m, const IsrRecord& isr, int edges) {
  for (int i = 1; i <= edges; ++i) {
    m.pulse(kVector);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (isr.runs.load() < i) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
  }
  return true;
}

TEST(EdgesDuringService, AnEdgeWhileTheOnlyProcessorOfTheVectorServesItIsTakenAfterIt) {
  irqsim::Machine m({.processors = 2});
  IsrRecord isr;
  PKINTERRUPT object = ConnectLatched(RecordingIsr, &isr, kVector, kDeviceIrql, kSyncIrql, 0b10);
  EXPECT_TRUE(EveryEdgeRaisedDuringServiceIsDelivered(m, isr, 5000));
  m.wait_until_quiescent();
  EXPECT_EQ(isr.processor.load(), 1);
  EXPECT_EQ(m.stats(kVector).deliveries, static_cast<std::uint64_t>(isr.runs.load()));
  IoDisconnectInterrupt(object);
}

TEST(EdgesDuringService, EdgesRaisedBackToBackOnAVectorOfTwoProcessorsAreNotLost) {
  irqsim::Machine m({.processors = 2});
  IsrRecord isr;
  PKINTERRUPT object = Connect(RecordingIsr, &isr);
  EXPECT_TRUE(EveryEdgeRaisedDuringServiceIsDelivered(m, isr, 5000));
  m.wait_until_quiescent();
  EXPECT_EQ(m.stats(kVector).deliveries, static_cast<std::uint64_t>(isr.runs.load()));
  IoDisconnectInterrupt(object);
}

TEST(EdgesDuringService, AnEdgeWhileOneProcessorServesTheVectorGoesToAnotherProcessorOfItsAffinity) {
  irqsim::Machine m({.processors = 2});
  BlockingDevice device;
  PKINTERRUPT object = Connect(BlockingIsr, &device);
  m.pulse(kVector);
  device.entered.wait();
  m.pulse(kVector);
  // The second edge does not wait for the first ISR: the other processor takes it, and both
  // ISR calls finish once released.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (m.stats(kVector).deliveries < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(m.stats(kVector).deliveries, 2u);
  device.release.open();
  m.wait_until_quiescent();
  EXPECT_EQ(device.serviced.load(), 2);
  EXPECT_EQ(m.interrupts_taken(0), 1u);
  EXPECT_EQ(m.interrupts_taken(1), 1u);
  IoDisconnectInterrupt(object);
}

// ---- lines and masking ----------------------------------------------------------------------

TEST(Lines, LineAssertedReflectsAssertAndDeassert) {
  irqsim::Machine m({.processors = 2});
  EXPECT_FALSE(m.line_asserted(0x60));
  m.assert_line(0x60);
  EXPECT_TRUE(m.line_asserted(0x60));
  EXPECT_FALSE(m.line_asserted(0x61));
  m.deassert_line(0x60);
  EXPECT_FALSE(m.line_asserted(0x60));
}

TEST(Lines, MaskedPulsesStayPendingAndMergeIntoOneDeliveryOnUnmask) {
  irqsim::Machine m({.processors = 2});
  IsrRecord isr;
  PKINTERRUPT object = Connect(RecordingIsr, &isr);
  m.mask(kVector);
  m.pulse(kVector);
  m.pulse(kVector);
  m.pulse(kVector);
  m.wait_until_quiescent();  // a masked interrupt cannot be delivered, so it does not count
  EXPECT_EQ(isr.runs.load(), 0);
  EXPECT_EQ(m.stats(kVector).deliveries, 0u);
  m.unmask(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs.load(), 1);
  EXPECT_EQ(m.stats(kVector).claimed, 1u);
  IoDisconnectInterrupt(object);
}

TEST(Lines, VectorOutOfRangeThrowsOutOfRange) {
  irqsim::Machine m({.processors = 1});
  EXPECT_THROW(m.pulse(irqsim::Machine::kVectorCount), std::out_of_range);
  EXPECT_THROW(m.assert_line(256), std::out_of_range);
  EXPECT_THROW(m.deassert_line(256), std::out_of_range);
  EXPECT_THROW((void)m.line_asserted(256), std::out_of_range);
  EXPECT_THROW(m.mask(256), std::out_of_range);
  EXPECT_THROW(m.unmask(256), std::out_of_range);
  EXPECT_THROW((void)m.stats(256), std::out_of_range);
  EXPECT_NO_THROW(m.pulse(255));  // the last vector exists
  m.wait_until_quiescent();
}

// ---- lifetime -------------------------------------------------------------------------------

TEST(Lifetime, DestructionWaitsForRunningPostedWorkThatFinishesSoon) {
  constexpr unsigned kProcessors = 2;
  Gate go;
  std::atomic<int> finished{0};
  Latch started(kProcessors);
  {
    irqsim::Machine m({.processors = kProcessors});
    for (unsigned p = 0; p < kProcessors; ++p) {
      m.post(p, [&] {
        started.count_down();
        go.wait();
        ++finished;
      });
      m.post(p, [&] { ++finished; });  // queued behind: may run or be dropped at shutdown
    }
    started.wait();
    go.open();
  }
  // The functions already running were allowed to complete before the threads were joined.
  EXPECT_GE(finished.load(), static_cast<int>(kProcessors));
  EXPECT_LE(finished.load(), static_cast<int>(2 * kProcessors));
}

TEST(Lifetime, DestructionUnwindsDriverCodeThatKeepsCallingTheWdk) {
  std::atomic<int> unwound{0};
  Latch started(2);
  {
    irqsim::Machine m({.processors = 2});
    for (unsigned p = 0; p < 2; ++p) {
      m.post(p, [&] {
        struct CountUnwind {
          std::atomic<int>& counter;
          ~CountUnwind() { ++counter; }
        } guard{unwound};
        started.count_down();
        for (;;) (void)KeGetCurrentIrql();  // a preemption point: stopping the machine ends it
      });
    }
    started.wait();
  }
  EXPECT_EQ(unwound.load(), 2);
}

TEST(Lifetime, MachinesInSequenceAreIndependent) {
  {
    irqsim::Machine first({.processors = 2});
    IsrRecord isr;
    (void)Connect(RecordingIsr, &isr);  // left connected: destruction frees it
    first.pulse(kVector);
    first.wait_until_quiescent();
    EXPECT_EQ(isr.runs.load(), 1);
    RaiseTo(DISPATCH_LEVEL);  // the test thread's IRQL on the first machine
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    const auto report = irqsim::testing::bug_check_from([] { KeBugCheck(0xE2); });
    ASSERT_TRUE(report.has_value());
    EXPECT_TRUE(first.halted());
  }
  irqsim::Machine second({.processors = 3});
  EXPECT_FALSE(second.halted());
  EXPECT_FALSE(second.bug_check().has_value());
  EXPECT_EQ(second.stats(kVector).deliveries, 0u);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 3u);
  EXPECT_EQ(second.run_on(2, [] { return KeGetCurrentProcessorNumber(); }), 2u);
  // The vector is free again: a fresh connection on the new machine succeeds.
  IsrRecord isr;
  PKINTERRUPT object = Connect(RecordingIsr, &isr);
  second.pulse(kVector);
  second.wait_until_quiescent();
  EXPECT_EQ(isr.runs.load(), 1);
  IoDisconnectInterrupt(object);
}

TEST(Lifetime, TestThreadActsOnTheNewestLiveMachine) {
  irqsim::Machine older({.processors = 2});
  {
    irqsim::Machine newer({.processors = 3});
    EXPECT_EQ(KeQueryMaximumProcessorCount(), 3u);
  }
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 2u);
  EXPECT_EQ(older.run_on(1, [] { return KeQueryMaximumProcessorCount(); }), 2u);
}

}  // namespace
