// Executive spin locks (wdm.h): KeInitializeSpinLock, KeAcquireSpinLock / KeAcquireSpinLockRaiseToDpc,
// KeReleaseSpinLock, KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel and
// KeTryToAcquireSpinLockAtDpcLevel: their IRQL effects, mutual exclusion between simulated processors
// and other threads, and the bug checks that replace deadlocks and corruption.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <tuple>
#include <utility>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using irqsim::Machine;

// What a processor holding a lock does once it may proceed: by default, release it.
using AfterHolding = std::function<void(KSPIN_LOCK& lock, KIRQL old_irql)>;

void ReleaseIt(KSPIN_LOCK& lock, KIRQL old_irql) { KeReleaseSpinLock(&lock, old_irql); }

// Posts to `processor` a function that takes `lock` with KeAcquireSpinLock, waits for `proceed`,
// then calls `then` with the lock still held. Returns once the lock is held.
void HoldOnProcessor(Machine& m, unsigned processor, KSPIN_LOCK& lock, Gate& proceed,
                     AfterHolding then = ReleaseIt) {
  auto held = std::make_shared<Gate>();
  m.post(processor, [&lock, &proceed, held, then = std::move(then)] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    held->open();
    proceed.wait();
    then(lock, old);
  });
  held->wait();
}

// A machine on whose processor 0 a function holds lock() (HoldOnProcessor) until proceed() is
// called, or the test ends, and then does `then`: by default, releases it.
class LockHeldOnProcessor0 {
 public:
  explicit LockHeldOnProcessor0(unsigned processors, AfterHolding then = ReleaseIt)
      : machine_({.processors = processors}) {
    KeInitializeSpinLock(&lock_);
    HoldOnProcessor(machine_, 0, lock_, proceed_, std::move(then));
  }
  Machine& machine() { return machine_; }
  KSPIN_LOCK& lock() { return lock_; }
  void proceed() { proceed_.open(); }

 private:
  Gate proceed_;
  KSPIN_LOCK lock_ = 0;
  Machine machine_;
  OpenOnExit guard_{proceed_};  // lets processor 0 proceed before the machine joins its processors
};

// What the exclusion tests share: a counter that only the spin lock protects, and a count of the
// holders that found another holder inside.
struct Contended {
  KSPIN_LOCK lock = 0;
  long counter = 0;  // deliberately not atomic: only the spin lock protects it
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};

  // Needs a machine: the lock is initialized with KeInitializeSpinLock.
  Contended() { KeInitializeSpinLock(&lock); }

  // Increments the counter `iterations` times, each time under the lock taken with KeAcquireSpinLock.
  void Increment(int iterations) {
    for (int i = 0; i < iterations; ++i) {
      KIRQL old = 0;
      KeAcquireSpinLock(&lock, &old);
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      ++counter;
      inside.fetch_sub(1);
      KeReleaseSpinLock(&lock, old);
    }
  }
};

// ---- KeInitializeSpinLock ---------------------------------------------------------------------

TEST(KeInitializeSpinLock, SetsTheLockWordToZero) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock = 0xDEADBEEF;
  KeInitializeSpinLock(&lock);
  EXPECT_EQ(lock, 0u);
}

TEST(KeInitializeSpinLock, MakesAGarbageLockUsable) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock = 0x1234;
  m.run_on(0, [&] {
    KeInitializeSpinLock(&lock);
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    EXPECT_NE(LockWord(lock), 0u);
    KeReleaseSpinLock(&lock, old);
  });
  EXPECT_EQ(lock, 0u);
}

TEST(KeInitializeSpinLock, WorksAtRaisedIrqlWithoutChangingIt) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock = 0x1234;
  const KIRQL seen = m.run_on(0, [&] {
    const KIRQL old = RaiseTo(12);
    KeInitializeSpinLock(&lock);
    const KIRQL during = KeGetCurrentIrql();
    KeLowerIrql(old);
    return during;
  });
  EXPECT_EQ(seen, 12);
  EXPECT_EQ(lock, 0u);
}

TEST(KeInitializeSpinLock, NullAtPassiveBugChecks0x50) {
  Machine m({.processors = 1});
  const auto report = bug_check_from([] { KeInitializeSpinLock(nullptr); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea),
                                     RuleMentions("KeInitializeSpinLock"), OnTestThread())));
}

TEST(KeInitializeSpinLock, NullAtDispatchOnAProcessorBugChecks0xA) {
  Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] {
    RaiseTo(DISPATCH_LEVEL);
    KeInitializeSpinLock(nullptr);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), HasParameter(1, DISPATCH_LEVEL),
                                     RuleMentions("KeInitializeSpinLock"), OnProcessor(1))));
}

// ---- KeAcquireSpinLock / KeAcquireSpinLockRaiseToDpc / KeReleaseSpinLock: IRQL -------------------

TEST(KeAcquireSpinLock, RaisesToDispatchAndReturnsTheOldIrqlAndReleaseRestoresIt) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  struct Seen {
    KIRQL old, inside, after;
  };
  const Seen seen = m.run_on(0, [&] {
    KIRQL old = 0xFF;
    KeAcquireSpinLock(&lock, &old);
    const KIRQL inside = KeGetCurrentIrql();
    KeReleaseSpinLock(&lock, old);
    return Seen{old, inside, KeGetCurrentIrql()};
  });
  EXPECT_EQ(seen.old, PASSIVE_LEVEL);
  EXPECT_EQ(seen.inside, DISPATCH_LEVEL);
  EXPECT_EQ(seen.after, PASSIVE_LEVEL);
}

TEST(KeAcquireSpinLock, FromApcLevelReturnsApcLevelAndReleaseRestoresIt) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto [old, inside, after] = m.run_on(0, [&] {
    const KIRQL entry = RaiseTo(APC_LEVEL);
    KIRQL saved = 0xFF;
    KeAcquireSpinLock(&lock, &saved);
    const KIRQL during = KeGetCurrentIrql();
    KeReleaseSpinLock(&lock, saved);
    const KIRQL restored = KeGetCurrentIrql();
    KeLowerIrql(entry);
    return std::tuple{saved, during, restored};
  });
  EXPECT_EQ(old, APC_LEVEL);
  EXPECT_EQ(inside, DISPATCH_LEVEL);
  EXPECT_EQ(after, APC_LEVEL);
}

TEST(KeAcquireSpinLock, AtDispatchReturnsDispatchAndStaysThere) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto [old, after] = m.run_on(0, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    KIRQL saved = 0xFF;
    KeAcquireSpinLock(&lock, &saved);
    KeReleaseSpinLock(&lock, saved);
    const KIRQL restored = KeGetCurrentIrql();
    KeLowerIrql(entry);
    return std::pair{saved, restored};
  });
  EXPECT_EQ(old, DISPATCH_LEVEL);
  EXPECT_EQ(after, DISPATCH_LEVEL);
}

TEST(KeAcquireSpinLock, WorksOnTheTestThreadWithItsOwnIrql) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  KIRQL old = 0xFF;
  KeAcquireSpinLock(&lock, &old);
  EXPECT_EQ(old, PASSIVE_LEVEL);
  EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
  EXPECT_NE(LockWord(lock), 0u);
  // The processor's IRQL is not the test thread's.
  EXPECT_EQ(m.run_on(0, [] { return KeGetCurrentIrql(); }), PASSIVE_LEVEL);
  KeReleaseSpinLock(&lock, old);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
  EXPECT_EQ(lock, 0u);
}

TEST(KeAcquireSpinLock, LockWordIsNonzeroWhileHeldAndZeroAfterRelease) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const KSPIN_LOCK while_held = m.run_on(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    const KSPIN_LOCK value = LockWord(lock);
    KeReleaseSpinLock(&lock, old);
    return value;
  });
  EXPECT_NE(while_held, 0u);
  EXPECT_EQ(lock, 0u);
}

TEST(KeAcquireSpinLock, NestedLocksReleasedInReverseOrderRestoreEachIrql) {
  Machine m({.processors = 1});
  KSPIN_LOCK outer;
  KSPIN_LOCK inner;
  KeInitializeSpinLock(&outer);
  KeInitializeSpinLock(&inner);
  const auto [outer_old, inner_old, between, after] = m.run_on(0, [&] {
    KIRQL a = 0xFF;
    KIRQL b = 0xFF;
    KeAcquireSpinLock(&outer, &a);
    KeAcquireSpinLock(&inner, &b);
    KeReleaseSpinLock(&inner, b);
    const KIRQL mid = KeGetCurrentIrql();
    KeReleaseSpinLock(&outer, a);
    return std::tuple{a, b, mid, KeGetCurrentIrql()};
  });
  EXPECT_EQ(outer_old, PASSIVE_LEVEL);
  EXPECT_EQ(inner_old, DISPATCH_LEVEL);
  EXPECT_EQ(between, DISPATCH_LEVEL);
  EXPECT_EQ(after, PASSIVE_LEVEL);
  EXPECT_EQ(outer, 0u);
  EXPECT_EQ(inner, 0u);
}

TEST(KeAcquireSpinLockRaiseToDpc, ReturnsTheOldIrqlAndHoldsTheLockAtDispatch) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto [old, inside, held, after] = m.run_on(0, [&] {
    const KIRQL entry = RaiseTo(APC_LEVEL);
    const KIRQL saved = KeAcquireSpinLockRaiseToDpc(&lock);
    const KIRQL during = KeGetCurrentIrql();
    const KSPIN_LOCK value = LockWord(lock);
    KeReleaseSpinLock(&lock, saved);
    const KIRQL restored = KeGetCurrentIrql();
    KeLowerIrql(entry);
    return std::tuple{saved, during, value, restored};
  });
  EXPECT_EQ(old, APC_LEVEL);
  EXPECT_EQ(inside, DISPATCH_LEVEL);
  EXPECT_NE(held, 0u);
  EXPECT_EQ(after, APC_LEVEL);
  EXPECT_EQ(lock, 0u);
}

// ---- KeAcquireSpinLockAtDpcLevel / KeReleaseSpinLockFromDpcLevel / KeTryToAcquire...: IRQL ------

TEST(KeAcquireSpinLockAtDpcLevel, LeavesTheIrqlAtDispatch) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto [inside, held, after, released] = m.run_on(0, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&lock);
    const KIRQL during = KeGetCurrentIrql();
    const KSPIN_LOCK value = LockWord(lock);
    KeReleaseSpinLockFromDpcLevel(&lock);
    const KIRQL restored = KeGetCurrentIrql();
    const KSPIN_LOCK released_value = LockWord(lock);
    KeLowerIrql(entry);
    return std::tuple{during, value, restored, released_value};
  });
  EXPECT_EQ(inside, DISPATCH_LEVEL);
  EXPECT_NE(held, 0u);
  EXPECT_EQ(after, DISPATCH_LEVEL);
  EXPECT_EQ(released, 0u);
}

// The DDI page allows ">= DISPATCH_LEVEL"; irqsim follows it (see wdm.h).
TEST(KeAcquireSpinLockAtDpcLevel, AtDeviceIrqlLeavesTheIrqlUnchanged) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto [inside, after] = m.run_on(0, [&] {
    const KIRQL entry = RaiseTo(7);
    KeAcquireSpinLockAtDpcLevel(&lock);
    const KIRQL during = KeGetCurrentIrql();
    KeReleaseSpinLockFromDpcLevel(&lock);
    const KIRQL restored = KeGetCurrentIrql();
    KeLowerIrql(entry);
    return std::pair{during, restored};
  });
  EXPECT_EQ(inside, 7);
  EXPECT_EQ(after, 7);
  EXPECT_EQ(lock, 0u);
}

TEST(KeTryToAcquireSpinLockAtDpcLevel, ReturnsTrueOnAFreeLockAndLeavesTheIrqlAlone) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto [acquired, inside, held] = m.run_on(0, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    const BOOLEAN got = KeTryToAcquireSpinLockAtDpcLevel(&lock);
    const KIRQL during = KeGetCurrentIrql();
    const KSPIN_LOCK value = LockWord(lock);
    if (got) KeReleaseSpinLockFromDpcLevel(&lock);
    KeLowerIrql(entry);
    return std::tuple{got, during, value};
  });
  EXPECT_EQ(acquired, TRUE);
  EXPECT_EQ(inside, DISPATCH_LEVEL);
  EXPECT_NE(held, 0u);
  EXPECT_EQ(lock, 0u);
}

TEST(KeTryToAcquireSpinLockAtDpcLevel, ReturnsFalseWhileAnotherProcessorHoldsTheLock) {
  LockHeldOnProcessor0 held(2);
  Machine& m = held.machine();
  KSPIN_LOCK& lock = held.lock();
  const KSPIN_LOCK owner = LockWord(lock);
  EXPECT_NE(owner, 0u);
  const BOOLEAN while_held = m.run_on(1, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    const BOOLEAN got = KeTryToAcquireSpinLockAtDpcLevel(&lock);
    KeLowerIrql(entry);
    return got;
  });
  EXPECT_EQ(while_held, FALSE);
  EXPECT_EQ(LockWord(lock), owner) << "a failed try must not disturb the holder";

  held.proceed();
  m.wait_until_quiescent();
  EXPECT_EQ(lock, 0u);
  const BOOLEAN when_free = m.run_on(1, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    const BOOLEAN got = KeTryToAcquireSpinLockAtDpcLevel(&lock);
    if (got) KeReleaseSpinLockFromDpcLevel(&lock);
    KeLowerIrql(entry);
    return got;
  });
  EXPECT_EQ(when_free, TRUE);
}

TEST(KeTryToAcquireSpinLockAtDpcLevel, ReturnsFalseOnTheTestThreadWhileAProcessorHoldsTheLock) {
  LockHeldOnProcessor0 held(1);
  Machine& m = held.machine();
  KSPIN_LOCK& lock = held.lock();
  const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
  EXPECT_EQ(KeTryToAcquireSpinLockAtDpcLevel(&lock), FALSE);
  EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
  held.proceed();
  m.wait_until_quiescent();
  EXPECT_EQ(KeTryToAcquireSpinLockAtDpcLevel(&lock), TRUE);
  EXPECT_NE(LockWord(lock), 0u);
  KeReleaseSpinLockFromDpcLevel(&lock);
  KeLowerIrql(entry);
  EXPECT_EQ(lock, 0u);
}

// ---- Mutual exclusion -------------------------------------------------------------------------

TEST(SpinLockExclusion, FourProcessorsIncrementAPlainCounterExactly) {
  constexpr unsigned kProcessors = 4;
  constexpr int kIterations = 20000;
  Machine m({.processors = kProcessors});
  Contended shared;
  for (unsigned p = 0; p < kProcessors; ++p) m.post(p, [&] { shared.Increment(kIterations); });
  m.wait_until_quiescent();
  EXPECT_EQ(shared.counter, long{kProcessors} * kIterations);
  EXPECT_EQ(shared.lock, 0u);
}

// Every acquire routine against every other: a holder that finds someone already inside counts
// an overlap.
TEST(SpinLockExclusion, NoTwoHoldersAreEverInsideAtOnceWhateverRoutineTookTheLock) {
  constexpr unsigned kProcessors = 4;
  constexpr int kIterations = 5000;
  Machine m({.processors = kProcessors});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> entries{0};
  const auto critical_section = [&] {
    if (inside.fetch_add(1, std::memory_order_acq_rel) != 0) overlaps.fetch_add(1);
    entries.fetch_add(1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    inside.fetch_sub(1, std::memory_order_acq_rel);
  };
  m.post(0, [&] {
    for (int i = 0; i < kIterations; ++i) {
      KIRQL old = 0;
      KeAcquireSpinLock(&lock, &old);
      critical_section();
      KeReleaseSpinLock(&lock, old);
    }
  });
  m.post(1, [&] {
    for (int i = 0; i < kIterations; ++i) {
      const KIRQL old = KeAcquireSpinLockRaiseToDpc(&lock);
      critical_section();
      KeReleaseSpinLock(&lock, old);
    }
  });
  m.post(2, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    for (int i = 0; i < kIterations; ++i) {
      KeAcquireSpinLockAtDpcLevel(&lock);
      critical_section();
      KeReleaseSpinLockFromDpcLevel(&lock);
    }
    KeLowerIrql(entry);
  });
  m.post(3, [&] {
    const KIRQL entry = RaiseTo(DISPATCH_LEVEL);
    for (int i = 0; i < kIterations; ++i) {
      while (!KeTryToAcquireSpinLockAtDpcLevel(&lock)) {
      }
      critical_section();
      KeReleaseSpinLockFromDpcLevel(&lock);
    }
    KeLowerIrql(entry);
  });
  m.wait_until_quiescent();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(entries.load(), int{kProcessors} * kIterations);
  EXPECT_EQ(lock, 0u);
}

// Far more simulated processors than host cores: a waiter must yield so that a descheduled holder
// can finish, or this would livelock.
TEST(SpinLockExclusion, ThirtyTwoProcessorsContendWithoutLivelock) {
  constexpr unsigned kProcessors = 32;
  constexpr int kIterations = 300;
  Machine m({.processors = kProcessors});
  Contended shared;
  Latch start(kProcessors);
  for (unsigned p = 0; p < kProcessors; ++p) {
    m.post(p, [&] {
      start.arrive_and_wait();  // all 32 contend from the first iteration
      shared.Increment(kIterations);
    });
  }
  m.wait_until_quiescent();
  EXPECT_EQ(shared.counter, long{kProcessors} * kIterations);
  EXPECT_EQ(shared.overlaps.load(), 0);
}

TEST(SpinLockExclusion, TestThreadOtherThreadsAndProcessorsShareOneLock) {
  constexpr unsigned kProcessors = 2;
  constexpr int kIterations = 10000;
  Machine m({.processors = kProcessors});
  Contended shared;
  const auto work = [&] { shared.Increment(kIterations); };
  for (unsigned p = 0; p < kProcessors; ++p) m.post(p, work);
  // A second non-processor thread: it has a lock identity of its own, distinct from the test thread's.
  std::thread other(work);
  work();
  other.join();
  m.wait_until_quiescent();
  EXPECT_EQ(shared.counter, long{kProcessors + 2} * kIterations);
  EXPECT_EQ(shared.overlaps.load(), 0);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
  EXPECT_EQ(shared.lock, 0u);
}

TEST(SpinLockExclusion, AProcessorWaitsForTheTestThreadToRelease) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  std::atomic<bool> test_thread_holds{false};
  std::atomic<bool> saw_holder{false};
  Gate waiting;
  KIRQL old = 0;
  KeAcquireSpinLock(&lock, &old);
  test_thread_holds = true;
  m.post(0, [&] {
    waiting.open();
    KIRQL mine = 0;
    KeAcquireSpinLock(&lock, &mine);
    saw_holder = test_thread_holds.load();
    KeReleaseSpinLock(&lock, mine);
  });
  waiting.wait();
  test_thread_holds = false;
  KeReleaseSpinLock(&lock, old);
  m.wait_until_quiescent();
  EXPECT_FALSE(saw_holder.load()) << "the processor got the lock while the test thread still held it";
  EXPECT_EQ(lock, 0u);
}

// A processor spinning at DISPATCH_LEVEL still takes device interrupts.
TEST(SpinLockExclusion, ASpinningProcessorStillTakesDeviceInterrupts) {
  Gate release;
  Machine m({.processors = 2});
  OpenOnExit guard(release);
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  IsrRecord isr;
  // Only processor 1 (the spinner) may take vector 0x60.
  PKINTERRUPT interrupt = ConnectLatched(RecordingIsr, &isr, 0x60, 5, 5, 0b10);

  HoldOnProcessor(m, 0, lock, release);
  Gate spinning;
  std::atomic<bool> got_lock{false};
  m.post(1, [&] {
    spinning.open();
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    got_lock = true;
    KeReleaseSpinLock(&lock, old);
  });
  spinning.wait();
  m.pulse(0x60);
  // Processor 0 keeps the lock until the interrupt has been taken, so processor 1 takes it either
  // while spinning or on its way into KeAcquireSpinLock. The deadline only turns a spinner deaf to
  // interrupts (which would wait forever) into a failure instead of a hang.
  (void)Eventually([&] { return isr.runs.load() != 0; }, std::chrono::seconds(20));
  EXPECT_EQ(isr.runs.load(), 1) << "processor 1 took no interrupt while spinning on the lock";
  EXPECT_FALSE(got_lock.load());
  release.open();
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs.load(), 1);
  EXPECT_EQ(isr.processor.load(), 1);
  EXPECT_TRUE(got_lock.load());
  IoDisconnectInterrupt(interrupt);
}

// ---- Bug checks: IRQL rules ----------------------------------------------------------------------

TEST(SpinLockBugCheck, KeAcquireSpinLockAboveDispatchBugChecks0xC4_0x42) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 1, [&] {
    RaiseTo(5);
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierAcquireSpinLockAboveDispatch),
                                     HasParameter(1, 5), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeAcquireSpinLock"), OnProcessor(1), AtIrql(5))));
  EXPECT_EQ(lock, 0u) << "the lock must not be taken";
}

TEST(SpinLockBugCheck, KeAcquireSpinLockRaiseToDpcAboveDispatchOnTheTestThreadBugChecks0xC4_0x42) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  RaiseTo(HIGH_LEVEL);
  const auto report = bug_check_from([&] { KeAcquireSpinLockRaiseToDpc(&lock); });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierAcquireSpinLockAboveDispatch),
                                     HasParameter(1, HIGH_LEVEL), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeAcquireSpinLock"), OnTestThread())));
}

TEST(SpinLockBugCheck, KeReleaseSpinLockAtPassiveBugChecks0xC4_0x32) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
    KeReleaseSpinLock(&lock, old);  // double release, now at PASSIVE_LEVEL
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierReleaseSpinLockNotAtDispatch),
                                     HasParameter(1, PASSIVE_LEVEL), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeReleaseSpinLock"), OnProcessor(0))));
}

TEST(SpinLockBugCheck, KeReleaseSpinLockAboveDispatchBugChecks0xC4_0x32) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = bug_check_from([&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    RaiseTo(9);
    KeReleaseSpinLock(&lock, old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierReleaseSpinLockNotAtDispatch),
                                     HasParameter(1, 9), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeReleaseSpinLock"), OnTestThread())));
}

TEST(SpinLockBugCheck, KeAcquireSpinLockAtDpcLevelBelowDispatchBugChecks0xC4_0x40) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 1, [&] {
    RaiseTo(APC_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&lock);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierAcquireAtDpcBelowDispatch),
                                     HasParameter(1, APC_LEVEL), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeAcquireSpinLockAtDpcLevel"), OnProcessor(1))));
  EXPECT_EQ(lock, 0u);
}

TEST(SpinLockBugCheck, KeReleaseSpinLockFromDpcLevelBelowDispatchBugChecks0xC4_0x41) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = bug_check_from([&] { KeReleaseSpinLockFromDpcLevel(&lock); });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierReleaseFromDpcBelowDispatch),
                                     HasParameter(1, PASSIVE_LEVEL), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeReleaseSpinLockFromDpcLevel"), OnTestThread())));
}

TEST(SpinLockBugCheck, KeTryToAcquireSpinLockAtDpcLevelBelowDispatchBugChecks0xC4_0x40) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 0, [&] { KeTryToAcquireSpinLockAtDpcLevel(&lock); });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierAcquireAtDpcBelowDispatch),
                                     HasParameter(1, PASSIVE_LEVEL), HasParameter(2, AddressOf(&lock)),
                                     RuleMentions("KeTryToAcquireSpinLockAtDpcLevel"), OnProcessor(0))));
  EXPECT_EQ(lock, 0u);
}

// Releasing the outer lock first with its PASSIVE_LEVEL old IRQL would drop below the inner lock.
TEST(SpinLockBugCheck, ReleasingToPassiveWhileAnotherLockIsHeldBugChecks0xF) {
  Machine m({.processors = 1});
  KSPIN_LOCK outer;
  KSPIN_LOCK inner;
  KeInitializeSpinLock(&outer);
  KeInitializeSpinLock(&inner);
  const auto report = BugCheckOn(m, 0, [&] {
    KIRQL a = 0;
    KIRQL b = 0;
    KeAcquireSpinLock(&outer, &a);
    KeAcquireSpinLock(&inner, &b);
    KeReleaseSpinLock(&outer, a);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), RuleMentions("KeReleaseSpinLock"),
                                     OnProcessor(0))));
}

// ---- Bug checks: ownership -----------------------------------------------------------------------

TEST(SpinLockBugCheck, ReacquiringALockThisProcessorOwnsBugChecks0xFInsteadOfHanging) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 1, [&] {
    KIRQL first = 0;
    KIRQL second = 0;
    KeAcquireSpinLock(&lock, &first);
    KeAcquireSpinLock(&lock, &second);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameter(0, AddressOf(&lock)),
                                     RuleMentions("KeAcquireSpinLock"), OnProcessor(1))));
}

TEST(SpinLockBugCheck, ReacquiringAtDpcLevelOnTheTestThreadBugChecks0xF) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  RaiseTo(DISPATCH_LEVEL);
  KeAcquireSpinLockAtDpcLevel(&lock);
  const auto report = bug_check_from([&] { KeAcquireSpinLockAtDpcLevel(&lock); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameter(0, AddressOf(&lock)),
                                     RuleMentions("KeAcquireSpinLockAtDpcLevel"), OnTestThread())));
}

// The classic deadlock: an ISR takes an executive lock that the code it interrupted holds.
struct ReentrantIsrState {
  KSPIN_LOCK* lock = nullptr;
};

BOOLEAN LockTakingIsr(PKINTERRUPT, PVOID context) {
  KeAcquireSpinLockAtDpcLevel(static_cast<ReentrantIsrState*>(context)->lock);
  return TRUE;
}

TEST(SpinLockBugCheck, AnIsrTakingALockItsProcessorHoldsBugChecks0xF) {
  Gate stop;
  Machine m({.processors = 1});
  OpenOnExit guard(stop);
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  ReentrantIsrState state{&lock};
  (void)ConnectLatched(LockTakingIsr, &state, 0x61, 6, 6, 1);  // left connected: destruction frees it
  Gate held;
  m.post(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    held.open();
    while (!stop.is_open()) (void)KeGetCurrentIrql();  // preemption points while holding the lock
    KeReleaseSpinLock(&lock, old);
  });
  held.wait();
  m.pulse(0x61);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameter(0, AddressOf(&lock)),
                                     OnProcessor(0), AtIrql(6))));
}

TEST(SpinLockBugCheck, ReleasingAFreeLockBugChecks0x10) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 1, [&] {
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    KeReleaseSpinLock(&lock, old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&lock)),
                                     HasParameter(1, 0), RuleMentions("KeReleaseSpinLock"), OnProcessor(1))));
}

TEST(SpinLockBugCheck, ReleasingFromDpcLevelAFreeLockOnTheTestThreadBugChecks0x10) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  RaiseTo(DISPATCH_LEVEL);
  const auto report = bug_check_from([&] { KeReleaseSpinLockFromDpcLevel(&lock); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&lock)),
                                     RuleMentions("KeReleaseSpinLockFromDpcLevel"), OnTestThread())));
}

TEST(SpinLockBugCheck, ReleasingALockHeldByAnotherProcessorBugChecks0x10AndLeavesItHeld) {
  LockHeldOnProcessor0 held(2);
  KSPIN_LOCK& lock = held.lock();
  const KSPIN_LOCK owner = LockWord(lock);
  const auto report = BugCheckOn(held.machine(), 1, [&] {
    RaiseTo(DISPATCH_LEVEL);
    KeReleaseSpinLockFromDpcLevel(&lock);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&lock)),
                                     HasParameter(1, owner), RuleMentions("KeReleaseSpinLockFromDpcLevel"),
                                     OnProcessor(1))));
  EXPECT_EQ(LockWord(lock), owner);
}

TEST(SpinLockBugCheck, TheTestThreadReleasingAProcessorsLockBugChecks0x10) {
  LockHeldOnProcessor0 held(1);
  KSPIN_LOCK& lock = held.lock();
  const KIRQL old = RaiseTo(DISPATCH_LEVEL);
  const auto report = bug_check_from([&] { KeReleaseSpinLock(&lock, old); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&lock)),
                                     Not(HasParameter(1, 0)), RuleMentions("KeReleaseSpinLock"), OnTestThread())));
}

// ---- Bug checks: uninitialized locks and NULL ----------------------------------------------------

TEST(SpinLockBugCheck, AcquiringAGarbageLockBugChecks0x81InsteadOfHanging) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock = 0x1234;  // never initialized
  const auto report = BugCheckOn(m, 1, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockInitFailure), HasParameter(0, AddressOf(&lock)),
                                     HasParameter(1, 0x1234), RuleMentions("KeAcquireSpinLock"), OnProcessor(1))));
}

TEST(SpinLockBugCheck, AcquiringAGarbageLockAtDpcLevelOnTheTestThreadBugChecks0x81) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock = 0x1234;
  RaiseTo(DISPATCH_LEVEL);
  const auto report = bug_check_from([&] { KeAcquireSpinLockAtDpcLevel(&lock); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockInitFailure), HasParameter(0, AddressOf(&lock)),
                                     RuleMentions("KeAcquireSpinLockAtDpcLevel"), OnTestThread())));
}

TEST(SpinLockBugCheck, TryingAGarbageLockBugChecks0x81RatherThanReportingItBusy) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock = 0x1234;
  const auto report = BugCheckOn(m, 0, [&] {
    RaiseTo(DISPATCH_LEVEL);
    KeTryToAcquireSpinLockAtDpcLevel(&lock);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockInitFailure), HasParameter(0, AddressOf(&lock)),
                                     RuleMentions("KeTryToAcquireSpinLockAtDpcLevel"), OnProcessor(0))));
}

TEST(SpinLockBugCheck, ALockLeftHeldByAnEarlierMachineBugChecks0x81) {
  KSPIN_LOCK lock;
  {
    Machine earlier({.processors = 1});
    KeInitializeSpinLock(&lock);
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);  // never released: this machine's owner dies with it
  }
  const KSPIN_LOCK stale = lock;
  ASSERT_NE(stale, 0u);
  Machine m({.processors = 1});
  const auto report = BugCheckOn(m, 0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockInitFailure), HasParameter(1, stale))));
}

TEST(SpinLockBugCheck, KeAcquireSpinLockNullRaisesFirstSoBugChecks0xA) {
  Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [] {
    KIRQL old = 0;
    KeAcquireSpinLock(nullptr, &old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), HasParameter(0, 0),
                                     HasParameter(1, DISPATCH_LEVEL), AtIrql(DISPATCH_LEVEL),
                                     RuleMentions("KeAcquireSpinLock"), OnProcessor(1))));
}

TEST(SpinLockBugCheck, NullLockAtDispatchBugChecks0xAInEveryRoutine) {
  const auto null_at_dispatch = [](auto call) {
    Machine m({.processors = 1});
    return BugCheckOn(m, 0, [&] {
      RaiseTo(DISPATCH_LEVEL);
      call();
    });
  };
  const auto is_0xA_from = [](const char* routine) {
    return Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), RuleMentions(routine)));
  };
  EXPECT_THAT(null_at_dispatch([] { KeAcquireSpinLockAtDpcLevel(nullptr); }),
              is_0xA_from("KeAcquireSpinLockAtDpcLevel"));
  EXPECT_THAT(null_at_dispatch([] { KeReleaseSpinLockFromDpcLevel(nullptr); }),
              is_0xA_from("KeReleaseSpinLockFromDpcLevel"));
  EXPECT_THAT(null_at_dispatch([] { KeTryToAcquireSpinLockAtDpcLevel(nullptr); }),
              is_0xA_from("KeTryToAcquireSpinLockAtDpcLevel"));
  EXPECT_THAT(null_at_dispatch([] { KeReleaseSpinLock(nullptr, PASSIVE_LEVEL); }), is_0xA_from("KeReleaseSpinLock"));
}

// ---- A bug check while others wait on the lock -----------------------------------------------------

TEST(SpinLockHalt, AProcessorSpinningOnALockHeldByAHaltedProcessorDoesNotHang) {
  LockHeldOnProcessor0 held(2, [](KSPIN_LOCK& lock, KIRQL) {
    KIRQL again = 0;
    KeAcquireSpinLock(&lock, &again);  // recursive: bug check 0xF with the lock still held
  });
  Machine& m = held.machine();
  KSPIN_LOCK& lock = held.lock();
  Gate spinner_started;
  std::atomic<bool> spinner_got_lock{false};
  m.post(1, [&] {
    spinner_started.open();
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    spinner_got_lock = true;
    KeReleaseSpinLock(&lock, old);
  });
  spinner_started.wait();
  held.proceed();
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), OnProcessor(0))));
  // The spinner was unwound, and later work on the halted machine is refused the same way.
  EXPECT_THAT(BugCheckOn(m, 1, [] {}), Optional(IsBugCheck(bugcheck::kSpinLockAlreadyOwned)));
  EXPECT_FALSE(spinner_got_lock.load());
}

TEST(SpinLockHalt, RunOnAProcessorSpinningOnAHaltedHoldersLockThrowsBugCheckError) {
  // Processor 0 halts with the lock held.
  LockHeldOnProcessor0 held(3, [](KSPIN_LOCK&, KIRQL) { KeBugCheckEx(0xE2, 1, 2, 3, 4); });
  Machine& m = held.machine();
  KSPIN_LOCK& lock = held.lock();
  // Processor 2 triggers the halt once processor 1 is on its way into the lock.
  Gate spinning;
  OpenOnExit spinning_guard(spinning);
  m.post(2, [&] {
    spinning.wait();
    held.proceed();
  });
  const auto report = BugCheckOn(m, 1, [&] {
    spinning.open();
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xE2), OnProcessor(0), HasParameter(0, 1))));
}

TEST(SpinLockHalt, TheTestThreadSpinningOnAHaltedProcessorsLockGetsBugCheckError) {
  // Processor 0 halts with the lock held: it is never released.
  LockHeldOnProcessor0 held(1, [](KSPIN_LOCK&, KIRQL) { KeBugCheckEx(0xE2, 0, 0, 0, 0); });
  KSPIN_LOCK& lock = held.lock();
  const auto report = bug_check_from([&] {
    held.proceed();  // about to spin
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(0xE2), OnProcessor(0))));
  EXPECT_NE(LockWord(lock), 0u);
}

}  // namespace
