// Tearing a machine down while drivers still hold resources (include/irqsim/leak_report.hpp):
// interrupts left connected, DPCs left queued and spin locks left held are reported, the way
// Driver Verifier checks a driver that unloads, and the teardown never hangs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <cstdint>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using ::testing::HasSubstr;

constexpr ULONG kVector = 0x5A;
constexpr KIRQL kIrql = 5;

// Collects what teardowns report while it lives, instead of failing the test.
class CapturedLeaks {
 public:
  CapturedLeaks()
      : previous_(irqsim::set_leak_handler([this](const irqsim::LeakReport& leaks) { reports.push_back(leaks); })) {}
  ~CapturedLeaks() { irqsim::set_leak_handler(previous_); }
  CapturedLeaks(const CapturedLeaks&) = delete;
  CapturedLeaks& operator=(const CapturedLeaks&) = delete;

  std::vector<irqsim::LeakReport> reports;

 private:
  irqsim::LeakHandler previous_;
};

BOOLEAN Claims(PKINTERRUPT, PVOID) { return TRUE; }
VOID NeverRuns(PKDPC, PVOID, PVOID, PVOID) {}

// What a driver's stop path might leave behind: its interrupt connected, and on processor 1 a
// DPC queued and a spin lock held by code that is still running (at DISPATCH_LEVEL, so the DPC
// cannot run) when the machine goes away.
struct Forgetful {
  KSPIN_LOCK lock = 0;
  KDPC dpc{};
  PKINTERRUPT interrupt = nullptr;

  void leave_everything_behind(irqsim::Machine& m) {
    interrupt = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
    KeInitializeSpinLock(&lock);
    KeInitializeDpc(&dpc, NeverRuns, nullptr);
    KeSetTargetProcessorDpc(&dpc, 1);
    Latch holding(1);
    m.post(1, [&] {
      KIRQL old;
      KeAcquireSpinLock(&lock, &old);
      KeInsertQueueDpc(&dpc, nullptr, nullptr);
      holding.count_down();
      for (;;) KeStallExecutionProcessor(10);  // a preemption point: the teardown ends it
    });
    holding.wait();
  }
};

TEST(Teardown, ReportsTheConnectedInterruptTheQueuedDpcAndTheHeldLockAndDoesNotHang) {
  CapturedLeaks captured;
  Forgetful driver;
  {
    irqsim::Machine m({.processors = 2});
    driver.leave_everything_behind(m);
  }
  ASSERT_EQ(captured.reports.size(), 1u);
  const irqsim::LeakReport& leaks = captured.reports[0];
  ASSERT_EQ(leaks.interrupts.size(), 1u);
  EXPECT_EQ(leaks.interrupts[0].interrupt_object, AddressOf(driver.interrupt));
  EXPECT_EQ(leaks.interrupts[0].vector, kVector);
  EXPECT_EQ(leaks.interrupts[0].service_routine, AddressOf(reinterpret_cast<const void*>(&Claims)));
  ASSERT_EQ(leaks.dpcs.size(), 1u);
  EXPECT_EQ(leaks.dpcs[0].processor, 1u);
  EXPECT_EQ(leaks.dpcs[0].dpc, AddressOf(&driver.dpc));
  EXPECT_EQ(leaks.dpcs[0].deferred_routine, AddressOf(reinterpret_cast<const void*>(&NeverRuns)));
  ASSERT_EQ(leaks.locks.size(), 1u);
  EXPECT_EQ(leaks.locks[0].processor, 1u);
  EXPECT_EQ(leaks.locks[0].irql, DISPATCH_LEVEL);
  EXPECT_EQ(leaks.locks[0].count, 1u);
  const std::string text = leaks.to_string();
  EXPECT_THAT(text, HasSubstr("still connected to vector 0x5a"));
  EXPECT_THAT(text, HasSubstr("still queued on processor 1"));
  EXPECT_THAT(text, HasSubstr("1 spin lock of IRQL 2 still held on processor 1"));
}

TEST(Teardown, CheckLeaksReportsWhileTheMachineRunsAndTheTeardownThenStaysQuiet) {
  CapturedLeaks captured;
  {
    irqsim::Machine m({.processors = 2});
    PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
    const irqsim::LeakReport leaks = m.check_leaks();
    ASSERT_EQ(leaks.interrupts.size(), 1u);
    EXPECT_EQ(leaks.interrupts[0].interrupt_object, AddressOf(object));
    EXPECT_TRUE(leaks.dpcs.empty());
    EXPECT_TRUE(leaks.locks.empty());
  }
  EXPECT_TRUE(captured.reports.empty());
}

TEST(Teardown, AMachineThatCleanedUpReportsNothing) {
  CapturedLeaks captured;
  {
    irqsim::Machine m({.processors = 2});
    PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
    m.pulse(kVector);
    m.wait_until_quiescent();
    IoDisconnectInterrupt(object);
    EXPECT_TRUE(m.check_leaks().empty());
  }
  EXPECT_TRUE(captured.reports.empty());
}

// After a bug check the driver's frames were unwound wherever they were: what they held belongs
// to the crash, which has its own report.
TEST(Teardown, AMachineThatBugCheckedIsNotCheckedForLeaks) {
  CapturedLeaks captured;
  {
    irqsim::Machine m({.processors = 2});
    ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
    IRQSIM_EXPECT_BUGCHECK(m.run_on(0, [] { KeBugCheckEx(0xE2, 0, 0, 0, 0); }), 0xE2);
  }
  EXPECT_TRUE(captured.reports.empty());
}

}  // namespace
