// KeGetCurrentIrql, KeRaiseIrql (KfRaiseIrql), KeLowerIrql and KeRaiseIrqlToDpcLevel, on a
// simulated processor and on the test's own thread, with the bug checks they raise and
// KeLowerIrql as a preemption point.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;

constexpr ULONG kVector = 0x61;
constexpr KIRQL kDeviceIrql = 5;
constexpr KIRQL kAboveDeviceIrql = 10;

// Connects RecordingIsr, recording into `isr`, to kVector at kDeviceIrql on processor 0.
PKINTERRUPT ConnectRecorder(IsrRecord& isr) {
  return ConnectLatched(RecordingIsr, &isr, kVector, kDeviceIrql, kDeviceIrql, 1);
}

// ---- KeGetCurrentIrql ----------------------------------------------------------------------

TEST(KeGetCurrentIrql, EveryProcessorRunsFunctionsAtPassiveLevel) {
  irqsim::Machine m({.processors = 4});
  for (unsigned p = 0; p < 4; ++p) {
    EXPECT_EQ(m.run_on(p, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL) << "processor " << p;
  }
}

TEST(KeGetCurrentIrql, TestThreadStartsAtPassiveLevel) {
  irqsim::Machine m({.processors = 1});
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST(KeGetCurrentIrql, TestThreadIrqlIsIndependentOfTheProcessors) {
  irqsim::Machine m({.processors = 2});
  const KIRQL old = RaiseTo(HIGH_LEVEL);
  EXPECT_EQ(m.run_on(0, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
  EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
  KeLowerIrql(old);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST(KeGetCurrentIrql, EachProcessorHasItsOwnIrql) {
  irqsim::Machine m({.processors = 2});
  ParkedProcessor raised(m, 0, kAboveDeviceIrql);
  EXPECT_EQ(m.run_on(1, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
  raised.release();
  m.wait_until_quiescent();
}

TEST(KeGetCurrentIrql, NewMachineStartsTheTestThreadBackAtPassiveLevel) {
  {
    irqsim::Machine first({.processors = 1});
    RaiseTo(HIGH_LEVEL);
    ASSERT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    // Left raised on purpose: the IRQL belongs to this machine's context.
  }
  irqsim::Machine second({.processors = 1});
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

// ---- KeRaiseIrql / KeLowerIrql ---------------------------------------------------------------

struct IrqlSteps {
  KIRQL old_from_apc = 0xFF, old_from_dispatch = 0xFF, old_from_device = 0xFF, old_from_high = 0xFF;
  KIRQL at_high = 0xFF, after_lower_to_device = 0xFF, after_lower_to_dispatch = 0xFF, after_lower_to_apc = 0xFF,
        after_lower_to_passive = 0xFF;
};

// Raises step by step to HIGH_LEVEL, then lowers back through the saved values.
IrqlSteps raise_and_lower_through_every_class() {
  IrqlSteps s;
  KeRaiseIrql(APC_LEVEL, &s.old_from_apc);
  KeRaiseIrql(DISPATCH_LEVEL, &s.old_from_dispatch);
  KeRaiseIrql(kAboveDeviceIrql, &s.old_from_device);
  KeRaiseIrql(HIGH_LEVEL, &s.old_from_high);
  s.at_high = KeGetCurrentIrql();
  KeLowerIrql(s.old_from_high);
  s.after_lower_to_device = KeGetCurrentIrql();
  KeLowerIrql(s.old_from_device);
  s.after_lower_to_dispatch = KeGetCurrentIrql();
  KeLowerIrql(s.old_from_dispatch);
  s.after_lower_to_apc = KeGetCurrentIrql();
  KeLowerIrql(s.old_from_apc);
  s.after_lower_to_passive = KeGetCurrentIrql();
  return s;
}

void expect_nested_raise_and_lower(const IrqlSteps& s) {
  EXPECT_EQ(s.old_from_apc, PASSIVE_LEVEL);
  EXPECT_EQ(s.old_from_dispatch, APC_LEVEL);
  EXPECT_EQ(s.old_from_device, DISPATCH_LEVEL);
  EXPECT_EQ(s.old_from_high, kAboveDeviceIrql);
  EXPECT_EQ(s.at_high, HIGH_LEVEL);
  EXPECT_EQ(s.after_lower_to_device, kAboveDeviceIrql);
  EXPECT_EQ(s.after_lower_to_dispatch, DISPATCH_LEVEL);
  EXPECT_EQ(s.after_lower_to_apc, APC_LEVEL);
  EXPECT_EQ(s.after_lower_to_passive, PASSIVE_LEVEL);
}

TEST(KeRaiseIrql, NestedRaisesReturnThePreviousIrqlAndLowerRestoresEachOnAProcessor) {
  irqsim::Machine m({.processors = 2});
  expect_nested_raise_and_lower(m.run_on(1, raise_and_lower_through_every_class));
}

TEST(KeRaiseIrql, NestedRaisesReturnThePreviousIrqlAndLowerRestoresEachOnTheTestThread) {
  irqsim::Machine m({.processors = 1});
  expect_nested_raise_and_lower(raise_and_lower_through_every_class());
}

TEST(KeRaiseIrql, KfRaiseIrqlReturnsThePreviousIrql) {
  irqsim::Machine m({.processors = 1});
  const auto [first, second, now] = m.run_on(0, [] {
    const KIRQL a = KfRaiseIrql(DISPATCH_LEVEL);
    const KIRQL b = KfRaiseIrql(static_cast<KIRQL>(7));
    const KIRQL c = KeGetCurrentIrql();
    KeLowerIrql(a);
    return std::tuple{a, b, c};
  });
  EXPECT_EQ(first, PASSIVE_LEVEL);
  EXPECT_EQ(second, DISPATCH_LEVEL);
  EXPECT_EQ(now, 7);
}

TEST(KeRaiseIrql, RaisingToTheCurrentIrqlIsAllowed) {
  irqsim::Machine m({.processors = 1});
  const auto [old, now] = m.run_on(0, [] {
    KIRQL outer = 0;
    KIRQL inner = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &outer);
    KeRaiseIrql(DISPATCH_LEVEL, &inner);
    const KIRQL current = KeGetCurrentIrql();
    KeLowerIrql(inner);
    KeLowerIrql(outer);
    return std::pair{inner, current};
  });
  EXPECT_EQ(old, DISPATCH_LEVEL);
  EXPECT_EQ(now, DISPATCH_LEVEL);
  EXPECT_FALSE(m.halted());
}

TEST(KeRaiseIrql, RaisingBelowTheCurrentIrqlBugChecks0xC4With0x30) {
  irqsim::Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] {
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeRaiseIrql(APC_LEVEL, &old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierRaiseToLowerIrql),
                                     HasParameter(1, DISPATCH_LEVEL), HasParameter(2, APC_LEVEL), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL), RuleMentions("KeRaiseIrql"))));
  EXPECT_TRUE(m.halted());
}

TEST(KeRaiseIrql, RaisingAboveHighLevelBugChecks0xC4With0x30) {
  irqsim::Machine m({.processors = 1});
  const auto report = BugCheckOn(m, 0, [] { (void)KfRaiseIrql(static_cast<KIRQL>(HIGH_LEVEL + 1)); });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierRaiseToLowerIrql),
                                     HasParameter(1, PASSIVE_LEVEL), HasParameter(2, HIGH_LEVEL + 1u))));
}

TEST(KeRaiseIrql, RaisingBelowTheCurrentIrqlOnTheTestThreadThrowsFromTheCall) {
  irqsim::Machine m({.processors = 1});
  RaiseTo(kAboveDeviceIrql);
  bool returned = false;
  const auto report = bug_check_from([&] {
    KIRQL ignored = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &ignored);
    returned = true;
  });
  EXPECT_FALSE(returned);
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierRaiseToLowerIrql),
                                     HasParameter(1, kAboveDeviceIrql), HasParameter(2, DISPATCH_LEVEL),
                                     OnTestThread())));
  EXPECT_TRUE(m.halted());
}

TEST(KeLowerIrql, LoweringToAHigherIrqlBugChecks0xC4With0x31) {
  irqsim::Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 0, [] {
    RaiseTo(APC_LEVEL);
    KeLowerIrql(DISPATCH_LEVEL);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierLowerToHigherIrql),
                                     HasParameter(1, APC_LEVEL), HasParameter(2, DISPATCH_LEVEL), OnProcessor(0),
                                     RuleMentions("KeLowerIrql"))));
}

TEST(KeLowerIrql, LoweringAtPassiveLevelOnTheTestThreadBugChecks0xC4With0x31) {
  irqsim::Machine m({.processors = 1});
  const auto report = bug_check_from([] { KeLowerIrql(APC_LEVEL); });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierLowerToHigherIrql),
                                     HasParameter(1, PASSIVE_LEVEL), HasParameter(2, APC_LEVEL), OnTestThread())));
}

TEST(KeLowerIrql, LoweringToTheCurrentIrqlIsAllowed) {
  irqsim::Machine m({.processors = 1});
  const KIRQL after = m.run_on(0, [] {
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeLowerIrql(DISPATCH_LEVEL);
    const KIRQL current = KeGetCurrentIrql();
    KeLowerIrql(old);
    return current;
  });
  EXPECT_EQ(after, DISPATCH_LEVEL);
  EXPECT_FALSE(m.halted());
}

TEST(KeLowerIrql, LoweringBelowAHeldSpinLocksIrqlBugChecks0xF) {
  irqsim::Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 1, [&] {
    RaiseTo(DISPATCH_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&lock);
    KeLowerIrql(PASSIVE_LEVEL);
  });
  // The check comes before the IRQL changes: the report is made at DISPATCH_LEVEL.
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL), RuleMentions("KeLowerIrql"))));
}

TEST(KeLowerIrql, LoweringBelowAHeldSpinLocksIrqlOnTheTestThreadBugChecks0xF) {
  irqsim::Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const KIRQL old = RaiseTo(DISPATCH_LEVEL);
  KeAcquireSpinLockAtDpcLevel(&lock);
  IRQSIM_EXPECT_BUGCHECK(KeLowerIrql(old), bugcheck::kSpinLockAlreadyOwned);
}

TEST(KeLowerIrql, LoweringToTheLevelOfAHeldSpinLockIsAllowed) {
  irqsim::Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const KIRQL while_held = m.run_on(0, [&] {
    const KIRQL old = RaiseTo(kAboveDeviceIrql);
    KeAcquireSpinLockAtDpcLevel(&lock);
    KeLowerIrql(DISPATCH_LEVEL);
    const KIRQL current = KeGetCurrentIrql();
    KeReleaseSpinLockFromDpcLevel(&lock);
    KeLowerIrql(old);  // the lock is released: lowering below DISPATCH_LEVEL is fine now
    return current;
  });
  EXPECT_EQ(while_held, DISPATCH_LEVEL);
  EXPECT_EQ(lock, 0u);
  EXPECT_FALSE(m.halted());
}

// ---- KeRaiseIrqlToDpcLevel ---------------------------------------------------------------

TEST(KeRaiseIrqlToDpcLevel, RaisesToDispatchAndReturnsThePreviousIrql) {
  irqsim::Machine m({.processors = 1});
  const auto [from_passive, from_apc, from_dispatch, now] = m.run_on(0, [] {
    const KIRQL a = KeRaiseIrqlToDpcLevel();
    KeLowerIrql(a);
    const KIRQL at_apc = RaiseTo(APC_LEVEL);
    const KIRQL b = KeRaiseIrqlToDpcLevel();
    const KIRQL c = KeRaiseIrqlToDpcLevel();  // already at DISPATCH_LEVEL: allowed
    const KIRQL current = KeGetCurrentIrql();
    KeLowerIrql(c);
    KeLowerIrql(b);
    KeLowerIrql(at_apc);
    return std::tuple{a, b, c, current};
  });
  EXPECT_EQ(from_passive, PASSIVE_LEVEL);
  EXPECT_EQ(from_apc, APC_LEVEL);
  EXPECT_EQ(from_dispatch, DISPATCH_LEVEL);
  EXPECT_EQ(now, DISPATCH_LEVEL);
}

TEST(KeRaiseIrqlToDpcLevel, WorksOnTheTestThread) {
  irqsim::Machine m({.processors = 1});
  const KIRQL old = KeRaiseIrqlToDpcLevel();
  EXPECT_EQ(old, PASSIVE_LEVEL);
  EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
  KeLowerIrql(old);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST(KeRaiseIrqlToDpcLevel, AboveDispatchLevelBugChecks0xC4WithIrqlKeDispatchLte) {
  irqsim::Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] {
    RaiseTo(DISPATCH_LEVEL + 1);
    (void)KeRaiseIrqlToDpcLevel();
  });
  // DDI-compliance bug checks point to a description of the broken rule.
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlKeDispatchLte),
                                     DdiRuleTextMentions("IrqlKeDispatchLte"), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL + 1), RuleMentions("KeRaiseIrqlToDpcLevel"))));
}

TEST(KeRaiseIrqlToDpcLevel, AboveDispatchLevelOnTheTestThreadBugChecks0xC4WithIrqlKeDispatchLte) {
  irqsim::Machine m({.processors = 1});
  RaiseTo(HIGH_LEVEL);
  const auto report = bug_check_from([] { (void)KeRaiseIrqlToDpcLevel(); });
  EXPECT_THAT(report,
              Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlKeDispatchLte), AtIrql(HIGH_LEVEL))));
}

// ---- returning from a processor at a raised IRQL -------------------------------------------

TEST(RunOnIrql, ReturningAtARaisedIrqlBugChecks0xE1) {
  irqsim::Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] { RaiseTo(DISPATCH_LEVEL); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kWorkerThreadReturnedAtBadIrql),
                                     HasParameter(1, DISPATCH_LEVEL), OnProcessor(1), AtIrql(DISPATCH_LEVEL))));
}

TEST(RunOnIrql, PostedFunctionReturningAtARaisedIrqlBugChecks0xE1) {
  irqsim::Machine m({.processors = 1});
  m.post(0, [] { (void)KeRaiseIrqlToDpcLevel(); });
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(IsBugCheck(bugcheck::kWorkerThreadReturnedAtBadIrql)));
}

// ---- KeLowerIrql as a preemption point -----------------------------------------------------

TEST(KeLowerIrqlPreemption, PendingInterruptIsTakenInsideKeLowerIrqlAndNotBefore) {
  irqsim::Machine m({.processors = 1});
  IsrRecord isr;
  PKINTERRUPT object = ConnectRecorder(isr);
  Gate raised;
  Gate pulsed;
  std::atomic<int> runs_while_raised{-1};
  std::atomic<int> runs_after_lower{-1};
  m.post(0, [&] {
    OpenOnExit signal_raised(raised);
    const KIRQL old = RaiseTo(kAboveDeviceIrql);
    raised.open();
    pulsed.wait();
    // A library call is a preemption point too, but IRQL 10 masks an IRQL 5 interrupt.
    (void)KeGetCurrentIrql();
    runs_while_raised = isr.runs.load();
    KeLowerIrql(old);
    runs_after_lower = isr.runs.load();
  });
  raised.wait();
  m.pulse(kVector);
  pulsed.open();
  m.wait_until_quiescent();
  EXPECT_EQ(runs_while_raised, 0);
  EXPECT_EQ(runs_after_lower, 1);
  EXPECT_EQ(isr.irql, kDeviceIrql);
  EXPECT_EQ(isr.processor, 0);
  EXPECT_EQ(m.stats(kVector).deliveries, 1u);
  IoDisconnectInterrupt(object);
}

TEST(KeLowerIrqlPreemption, InterruptStaysPendingUntilIrqlDropsBelowItsLevel) {
  irqsim::Machine m({.processors = 1});
  IsrRecord isr;
  PKINTERRUPT object = ConnectRecorder(isr);
  const auto [at_device_irql, below_device_irql, irql_after_isr] = m.run_on(0, [&] {
    const KIRQL old = RaiseTo(kAboveDeviceIrql);
    m.pulse(kVector);
    KeLowerIrql(kDeviceIrql);
    const int runs_at = isr.runs.load();
    KeLowerIrql(static_cast<KIRQL>(kDeviceIrql - 1));
    const int runs_below = isr.runs.load();
    const KIRQL current = KeGetCurrentIrql();
    KeLowerIrql(old);
    return std::tuple{runs_at, runs_below, current};
  });
  EXPECT_EQ(at_device_irql, 0);
  EXPECT_EQ(below_device_irql, 1);
  // The interrupt ran at its own IRQL and the interrupted IRQL came back afterwards.
  EXPECT_EQ(isr.irql, kDeviceIrql);
  EXPECT_EQ(irql_after_isr, kDeviceIrql - 1);
  IoDisconnectInterrupt(object);
}

TEST(KeLowerIrqlPreemption, TestThreadLoweringItsIrqlNeverTakesAnInterrupt) {
  irqsim::Machine m({.processors = 1});
  IsrRecord isr;
  PKINTERRUPT object = ConnectRecorder(isr);
  // Keep the only processor busy outside any preemption point so the interrupt has to wait.
  ParkedProcessor busy(m, 0);
  const KIRQL old = RaiseTo(kAboveDeviceIrql);
  m.pulse(kVector);
  KeLowerIrql(old);
  (void)KeGetCurrentIrql();
  EXPECT_EQ(isr.runs, 0);
  busy.release();
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs, 1);
  EXPECT_EQ(isr.processor, 0);
  EXPECT_FALSE(isr.on_test_thread);
  IoDisconnectInterrupt(object);
}

}  // namespace
