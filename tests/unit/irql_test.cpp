// KeGetCurrentIrql, KeRaiseIrql (KfRaiseIrql), KeLowerIrql and KeRaiseIrqlToDpcLevel, on a
// simulated processor and on the test's own thread, with the bug checks they raise and
// KeLowerIrql as a preemption point.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

namespace {

using irqsim::testing::bug_check_from;
using ::testing::HasSubstr;

namespace bugcheck = irqsim::bugcheck;

constexpr ULONG kVector = 0x61;
constexpr KIRQL kDeviceIrql = 5;
constexpr KIRQL kAboveDeviceIrql = 10;

// What an ISR saw when it ran.
struct IsrRecord {
  std::atomic<int> runs{0};
  std::atomic<int> irql{-1};
  std::atomic<int> processor{-1};
  std::atomic<bool> on_test_thread{false};
  std::thread::id test_thread = std::this_thread::get_id();
};

BOOLEAN RecordingIsr(PKINTERRUPT, PVOID context) {
  auto* record = static_cast<IsrRecord*>(context);
  record->irql = KeGetCurrentIrql();
  record->processor = static_cast<int>(KeGetCurrentProcessorNumber());
  if (std::this_thread::get_id() == record->test_thread) record->on_test_thread = true;
  record->runs.fetch_add(1);
  return TRUE;
}

// A one-shot signal between the test thread and a simulated processor.
struct Signal {
  std::atomic<bool> flag{false};
  void set() {
    flag.store(true);
    flag.notify_all();
  }
  void wait() const { flag.wait(false); }
};

// Sets the signal when the enclosing scope is left, however it is left, so that a bug check
// unwinding driver code on a processor never leaves the test thread waiting forever.
struct SetOnExit {
  Signal& signal;
  ~SetOnExit() { signal.set(); }
};

// The string a DDI-compliance bug check points to with its second parameter.
std::string rule_text(const irqsim::BugCheckReport& report) {
  const auto* text = reinterpret_cast<const char*>(static_cast<std::uintptr_t>(report.parameters[1]));
  return text == nullptr ? std::string() : std::string(text);
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
  KIRQL old = 0;
  KeRaiseIrql(HIGH_LEVEL, &old);
  EXPECT_EQ(m.run_on(0, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
  EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
  KeLowerIrql(old);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST(KeGetCurrentIrql, EachProcessorHasItsOwnIrql) {
  irqsim::Machine m({.processors = 2});
  Signal raised;
  Signal release;
  m.post(0, [&] {
    SetOnExit signal_raised{raised};
    KIRQL old = 0;
    KeRaiseIrql(kAboveDeviceIrql, &old);
    raised.set();
    release.wait();
    KeLowerIrql(old);
  });
  raised.wait();
  EXPECT_EQ(m.run_on(1, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
  release.set();
  m.wait_until_quiescent();
}

TEST(KeGetCurrentIrql, NewMachineStartsTheTestThreadBackAtPassiveLevel) {
  {
    irqsim::Machine first({.processors = 1});
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
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
  const auto report = bug_check_from([&] {
    m.run_on(1, [] {
      KIRQL old = 0;
      KeRaiseIrql(DISPATCH_LEVEL, &old);
      KeRaiseIrql(APC_LEVEL, &old);
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kVerifierRaiseToLowerIrql);
  EXPECT_EQ(report->parameters[1], DISPATCH_LEVEL);
  EXPECT_EQ(report->parameters[2], APC_LEVEL);
  EXPECT_EQ(report->processor, 1u);
  EXPECT_EQ(report->irql, DISPATCH_LEVEL);
  EXPECT_THAT(report->rule, HasSubstr("KeRaiseIrql"));
  EXPECT_TRUE(m.halted());
}

TEST(KeRaiseIrql, RaisingAboveHighLevelBugChecks0xC4With0x30) {
  irqsim::Machine m({.processors = 1});
  const auto report = bug_check_from([&] { m.run_on(0, [] { (void)KfRaiseIrql(static_cast<KIRQL>(HIGH_LEVEL + 1)); }); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kVerifierRaiseToLowerIrql);
  EXPECT_EQ(report->parameters[1], PASSIVE_LEVEL);
  EXPECT_EQ(report->parameters[2], HIGH_LEVEL + 1u);
}

TEST(KeRaiseIrql, RaisingBelowTheCurrentIrqlOnTheTestThreadThrowsFromTheCall) {
  irqsim::Machine m({.processors = 1});
  KIRQL old = 0;
  KeRaiseIrql(kAboveDeviceIrql, &old);
  bool returned = false;
  const auto report = bug_check_from([&] {
    KIRQL ignored = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &ignored);
    returned = true;
  });
  EXPECT_FALSE(returned);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kVerifierRaiseToLowerIrql);
  EXPECT_EQ(report->parameters[1], kAboveDeviceIrql);
  EXPECT_EQ(report->parameters[2], DISPATCH_LEVEL);
  EXPECT_FALSE(report->processor.has_value());
  EXPECT_TRUE(m.halted());
}

TEST(KeLowerIrql, LoweringToAHigherIrqlBugChecks0xC4With0x31) {
  irqsim::Machine m({.processors = 2});
  const auto report = bug_check_from([&] {
    m.run_on(0, [] {
      KIRQL old = 0;
      KeRaiseIrql(APC_LEVEL, &old);
      KeLowerIrql(DISPATCH_LEVEL);
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kVerifierLowerToHigherIrql);
  EXPECT_EQ(report->parameters[1], APC_LEVEL);
  EXPECT_EQ(report->parameters[2], DISPATCH_LEVEL);
  EXPECT_EQ(report->processor, 0u);
  EXPECT_THAT(report->rule, HasSubstr("KeLowerIrql"));
}

TEST(KeLowerIrql, LoweringAtPassiveLevelOnTheTestThreadBugChecks0xC4With0x31) {
  irqsim::Machine m({.processors = 1});
  const auto report = bug_check_from([] { KeLowerIrql(APC_LEVEL); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kVerifierLowerToHigherIrql);
  EXPECT_EQ(report->parameters[1], PASSIVE_LEVEL);
  EXPECT_EQ(report->parameters[2], APC_LEVEL);
  EXPECT_FALSE(report->processor.has_value());
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
  const auto report = bug_check_from([&] {
    m.run_on(1, [&] {
      KIRQL old = 0;
      KeRaiseIrql(DISPATCH_LEVEL, &old);
      KeAcquireSpinLockAtDpcLevel(&lock);
      KeLowerIrql(PASSIVE_LEVEL);
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kSpinLockAlreadyOwned) << report->to_string();
  EXPECT_EQ(report->processor, 1u);
  // The check comes before the IRQL changes.
  EXPECT_EQ(report->irql, DISPATCH_LEVEL);
  EXPECT_THAT(report->rule, HasSubstr("KeLowerIrql"));
}

TEST(KeLowerIrql, LoweringBelowAHeldSpinLocksIrqlOnTheTestThreadBugChecks0xF) {
  irqsim::Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  KIRQL old = 0;
  KeRaiseIrql(DISPATCH_LEVEL, &old);
  KeAcquireSpinLockAtDpcLevel(&lock);
  IRQSIM_EXPECT_BUGCHECK(KeLowerIrql(old), bugcheck::kSpinLockAlreadyOwned);
}

TEST(KeLowerIrql, LoweringToTheLevelOfAHeldSpinLockIsAllowed) {
  irqsim::Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const KIRQL while_held = m.run_on(0, [&] {
    KIRQL old = 0;
    KeRaiseIrql(kAboveDeviceIrql, &old);
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
    KIRQL at_apc = 0;
    KeRaiseIrql(APC_LEVEL, &at_apc);
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
  const auto report = bug_check_from([&] {
    m.run_on(1, [] {
      KIRQL old = 0;
      KeRaiseIrql(static_cast<KIRQL>(DISPATCH_LEVEL + 1), &old);
      (void)KeRaiseIrqlToDpcLevel();
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kRuleIrqlKeDispatchLte);
  // DDI-compliance bug checks point to a description of the broken rule.
  EXPECT_THAT(rule_text(*report), HasSubstr("IrqlKeDispatchLte"));
  EXPECT_EQ(report->processor, 1u);
  EXPECT_EQ(report->irql, DISPATCH_LEVEL + 1);
  EXPECT_THAT(report->rule, HasSubstr("KeRaiseIrqlToDpcLevel"));
}

TEST(KeRaiseIrqlToDpcLevel, AboveDispatchLevelOnTheTestThreadBugChecks0xC4WithIrqlKeDispatchLte) {
  irqsim::Machine m({.processors = 1});
  KIRQL old = 0;
  KeRaiseIrql(HIGH_LEVEL, &old);
  const auto report = bug_check_from([] { (void)KeRaiseIrqlToDpcLevel(); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kDriverVerifierDetectedViolation) << report->to_string();
  EXPECT_EQ(report->parameters[0], bugcheck::kRuleIrqlKeDispatchLte);
  EXPECT_EQ(report->irql, HIGH_LEVEL);
}

// ---- returning from a processor at a raised IRQL -------------------------------------------

TEST(RunOnIrql, ReturningAtARaisedIrqlBugChecks0xE1) {
  irqsim::Machine m({.processors = 2});
  const auto report = bug_check_from([&] {
    m.run_on(1, [] {
      KIRQL old = 0;
      KeRaiseIrql(DISPATCH_LEVEL, &old);
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kWorkerThreadReturnedAtBadIrql) << report->to_string();
  EXPECT_EQ(report->parameters[1], DISPATCH_LEVEL);
  EXPECT_EQ(report->processor, 1u);
  EXPECT_EQ(report->irql, DISPATCH_LEVEL);
}

TEST(RunOnIrql, PostedFunctionReturningAtARaisedIrqlBugChecks0xE1) {
  irqsim::Machine m({.processors = 1});
  m.post(0, [] { (void)KeRaiseIrqlToDpcLevel(); });
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, bugcheck::kWorkerThreadReturnedAtBadIrql) << report->to_string();
}

TEST(RunOnIrql, ExceptionThrownAtARaisedIrqlIsRethrownAndTheNextFunctionStartsAtPassiveLevel) {
  irqsim::Machine m({.processors = 1});
  EXPECT_THROW(m.run_on(0,
                        [] {
                          KIRQL old = 0;
                          KeRaiseIrql(kAboveDeviceIrql, &old);
                          throw std::runtime_error("driver code failed");
                        }),
               std::runtime_error);
  EXPECT_FALSE(m.halted());
  EXPECT_EQ(m.run_on(0, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
}

// ---- KeLowerIrql as a preemption point -----------------------------------------------------

TEST(KeLowerIrqlPreemption, PendingInterruptIsTakenInsideKeLowerIrqlAndNotBefore) {
  irqsim::Machine m({.processors = 1});
  IsrRecord isr;
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, RecordingIsr, &isr, nullptr, kVector, kDeviceIrql, kDeviceIrql, Latched,
                               FALSE, 1, FALSE),
            STATUS_SUCCESS);
  Signal raised;
  Signal pulsed;
  std::atomic<int> runs_while_raised{-1};
  std::atomic<int> runs_after_lower{-1};
  m.post(0, [&] {
    SetOnExit signal_raised{raised};
    KIRQL old = 0;
    KeRaiseIrql(kAboveDeviceIrql, &old);
    raised.set();
    pulsed.wait();
    // A library call is a preemption point too, but IRQL 10 masks an IRQL 5 interrupt.
    (void)KeGetCurrentIrql();
    runs_while_raised = isr.runs.load();
    KeLowerIrql(old);
    runs_after_lower = isr.runs.load();
  });
  raised.wait();
  m.pulse(kVector);
  pulsed.set();
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
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, RecordingIsr, &isr, nullptr, kVector, kDeviceIrql, kDeviceIrql, Latched,
                               FALSE, 1, FALSE),
            STATUS_SUCCESS);
  const auto [at_device_irql, below_device_irql, irql_after_isr] = m.run_on(0, [&] {
    KIRQL old = 0;
    KeRaiseIrql(kAboveDeviceIrql, &old);
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
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, RecordingIsr, &isr, nullptr, kVector, kDeviceIrql, kDeviceIrql, Latched,
                               FALSE, 1, FALSE),
            STATUS_SUCCESS);
  // Keep the only processor busy outside any preemption point so the interrupt has to wait.
  Signal busy;
  Signal release;
  m.post(0, [&] {
    SetOnExit signal_busy{busy};
    busy.set();
    release.wait();
  });
  busy.wait();
  KIRQL old = 0;
  KeRaiseIrql(kAboveDeviceIrql, &old);
  m.pulse(kVector);
  KeLowerIrql(old);
  (void)KeGetCurrentIrql();
  EXPECT_EQ(isr.runs, 0);
  release.set();
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs, 1);
  EXPECT_EQ(isr.processor, 0);
  EXPECT_FALSE(isr.on_test_thread);
  IoDisconnectInterrupt(object);
}

}  // namespace
