// Bug checks (include/irqsim/bugcheck.hpp, KeBugCheckEx / KeBugCheck): the report, its text,
// how a halted machine behaves, and how a bug check reaches the test (or the unobserved
// bug-check handler when it does not).

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

namespace {

using ::testing::HasSubstr;
namespace bugcheck = irqsim::bugcheck;

constexpr ULONG kVector = 0x51;

// Captures unobserved bug checks for the duration of a test, then puts the previous handler
// (the one from testing.hpp that fails tests) back.
class CapturedUnobservedBugChecks {
 public:
  CapturedUnobservedBugChecks()
      : previous_(irqsim::set_unobserved_bug_check_handler(
            [this](const irqsim::BugCheckReport& report) { reports_.push_back(report); })) {}
  ~CapturedUnobservedBugChecks() { irqsim::set_unobserved_bug_check_handler(std::move(previous_)); }
  CapturedUnobservedBugChecks(const CapturedUnobservedBugChecks&) = delete;
  CapturedUnobservedBugChecks& operator=(const CapturedUnobservedBugChecks&) = delete;

  [[nodiscard]] const std::vector<irqsim::BugCheckReport>& reports() const { return reports_; }

 private:
  irqsim::UnobservedBugCheckHandler previous_;
  std::vector<irqsim::BugCheckReport> reports_;  // the handler runs on the destroying (test) thread
};

// halted() does not mark the bug check observed, so a test can wait for it without seeing it.
void WaitUntilHalted(const irqsim::Machine& m) {
  while (!m.halted()) std::this_thread::yield();
}

// ---- names ----------------------------------------------------------------------------------

TEST(BugCheckName, EveryCodeConstantHasItsDocumentedName) {
  EXPECT_EQ(bugcheck::name(bugcheck::kIrqlNotGreaterOrEqual), "IRQL_NOT_GREATER_OR_EQUAL");
  EXPECT_EQ(bugcheck::name(bugcheck::kSpinLockAlreadyOwned), "SPIN_LOCK_ALREADY_OWNED");
  EXPECT_EQ(bugcheck::name(bugcheck::kSpinLockNotOwned), "SPIN_LOCK_NOT_OWNED");
  EXPECT_EQ(bugcheck::name(bugcheck::kIrqlNotLessOrEqual), "IRQL_NOT_LESS_OR_EQUAL");
  EXPECT_EQ(bugcheck::name(bugcheck::kPageFaultInNonpagedArea), "PAGE_FAULT_IN_NONPAGED_AREA");
  EXPECT_EQ(bugcheck::name(bugcheck::kSpinLockInitFailure), "SPIN_LOCK_INIT_FAILURE");
  EXPECT_EQ(bugcheck::name(bugcheck::kDriverVerifierDetectedViolation), "DRIVER_VERIFIER_DETECTED_VIOLATION");
  EXPECT_EQ(bugcheck::name(bugcheck::kIrqlUnexpectedValue), "IRQL_UNEXPECTED_VALUE");
  EXPECT_EQ(bugcheck::name(bugcheck::kPageFaultInFreedSpecialPool), "PAGE_FAULT_IN_FREED_SPECIAL_POOL");
  EXPECT_EQ(bugcheck::name(bugcheck::kDriverIrqlNotLessOrEqual), "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
  EXPECT_EQ(bugcheck::name(bugcheck::kWorkerThreadReturnedAtBadIrql), "WORKER_THREAD_RETURNED_AT_BAD_IRQL");
  EXPECT_EQ(bugcheck::name(bugcheck::kHardwareInterruptStorm), "HARDWARE_INTERRUPT_STORM");
}

TEST(BugCheckName, CodeConstantsHaveTheDocumentedValues) {
  EXPECT_EQ(bugcheck::kIrqlNotGreaterOrEqual, 0x9u);
  EXPECT_EQ(bugcheck::kIrqlNotLessOrEqual, 0xAu);
  EXPECT_EQ(bugcheck::kSpinLockAlreadyOwned, 0xFu);
  EXPECT_EQ(bugcheck::kSpinLockNotOwned, 0x10u);
  EXPECT_EQ(bugcheck::kPageFaultInNonpagedArea, 0x50u);
  EXPECT_EQ(bugcheck::kSpinLockInitFailure, 0x81u);
  EXPECT_EQ(bugcheck::kDriverVerifierDetectedViolation, 0xC4u);
  EXPECT_EQ(bugcheck::kIrqlUnexpectedValue, 0xC8u);
  EXPECT_EQ(bugcheck::kPageFaultInFreedSpecialPool, 0xCCu);
  EXPECT_EQ(bugcheck::kDriverIrqlNotLessOrEqual, 0xD1u);
  EXPECT_EQ(bugcheck::kWorkerThreadReturnedAtBadIrql, 0xE1u);
  EXPECT_EQ(bugcheck::kHardwareInterruptStorm, 0xF2u);
}

TEST(BugCheckName, UnknownCodeIsUnknownBugCheckCode) {
  EXPECT_EQ(bugcheck::name(0x12345), "UNKNOWN_BUG_CHECK_CODE");
  EXPECT_EQ(bugcheck::name(0), "UNKNOWN_BUG_CHECK_CODE");
  irqsim::BugCheckReport report;
  report.code = 0xDEAD;
  EXPECT_EQ(report.name(), "UNKNOWN_BUG_CHECK_CODE");
  report.code = bugcheck::kSpinLockNotOwned;
  EXPECT_EQ(report.name(), "SPIN_LOCK_NOT_OWNED");
}

// ---- KeBugCheckEx / KeBugCheck ----------------------------------------------------------------

TEST(KeBugCheckEx, OnTheTestThreadThrowsTheCodeAndParameters) {
  irqsim::Machine m({.processors = 2});
  try {
    KeBugCheckEx(0xC4, 0x11, 0x22, 0x33, 0xFFFF'FFFF'FFFF'FFFF);
  } catch (const irqsim::BugCheckError& error) {
    const irqsim::BugCheckReport& report = error.report();
    EXPECT_EQ(report.code, 0xC4u);
    EXPECT_EQ(report.parameters, (std::array<std::uint64_t, 4>{0x11, 0x22, 0x33, 0xFFFF'FFFF'FFFF'FFFF}));
    EXPECT_FALSE(report.processor.has_value());
    EXPECT_EQ(report.irql, PASSIVE_LEVEL);
    EXPECT_THAT(report.rule, HasSubstr("KeBugCheckEx"));
    EXPECT_TRUE(m.halted());
    return;
  }
  FAIL() << "KeBugCheckEx returned";
}

TEST(KeBugCheckEx, ReportsTheIrqlOfTheCallingThread) {
  irqsim::Machine m({.processors = 2});
  KIRQL old_irql;
  KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
  const auto report = irqsim::testing::bug_check_from([] { KeBugCheckEx(0x1234, 1, 2, 3, 4); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->irql, DISPATCH_LEVEL);
  EXPECT_FALSE(report->processor.has_value());
}

TEST(KeBugCheckEx, OnAProcessorMakesRunOnThrowWithTheProcessorSet) {
  irqsim::Machine m({.processors = 2});
  const auto report = irqsim::testing::bug_check_from([&] {
    m.run_on(1, [] {
      KIRQL old_irql;
      KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
      KeBugCheckEx(0xD1, 5, 6, 7, 8);
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, 0xD1u);
  EXPECT_EQ(report->parameters, (std::array<std::uint64_t, 4>{5, 6, 7, 8}));
  EXPECT_EQ(report->processor, std::optional<unsigned>(1u));
  EXPECT_EQ(report->irql, DISPATCH_LEVEL);
}

TEST(KeBugCheck, UsesFourZeroParameters) {
  irqsim::Machine m({.processors = 1});
  const auto report = irqsim::testing::bug_check_from([] { KeBugCheck(0xE2); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, 0xE2u);
  EXPECT_EQ(report->parameters, (std::array<std::uint64_t, 4>{0, 0, 0, 0}));
}

// ---- the report's text ----------------------------------------------------------------------

TEST(BugCheckReport, WhatShowsCodeNameParametersWhereAndRule) {
  irqsim::Machine m({.processors = 2});
  try {
    m.run_on(1, [] {
      KIRQL old_irql;
      KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
      KeBugCheckEx(0xC4, 0x30, 0xAB, 0x2, 0x0);
    });
    FAIL() << "run_on returned after a bug check";
  } catch (const irqsim::BugCheckError& error) {
    const std::string what = error.what();
    EXPECT_EQ(what, error.report().to_string());
    EXPECT_THAT(what, HasSubstr("*** STOP: 0x000000c4 (0x0000000000000030, 0x00000000000000ab, "
                                "0x0000000000000002, 0x0000000000000000)"));
    EXPECT_THAT(what, HasSubstr("DRIVER_VERIFIER_DETECTED_VIOLATION"));
    EXPECT_THAT(what, HasSubstr("on processor 1 at IRQL 2"));
    EXPECT_THAT(what, HasSubstr("The driver called KeBugCheckEx with code 0xc4."));
  }
}

TEST(BugCheckReport, WhatNamesATestThreadAndAnUnknownCode) {
  irqsim::Machine m({.processors = 1});
  try {
    KeBugCheckEx(0xABCDE, 1, 2, 3, 4);
  } catch (const irqsim::BugCheckError& error) {
    const std::string what = error.what();
    EXPECT_THAT(what, HasSubstr("*** STOP: 0x000abcde (0x0000000000000001, 0x0000000000000002, "
                                "0x0000000000000003, 0x0000000000000004)"));
    EXPECT_THAT(what, HasSubstr("UNKNOWN_BUG_CHECK_CODE"));
    EXPECT_THAT(what, HasSubstr("on a thread that is not a simulated processor at IRQL 0"));
    return;
  }
  FAIL() << "KeBugCheckEx returned";
}

TEST(BugCheckReport, ToStringOfAHandBuiltReport) {
  irqsim::BugCheckReport report;
  report.code = bugcheck::kHardwareInterruptStorm;
  report.parameters = {0x1, 0x2, 0x3, 0x4};
  report.processor = 3;
  report.irql = 7;
  report.rule = "A line stayed asserted.";
  const std::string text = report.to_string();
  EXPECT_THAT(text, HasSubstr("*** STOP: 0x000000f2"));
  EXPECT_THAT(text, HasSubstr("HARDWARE_INTERRUPT_STORM"));
  EXPECT_THAT(text, HasSubstr("on processor 3 at IRQL 7"));
  EXPECT_THAT(text, HasSubstr("A line stayed asserted."));
  EXPECT_EQ(irqsim::BugCheckError(report).report().code, bugcheck::kHardwareInterruptStorm);
}

// ---- the halted machine ---------------------------------------------------------------------

TEST(HaltedMachine, FirstBugCheckWins) {
  irqsim::Machine m({.processors = 2});
  const auto first = irqsim::testing::bug_check_from([] { KeBugCheckEx(0xD1, 1, 0, 0, 0); });
  const auto second = irqsim::testing::bug_check_from([] { KeBugCheckEx(0xC4, 2, 0, 0, 0); });
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->code, 0xD1u);
  EXPECT_EQ(second->parameters[0], 1u);
  const auto recorded = m.bug_check();
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->code, 0xD1u);
}

TEST(HaltedMachine, EveryWayOfAskingReturnsTheSameReport) {
  irqsim::Machine m({.processors = 2});
  EXPECT_FALSE(m.halted());
  EXPECT_FALSE(m.bug_check().has_value());
  const auto original = irqsim::testing::bug_check_from([&] { m.run_on(0, [] { KeBugCheckEx(0xC8, 9, 8, 7, 6); }); });
  ASSERT_TRUE(original.has_value());

  EXPECT_TRUE(m.halted());
  const auto recorded = m.bug_check();
  ASSERT_TRUE(recorded.has_value());
  const auto from_wait = irqsim::testing::bug_check_from([&] { m.wait_until_quiescent(); });
  const auto from_run_on_other = irqsim::testing::bug_check_from([&] { m.run_on(1, [] {}); });
  const auto from_run_on_same = irqsim::testing::bug_check_from([&] { m.run_on(0, [] {}); });
  for (const auto& report : {recorded, from_wait, from_run_on_other, from_run_on_same}) {
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->code, 0xC8u);
    EXPECT_EQ(report->parameters, original->parameters);
    EXPECT_EQ(report->processor, std::optional<unsigned>(0u));
    EXPECT_EQ(report->rule, original->rule);
  }
}

TEST(HaltedMachine, WorkRunOnAHaltedMachineDoesNotRun) {
  irqsim::Machine m({.processors = 2});
  (void)irqsim::testing::bug_check_from([] { KeBugCheck(0xE2); });
  std::atomic<bool> ran{false};
  EXPECT_THROW(m.run_on(1, [&] { ran = true; }), irqsim::BugCheckError);
  m.post(0, [&] { ran = true; });
  EXPECT_THROW(m.wait_until_quiescent(), irqsim::BugCheckError);
  EXPECT_FALSE(ran);
}

TEST(HaltedMachine, OtherProcessorsStopRunningDriverCode) {
  std::atomic<bool> loop_exited{false};
  {
    irqsim::Machine m({.processors = 2});
    std::latch looping(1);
    m.post(1, [&] {
      struct MarkExit {
        std::atomic<bool>& flag;
        ~MarkExit() {
          flag.store(true);
          flag.notify_all();
        }
      } guard{loop_exited};
      looping.count_down();
      for (;;) (void)KeGetCurrentIrql();
    });
    looping.wait();
    IRQSIM_EXPECT_BUGCHECK(m.run_on(0, [] { KeBugCheckEx(0xC4, 0x99, 0, 0, 0); }), 0xC4);
    // The processor leaves its loop at its next WDK call; a bounded wait keeps a regression from
    // hanging the suite.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!loop_exited.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    EXPECT_TRUE(loop_exited.load());
    EXPECT_THROW(m.wait_until_quiescent(), irqsim::BugCheckError);
  }
  EXPECT_TRUE(loop_exited.load());
}

// ---- bug checks in interrupt service routines -----------------------------------------------

BOOLEAN BugCheckingIsr(PKINTERRUPT Interrupt, PVOID Context) {
  UNREFERENCED_PARAMETER(Interrupt);
  KeBugCheckEx(0xF00D, reinterpret_cast<ULONG_PTR>(Context), KeGetCurrentIrql(), 0, 0);
}

TEST(BugCheckInIsr, ReachesTheTestThroughWaitUntilQuiescent) {
  irqsim::Machine m({.processors = 2});
  int device = 0;
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, BugCheckingIsr, &device, nullptr, kVector, 5, 7, Latched, FALSE, 0b10, FALSE),
            STATUS_SUCCESS);
  m.pulse(kVector);
  const auto report = irqsim::testing::bug_check_from([&] { m.wait_until_quiescent(); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, 0xF00Du);
  EXPECT_EQ(report->parameters[0], reinterpret_cast<std::uint64_t>(&device));
  EXPECT_EQ(report->parameters[1], 7u);  // the ISR ran at SynchronizeIrql
  EXPECT_EQ(report->processor, std::optional<unsigned>(1u));
  EXPECT_EQ(report->irql, 7);
  EXPECT_TRUE(m.halted());
  // The object stays connected: destroying the machine frees it.
}

// ---- unobserved bug checks ------------------------------------------------------------------

TEST(UnobservedBugCheck, HandlerGetsTheReportWhenNobodyLooked) {
  CapturedUnobservedBugChecks captured;
  {
    irqsim::Machine m({.processors = 2});
    m.post(1, [] { KeBugCheckEx(0xC4, 0x42, 0, 0, 0); });
    WaitUntilHalted(m);
    EXPECT_TRUE(captured.reports().empty());  // not before the machine is destroyed
  }
  ASSERT_EQ(captured.reports().size(), 1u);
  EXPECT_EQ(captured.reports()[0].code, 0xC4u);
  EXPECT_EQ(captured.reports()[0].parameters[0], 0x42u);
  EXPECT_EQ(captured.reports()[0].processor, std::optional<unsigned>(1u));
}

TEST(UnobservedBugCheck, HandlerIsNotCalledAfterBugCheckWasRead) {
  CapturedUnobservedBugChecks captured;
  {
    irqsim::Machine m({.processors = 2});
    m.post(1, [] { KeBugCheckEx(0xC4, 0x42, 0, 0, 0); });
    WaitUntilHalted(m);
    ASSERT_TRUE(m.bug_check().has_value());
  }
  EXPECT_TRUE(captured.reports().empty());
}

TEST(UnobservedBugCheck, HandlerIsNotCalledAfterABugCheckErrorReachedTheTest) {
  CapturedUnobservedBugChecks captured;
  {
    irqsim::Machine m({.processors = 2});
    m.post(0, [] { KeBugCheck(0xD1); });
    EXPECT_THROW(m.wait_until_quiescent(), irqsim::BugCheckError);
  }
  {
    irqsim::Machine m({.processors = 2});
    EXPECT_THROW(KeBugCheck(0xD1), irqsim::BugCheckError);
  }
  {
    irqsim::Machine m({.processors = 2});
    EXPECT_THROW(m.run_on(1, [] { KeBugCheck(0xD1); }), irqsim::BugCheckError);
  }
  EXPECT_TRUE(captured.reports().empty());
}

TEST(UnobservedBugCheck, HandlerIsNotCalledWithoutABugCheck) {
  CapturedUnobservedBugChecks captured;
  {
    irqsim::Machine m({.processors = 2});
    m.run_on(0, [] {});
  }
  EXPECT_TRUE(captured.reports().empty());
}

TEST(UnobservedBugCheck, TestingHeaderFailsTheRunningTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        irqsim::Machine m({.processors = 2});
        m.post(0, [] { KeBugCheck(0xD1); });
        WaitUntilHalted(m);
      },
      "no test observed it");
}

TEST(UnobservedBugCheck, SetHandlerReturnsThePreviousOne) {
  int first_calls = 0;
  auto original = irqsim::set_unobserved_bug_check_handler([&](const irqsim::BugCheckReport&) { ++first_calls; });
  auto mine = irqsim::set_unobserved_bug_check_handler(std::move(original));
  ASSERT_TRUE(mine);
  mine(irqsim::BugCheckReport{});
  EXPECT_EQ(first_calls, 1);
}

// ---- IRQSIM_EXPECT_BUGCHECK -----------------------------------------------------------------

TEST(ExpectBugCheckMacro, PassesForTheMatchingCode) {
  irqsim::Machine m({.processors = 2});
  IRQSIM_EXPECT_BUGCHECK(KeBugCheck(0xC4), bugcheck::kDriverVerifierDetectedViolation);
  IRQSIM_EXPECT_BUGCHECK(m.wait_until_quiescent(), 0xC4);  // the halted machine reports the same
}

TEST(ExpectBugCheckMacro, FailsForAnotherCodeWithTheReport) {
  EXPECT_NONFATAL_FAILURE(
      {
        irqsim::Machine m({.processors = 1});
        IRQSIM_EXPECT_BUGCHECK(m.run_on(0, [] { KeBugCheck(0xC4); }), 0xD1);
      },
      "DRIVER_VERIFIER_DETECTED_VIOLATION");
}

TEST(ExpectBugCheckMacro, FailsWhenNoBugCheckHappens) {
  EXPECT_NONFATAL_FAILURE(
      {
        irqsim::Machine m({.processors = 1});
        IRQSIM_EXPECT_BUGCHECK(m.run_on(0, [] {}), 0xD1);
      },
      "expected bug check");
}

}  // namespace
