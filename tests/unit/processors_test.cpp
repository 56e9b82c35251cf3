// Processor numbers and counts (KeGetCurrentProcessorNumber(Ex), KeQueryActiveProcessorCount(Ex),
// KeQueryActiveProcessors, KeQueryMaximumProcessorCount) and the machine's configuration and
// lifetime as the WDK routines see it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"
#include "platform/process_usage.hpp"

namespace {

using namespace irqsim_test;
using ::testing::HasSubstr;

constexpr ULONG kVector = 0x72;
constexpr KIRQL kDeviceIrql = 6;

std::string what_of(const std::exception& error) { return error.what(); }

// ---- KeGetCurrentProcessorNumber(Ex) --------------------------------------------------------

TEST(KeGetCurrentProcessorNumber, ReturnsTheIndexOfEachProcessor) {
  irqsim::Machine m({.processors = 8});
  for (unsigned p = 0; p < 8; ++p) {
    EXPECT_EQ(m.run_on(p, [] { return KeGetCurrentProcessorNumber(); }), p);
  }
}

TEST(KeGetCurrentProcessorNumber, ReturnsTheLastIndexOnA64ProcessorMachine) {
  irqsim::Machine m({.processors = 64});
  EXPECT_EQ(m.run_on(63, [] { return KeGetCurrentProcessorNumber(); }), 63u);
  EXPECT_EQ(m.run_on(32, [] { return KeGetCurrentProcessorNumber(); }), 32u);
}

TEST(KeGetCurrentProcessorNumber, IsZeroOnTheTestThread) {
  irqsim::Machine m({.processors = 4});
  EXPECT_EQ(KeGetCurrentProcessorNumber(), 0u);
}

TEST(KeGetCurrentProcessorNumber, NamesTheProcessorAnIsrRunsOn) {
  irqsim::Machine m({.processors = 4});
  IsrRecord isr;
  PKINTERRUPT object = ConnectLatched(RecordingIsr, &isr, kVector, kDeviceIrql, kDeviceIrql, KAFFINITY{1} << 2);
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs, 1);
  EXPECT_EQ(isr.processor, 2);
  IoDisconnectInterrupt(object);
}

TEST(KeGetCurrentProcessorNumberEx, FillsGroupZeroAndTheNumberOnEachProcessor) {
  irqsim::Machine m({.processors = 6});
  for (unsigned p = 0; p < 6; ++p) {
    const auto [returned, number] = m.run_on(p, [] {
      PROCESSOR_NUMBER n;
      n.Group = 0xABCD;  // garbage the call must overwrite
      n.Number = 0xEE;
      n.Reserved = 0x77;
      const ULONG r = KeGetCurrentProcessorNumberEx(&n);
      return std::pair{r, n};
    });
    EXPECT_EQ(returned, p);
    EXPECT_EQ(number.Group, 0u) << "processor " << p;
    EXPECT_EQ(number.Number, p);
    EXPECT_EQ(number.Reserved, 0u);
  }
}

TEST(KeGetCurrentProcessorNumberEx, AcceptsANullPointer) {
  irqsim::Machine m({.processors = 4});
  EXPECT_EQ(m.run_on(3, [] { return KeGetCurrentProcessorNumberEx(nullptr); }), 3u);
}

TEST(KeGetCurrentProcessorNumberEx, IsZeroOnTheTestThread) {
  irqsim::Machine m({.processors = 4});
  PROCESSOR_NUMBER n;
  n.Group = 0xABCD;
  n.Number = 0xEE;
  n.Reserved = 0x77;
  EXPECT_EQ(KeGetCurrentProcessorNumberEx(&n), 0u);
  EXPECT_EQ(n.Group, 0u);
  EXPECT_EQ(n.Number, 0u);
  EXPECT_EQ(n.Reserved, 0u);
}

// ---- processor counts and masks -----------------------------------------------------------

TEST(KeQueryActiveProcessorCount, ReturnsTheCountAndTheMask) {
  irqsim::Machine m({.processors = 5});
  KAFFINITY mask = 0xDEAD'BEEF'0000'0000;
  EXPECT_EQ(KeQueryActiveProcessorCount(&mask), 5u);
  EXPECT_EQ(mask, KAFFINITY{0x1F});
  EXPECT_EQ(KeQueryActiveProcessorCount(nullptr), 5u);
}

TEST(KeQueryActiveProcessorCount, WorksOnAProcessorAtHighLevel) {
  irqsim::Machine m({.processors = 3});
  const auto [count, mask] = m.run_on(2, [] {
    const KIRQL old = RaiseTo(HIGH_LEVEL);
    KAFFINITY active = 0;
    const ULONG n = KeQueryActiveProcessorCount(&active);
    KeLowerIrql(old);
    return std::pair{n, active};
  });
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(mask, KAFFINITY{0x7});
  EXPECT_FALSE(m.halted());
}

TEST(KeQueryActiveProcessorCountEx, CountsGroupZeroAndAllGroupsButNoOtherGroup) {
  irqsim::Machine m({.processors = 7});
  EXPECT_EQ(KeQueryActiveProcessorCountEx(0), 7u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), 7u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(1), 0u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(3), 0u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(0xFFFE), 0u);
  EXPECT_EQ(m.run_on(6, [] { return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS); }), 7u);
}

TEST(KeQueryActiveProcessors, ReturnsTheMaskAtPassiveAndApcLevel) {
  irqsim::Machine m({.processors = 4});
  EXPECT_EQ(KeQueryActiveProcessors(), KAFFINITY{0xF});
  const KAFFINITY at_apc = m.run_on(1, [] {
    const KIRQL old = RaiseTo(APC_LEVEL);
    const KAFFINITY mask = KeQueryActiveProcessors();
    KeLowerIrql(old);
    return mask;
  });
  EXPECT_EQ(at_apc, KAFFINITY{0xF});
  EXPECT_EQ(at_apc, m.active_processors());
}

TEST(KeQueryActiveProcessors, AboveApcLevelBugChecks0xC4WithIrqlKeApcLte1) {
  irqsim::Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] {
    (void)KeRaiseIrqlToDpcLevel();
    (void)KeQueryActiveProcessors();
  });
  // DDI-compliance bug checks point to a description of the broken rule.
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlKeApcLte1),
                                     DdiRuleTextMentions("IrqlKeApcLte1"), OnProcessor(1), AtIrql(DISPATCH_LEVEL),
                                     RuleMentions("KeQueryActiveProcessors"))));
}

TEST(KeQueryActiveProcessors, AboveApcLevelOnTheTestThreadBugChecks0xC4WithIrqlKeApcLte1) {
  irqsim::Machine m({.processors = 1});
  RaiseTo(9);
  const auto report = bug_check_from([] { (void)KeQueryActiveProcessors(); });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlKeApcLte1), OnTestThread())));
}

TEST(KeQueryMaximumProcessorCount, IsTheMachinesProcessorCount) {
  irqsim::Machine m({.processors = 12});
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 12u);
  EXPECT_EQ(m.run_on(11, [] { return KeQueryMaximumProcessorCount(); }), 12u);
}

// ---- machine configuration ----------------------------------------------------------------

TEST(MachineConfiguration, OneProcessorMachineWorks) {
  irqsim::Machine m({.processors = 1});
  EXPECT_EQ(m.processor_count(), 1u);
  EXPECT_EQ(m.active_processors(), 1u);
  KAFFINITY mask = 0;
  EXPECT_EQ(KeQueryActiveProcessorCount(&mask), 1u);
  EXPECT_EQ(mask, KAFFINITY{1});
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 1u);
  EXPECT_EQ(m.run_on(0, [] { return KeGetCurrentProcessorNumber(); }), 0u);
}

TEST(MachineConfiguration, SixtyFourProcessorMachineHasAllOnesActiveMask) {
  irqsim::Machine m({.processors = 64});
  EXPECT_EQ(m.processor_count(), 64u);
  EXPECT_EQ(m.active_processors(), ~std::uint64_t{0});
  KAFFINITY mask = 0;
  EXPECT_EQ(KeQueryActiveProcessorCount(&mask), 64u);
  EXPECT_EQ(mask, ~KAFFINITY{0});
  EXPECT_EQ(KeQueryActiveProcessors(), ~KAFFINITY{0});
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 64u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), 64u);
}

TEST(MachineConfiguration, ZeroProcessorsIsRejected) {
  EXPECT_THROW({ irqsim::Machine m({.processors = 0}); }, std::invalid_argument);
}

TEST(MachineConfiguration, MoreThanTheMaximumProcessorsIsRejected) {
  try {
    irqsim::Machine m({.processors = 257});
    ADD_FAILURE() << "a 257-processor machine was created";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(what_of(error), HasSubstr("257"));
  }
}

TEST(MachineConfiguration, RejectedMachineLeavesNoMachineBehind) {
  EXPECT_THROW({ irqsim::Machine m({.processors = 257}); }, std::invalid_argument);
  EXPECT_THROW((void)KeGetCurrentIrql(), std::logic_error);
}

// ---- processor groups ----------------------------------------------------------------------

TEST(ProcessorGroups, AMachineLargerThanAGroupSpansGroups) {
  irqsim::Machine m({.processors = 6, .processors_per_group = 4});
  EXPECT_EQ(m.group_count(), 2u);
  EXPECT_EQ(m.active_processors(0), 0xFu);
  EXPECT_EQ(m.active_processors(1), 0x3u);
  EXPECT_EQ(m.active_processors(2), 0u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(0), 4u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(1), 2u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(2), 0u);
  EXPECT_EQ(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), 6u);
}

TEST(ProcessorGroups, LegacyQueriesDescribeGroupZero) {
  irqsim::Machine m({.processors = 6, .processors_per_group = 4});
  KAFFINITY mask = 0;
  EXPECT_EQ(KeQueryActiveProcessorCount(&mask), 4u);
  EXPECT_EQ(mask, 0xFu);
  EXPECT_EQ(KeQueryActiveProcessors(), 0xFu);
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 4u);
}

TEST(ProcessorGroups, KeGetCurrentProcessorNumberExGivesGroupNumberAndSystemIndex) {
  irqsim::Machine m({.processors = 6, .processors_per_group = 4});
  for (unsigned p = 0; p < 6; ++p) {
    PROCESSOR_NUMBER number{};
    const ULONG index = m.run_on(p, [&] { return KeGetCurrentProcessorNumberEx(&number); });
    EXPECT_EQ(index, p);
    EXPECT_EQ(number.Group, p / 4);
    EXPECT_EQ(number.Number, p % 4);
  }
}

// The documented compatibility rule: group 0 gets its group-relative number, other groups a
// number below group 0's processor count.
TEST(ProcessorGroups, KeGetCurrentProcessorNumberStaysBelowGroupZeroCount) {
  irqsim::Machine m({.processors = 7, .processors_per_group = 3});
  for (unsigned p = 0; p < 7; ++p) {
    const ULONG number = m.run_on(p, [] { return KeGetCurrentProcessorNumber(); });
    if (p < 3) {
      EXPECT_EQ(number, p);
    } else {
      EXPECT_LT(number, 3u);
    }
  }
}

TEST(ProcessorGroups, TheLargestMachineHasFourFullGroups) {
  irqsim::Machine m({.processors = irqsim::Machine::kMaxProcessors});
  EXPECT_EQ(m.group_count(), 4u);
  for (std::uint16_t group = 0; group < 4; ++group) EXPECT_EQ(m.active_processors(group), ~std::uint64_t{0});
  EXPECT_EQ(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), 256u);
  PROCESSOR_NUMBER number{};
  EXPECT_EQ(m.run_on(255, [&] { return KeGetCurrentProcessorNumberEx(&number); }), 255u);
  EXPECT_EQ(number.Group, 3u);
  EXPECT_EQ(number.Number, 63u);
}

// IoConnectInterrupt predates processor groups: its ProcessorEnableMask names group 0.
TEST(ProcessorGroups, IoConnectInterruptConnectsInGroupZero) {
  irqsim::Machine m({.processors = 6, .processors_per_group = 3});
  IsrRecord isr;
  PKINTERRUPT object = ConnectLatched(RecordingIsr, &isr, 0x52, 5, 5, static_cast<KAFFINITY>(-1));
  for (int i = 0; i < 60; ++i) {
    m.pulse(0x52);
    m.wait_until_quiescent();
  }
  for (unsigned p = 3; p < 6; ++p) EXPECT_EQ(m.interrupts_taken(p), 0u) << "processor " << p;
  EXPECT_EQ(m.interrupts_taken(0) + m.interrupts_taken(1) + m.interrupts_taken(2), 60u);
  IoDisconnectInterrupt(object);
}

// ---- machine lifetime ---------------------------------------------------------------------

TEST(MachineLifetime, WdkCallWithNoMachineThrowsLogicError) {
  EXPECT_THROW((void)KeGetCurrentIrql(), std::logic_error);
  EXPECT_THROW((void)KeQueryActiveProcessorCount(nullptr), std::logic_error);
  EXPECT_THROW((void)KeGetCurrentProcessorNumber(), std::logic_error);
}

TEST(MachineLifetime, WdkCallAfterTheLastMachineIsDestroyedThrowsLogicError) {
  { irqsim::Machine m({.processors = 2}); }
  try {
    (void)KeQueryMaximumProcessorCount();
    ADD_FAILURE() << "a WDK call succeeded with no machine alive";
  } catch (const std::logic_error& error) {
    EXPECT_THAT(what_of(error), HasSubstr("Machine"));
  }
}

TEST(MachineLifetime, TestThreadActsOnTheNewestMachine) {
  irqsim::Machine older({.processors = 3});
  {
    irqsim::Machine newer({.processors = 5});
    EXPECT_EQ(KeQueryActiveProcessorCount(nullptr), 5u);
  }
  EXPECT_EQ(KeQueryActiveProcessorCount(nullptr), 3u);
  EXPECT_EQ(KeQueryMaximumProcessorCount(), 3u);
}

TEST(MachineLifetime, ManyMachinesInSequenceEachStartClean) {
  constexpr int kMachines = 200;
  IsrRecord isr;
  for (int i = 0; i < kMachines; ++i) {
    irqsim::Machine m({.processors = 4});
    ASSERT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "machine " << i;
    ASSERT_EQ(KeQueryActiveProcessorCount(nullptr), 4u) << "machine " << i;
    // A non-shared vector: this connection would fail if the previous machine's object,
    // never disconnected, still existed here.
    PKINTERRUPT object = nullptr;
    ASSERT_EQ(IoConnectInterrupt(&object, RecordingIsr, &isr, nullptr, kVector, kDeviceIrql, kDeviceIrql, Latched,
                                 FALSE, 0xF, FALSE),
              STATUS_SUCCESS)
        << "machine " << i;
    m.pulse(kVector);
    m.wait_until_quiescent();
    ASSERT_EQ(m.stats(kVector).deliveries, 1u) << "machine " << i;
    ASSERT_EQ(isr.runs, i + 1) << "machine " << i;
    // Leave both the interrupt connected and the test thread raised for the next machine; the
    // teardown check reports the connection.
    RaiseTo(DISPATCH_LEVEL);
    const irqsim::LeakReport leaks = m.check_leaks();
    ASSERT_EQ(leaks.interrupts.size(), 1u) << "machine " << i;
    EXPECT_EQ(leaks.interrupts[0].interrupt_object, reinterpret_cast<std::uintptr_t>(object));
    EXPECT_EQ(leaks.interrupts[0].vector, kVector);
  }
}

TEST(MachineLifetime, RunOnAProcessorOutOfRangeThrowsOutOfRange) {
  irqsim::Machine m({.processors = 4});
  EXPECT_THROW(m.run_on(4, [] {}), std::out_of_range);
  EXPECT_THROW(m.run_on(1000, [] {}), std::out_of_range);
  EXPECT_THROW(m.post(4, [] {}), std::out_of_range);
  // The machine is unharmed: the last processor still runs code and nothing is left pending.
  EXPECT_EQ(m.run_on(3, [] { return KeGetCurrentProcessorNumber(); }), 3u);
  m.wait_until_quiescent(std::chrono::seconds(10));
  EXPECT_FALSE(m.halted());
}

// The one timing-based assertion: an idle machine must sleep, not spin. The bound is far above
// what parked threads use and far below what even one spinning processor would.
TEST(MachineLifetime, IdleSixtyFourProcessorMachineParksItsThreads) {
  irqsim::Machine m({.processors = 64});
  for (unsigned p = 0; p < 64; ++p) m.run_on(p, [] {});
  m.wait_until_quiescent();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let every processor settle into sleep

  // The process's CPU time from the platform layer: std::clock() is wall time on Windows.
  const auto cpu_before = irqsim::platform::process_cpu_time();
  const auto wall_before = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto cpu_after = irqsim::platform::process_cpu_time();
  const auto wall_after = std::chrono::steady_clock::now();

  const double cpu_seconds = std::chrono::duration<double>(cpu_after - cpu_before).count();
  const double wall_seconds = std::chrono::duration<double>(wall_after - wall_before).count();
  EXPECT_LT(cpu_seconds, 0.5 * wall_seconds) << "an idle machine used " << cpu_seconds << " s of CPU in "
                                             << wall_seconds << " s";
}

}  // namespace
