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
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using ::testing::HasSubstr;

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

// Every code constant with its documented value and name.
struct DocumentedCode {
  std::uint32_t constant;
  std::uint32_t value;
  const char* name;
};

constexpr DocumentedCode kDocumentedCodes[] = {
    {bugcheck::kIrqlNotGreaterOrEqual, 0x9, "IRQL_NOT_GREATER_OR_EQUAL"},
    {bugcheck::kIrqlNotLessOrEqual, 0xA, "IRQL_NOT_LESS_OR_EQUAL"},
    {bugcheck::kSpinLockAlreadyOwned, 0xF, "SPIN_LOCK_ALREADY_OWNED"},
    {bugcheck::kSpinLockNotOwned, 0x10, "SPIN_LOCK_NOT_OWNED"},
    {bugcheck::kPageFaultInNonpagedArea, 0x50, "PAGE_FAULT_IN_NONPAGED_AREA"},
    {bugcheck::kSpinLockInitFailure, 0x81, "SPIN_LOCK_INIT_FAILURE"},
    {bugcheck::kDriverVerifierDetectedViolation, 0xC4, "DRIVER_VERIFIER_DETECTED_VIOLATION"},
    {bugcheck::kIrqlUnexpectedValue, 0xC8, "IRQL_UNEXPECTED_VALUE"},
    {bugcheck::kPageFaultInFreedSpecialPool, 0xCC, "PAGE_FAULT_IN_FREED_SPECIAL_POOL"},
    {bugcheck::kDriverIrqlNotLessOrEqual, 0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL"},
    {bugcheck::kWorkerThreadReturnedAtBadIrql, 0xE1, "WORKER_THREAD_RETURNED_AT_BAD_IRQL"},
    {bugcheck::kHardwareInterruptStorm, 0xF2, "HARDWARE_INTERRUPT_STORM"},
};

TEST(BugCheckName, EveryCodeConstantHasItsDocumentedName) {
  for (const DocumentedCode& c : kDocumentedCodes) EXPECT_EQ(bugcheck::name(c.constant), c.name);
}

TEST(BugCheckName, CodeConstantsHaveTheDocumentedValues) {
  for (const DocumentedCode& c : kDocumentedCodes) EXPECT_EQ(c.constant, c.value) << c.name;
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
  const auto report = bug_check_from([] { KeBugCheckEx(0xC4, 0x11, 0x22, 0x33, 0xFFFF'FFFF'FFFF'FFFF); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xC4), HasParameters({0x11, 0x22, 0x33, 0xFFFF'FFFF'FFFF'FFFF}),
                                     OnTestThread(), AtIrql(PASSIVE_LEVEL), RuleMentions("KeBugCheckEx"))))
      << "KeBugCheckEx must throw BugCheckError";
  EXPECT_TRUE(m.halted());
}

TEST(KeBugCheckEx, ReportsTheIrqlOfTheCallingThread) {
  irqsim::Machine m({.processors = 2});
  RaiseTo(DISPATCH_LEVEL);
  const auto report = bug_check_from([] { KeBugCheckEx(0x1234, 1, 2, 3, 4); });
  EXPECT_THAT(report, Optional(AllOf(AtIrql(DISPATCH_LEVEL), OnTestThread())));
}

TEST(KeBugCheckEx, OnAProcessorMakesRunOnThrowWithTheProcessorSet) {
  irqsim::Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] {
    RaiseTo(DISPATCH_LEVEL);
    KeBugCheckEx(0xD1, 5, 6, 7, 8);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xD1), HasParameters({5, 6, 7, 8}), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL))));
}

TEST(KeBugCheck, UsesFourZeroParameters) {
  irqsim::Machine m({.processors = 1});
  const auto report = bug_check_from([] { KeBugCheck(0xE2); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xE2), HasParameters({0, 0, 0, 0}))));
}

// ---- the report's text ----------------------------------------------------------------------

TEST(BugCheckReport, WhatShowsCodeNameParametersWhereAndRule) {
  irqsim::Machine m({.processors = 2});
  try {
    m.run_on(1, [] {
      RaiseTo(DISPATCH_LEVEL);
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
  const auto first = bug_check_from([] { KeBugCheckEx(0xD1, 1, 0, 0, 0); });
  const auto second = bug_check_from([] { KeBugCheckEx(0xC4, 2, 0, 0, 0); });
  ASSERT_TRUE(first.has_value());
  EXPECT_THAT(second, Optional(AllOf(IsBugCheck(0xD1), HasParameter(0, 1))));
  EXPECT_THAT(m.bug_check(), Optional(IsBugCheck(0xD1)));
}

TEST(HaltedMachine, EveryWayOfAskingReturnsTheSameReport) {
  irqsim::Machine m({.processors = 2});
  EXPECT_FALSE(m.halted());
  EXPECT_FALSE(m.bug_check().has_value());
  const auto original = BugCheckOn(m, 0, [] { KeBugCheckEx(0xC8, 9, 8, 7, 6); });
  ASSERT_TRUE(original.has_value());

  EXPECT_TRUE(m.halted());
  const auto recorded = m.bug_check();
  ASSERT_TRUE(recorded.has_value());
  const auto from_wait = bug_check_from([&] { m.wait_until_quiescent(); });
  const auto from_run_on_other = BugCheckOn(m, 1, [] {});
  const auto from_run_on_same = BugCheckOn(m, 0, [] {});
  for (const auto& report : {recorded, from_wait, from_run_on_other, from_run_on_same}) {
    EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xC8), HasParameters(original->parameters), OnProcessor(0),
                                       HasRule(original->rule))));
  }
}

TEST(HaltedMachine, WorkRunOnAHaltedMachineDoesNotRun) {
  irqsim::Machine m({.processors = 2});
  (void)bug_check_from([] { KeBugCheck(0xE2); });
  std::atomic<bool> ran{false};
  EXPECT_THROW(m.run_on(1, [&] { ran = true; }), irqsim::BugCheckError);
  m.post(0, [&] { ran = true; });
  EXPECT_THROW(m.wait_until_quiescent(), irqsim::BugCheckError);
  EXPECT_FALSE(ran);
}

TEST(HaltedMachine, OtherProcessorsStopRunningDriverCode) {
  Gate loop_exited;
  {
    irqsim::Machine m({.processors = 2});
    Latch looping(1);
    m.post(1, [&] {
      OpenOnExit mark_exit(loop_exited);
      looping.count_down();
      for (;;) (void)KeGetCurrentIrql();
    });
    looping.wait();
    IRQSIM_EXPECT_BUGCHECK(m.run_on(0, [] { KeBugCheckEx(0xC4, 0x99, 0, 0, 0); }), 0xC4);
    // The processor leaves its loop at its next WDK call; a bounded wait keeps a regression from
    // hanging the suite.
    EXPECT_TRUE(Eventually([&] { return loop_exited.is_open(); }, std::chrono::seconds(10)));
    EXPECT_THROW(m.wait_until_quiescent(), irqsim::BugCheckError);
  }
  EXPECT_TRUE(loop_exited.is_open());
}

// ---- bug checks in interrupt service routines -----------------------------------------------

BOOLEAN BugCheckingIsr(PKINTERRUPT Interrupt, PVOID Context) {
  UNREFERENCED_PARAMETER(Interrupt);
  KeBugCheckEx(0xF00D, reinterpret_cast<ULONG_PTR>(Context), KeGetCurrentIrql(), 0, 0);
}

TEST(BugCheckInIsr, ReachesTheTestThroughWaitUntilQuiescent) {
  irqsim::Machine m({.processors = 2});
  int device = 0;
  (void)ConnectLatched(BugCheckingIsr, &device, kVector, 5, 7, 0b10);
  m.pulse(kVector);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  // The ISR ran at SynchronizeIrql: its KeGetCurrentIrql() in parameters[1] and the report's IRQL.
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xF00D), HasParameter(0, AddressOf(&device)), HasParameter(1, 7),
                                     OnProcessor(1), AtIrql(7))));
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
  EXPECT_THAT(captured.reports()[0], AllOf(IsBugCheck(0xC4), HasParameter(0, 0x42), OnProcessor(1)));
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
