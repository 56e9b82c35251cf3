// KeSynchronizeExecution, KeAcquireInterruptSpinLock and KeReleaseInterruptSpinLock: entering an
// interrupt's critical section (its SynchronizeIrql plus its interrupt spin lock) from outside
// the ISR, the checks on misuse, and the exclusion against the ISR itself.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <ostream>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using irqsim::Machine;

int CurrentIrql() { return KeGetCurrentIrql(); }

// ConnectLatched with the IRQLs as the ints these tests loop over, and the lock before the vector.
PKINTERRUPT Connect(PKSERVICE_ROUTINE isr, PVOID context, PKSPIN_LOCK lock, ULONG vector, int irql,
                    int synchronize_irql, KAFFINITY affinity = ~KAFFINITY{0}) {
  return ConnectLatched(isr, context, vector, static_cast<KIRQL>(irql), static_cast<KIRQL>(synchronize_irql), affinity,
                        lock);
}

BOOLEAN CountingIsr(PKINTERRUPT, PVOID context) {
  static_cast<std::atomic<int>*>(context)->fetch_add(1);
  return TRUE;
}

BOOLEAN ReturnContextValue(PVOID context) { return *static_cast<const BOOLEAN*>(context); }

BOOLEAN IncrementInt(PVOID context) {
  ++*static_cast<int*>(context);
  return TRUE;
}

// ---- what a synchronized routine sees ----------------------------------------------------------

struct Probe {
  PKSPIN_LOCK lock = nullptr;
  int irql = -1;
  KSPIN_LOCK lock_value = 0;
  ULONG processor = 0xFFFF;
  int calls = 0;
};

BOOLEAN ProbeRoutine(PVOID context) {
  auto& probe = *static_cast<Probe*>(context);
  probe.irql = CurrentIrql();
  probe.lock_value = LockWord(*probe.lock);
  probe.processor = KeGetCurrentProcessorNumber();
  ++probe.calls;
  return TRUE;
}

struct Observation {
  Probe probe;
  BOOLEAN result = FALSE;
  int irql_after = -1;
  KSPIN_LOCK lock_after = 0xDEAD;
};

// Raises to `caller`, synchronizes with `object`, records what happened, lowers back.
Observation SynchronizeAt(int caller, PKINTERRUPT object, KSPIN_LOCK& lock) {
  Observation seen;
  seen.probe.lock = &lock;
  const KIRQL old = RaiseTo(static_cast<KIRQL>(caller));
  seen.result = KeSynchronizeExecution(object, ProbeRoutine, &seen.probe);
  seen.irql_after = CurrentIrql();
  seen.lock_after = LockWord(lock);
  KeLowerIrql(old);
  return seen;
}

void ExpectSynchronizedCall(const Observation& seen, int caller, int synchronize_irql) {
  EXPECT_EQ(seen.probe.calls, 1);
  EXPECT_EQ(seen.probe.irql, synchronize_irql);
  EXPECT_NE(seen.probe.lock_value, 0u) << "the interrupt lock was not held inside the routine";
  EXPECT_EQ(seen.result, TRUE);
  EXPECT_EQ(seen.irql_after, caller);
  EXPECT_EQ(seen.lock_after, 0u) << "the interrupt lock was left held";
}

// ================================================================================================
// KeSynchronizeExecution
// ================================================================================================

TEST(KeSynchronizeExecution, ReturnsTheRoutinesBooleanUnchanged) {
  Machine m({.processors = 2});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 5, 6);
  for (const BOOLEAN value : {BOOLEAN{0}, BOOLEAN{1}, BOOLEAN{2}, BOOLEAN{0x7F}, BOOLEAN{0xFF}}) {
    SCOPED_TRACE(testing::Message() << "routine returns " << int{value});
    EXPECT_EQ(KeSynchronizeExecution(object, ReturnContextValue, const_cast<BOOLEAN*>(&value)), value);
    for (unsigned p = 0; p < 2; ++p) {
      EXPECT_EQ(m.run_on(p, [&] { return KeSynchronizeExecution(object, ReturnContextValue,
                                                                  const_cast<BOOLEAN*>(&value)); }),
                value);
    }
  }
  IoDisconnectInterrupt(object);
}

TEST(KeSynchronizeExecution, RunsTheRoutineOnceOnTheCallingProcessor) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 3});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 4, 4);
  for (unsigned p = 0; p < 3; ++p) {
    const Observation seen = m.run_on(p, [&] { return SynchronizeAt(PASSIVE_LEVEL, object, lock); });
    ExpectSynchronizedCall(seen, PASSIVE_LEVEL, 4);
    EXPECT_EQ(seen.probe.processor, p);
  }
  IoDisconnectInterrupt(object);
}

// One interrupt of the table-driven tests: its Irql and SynchronizeIrql, and its own lock.
struct IrqlCase {
  int irql;
  int synchronize_irql;
  KSPIN_LOCK lock = 0;
  PKINTERRUPT object = nullptr;
};

// Fills `cases` (a deque: the objects point at its locks, which must not move) with an interrupt
// for every device SynchronizeIrql 3..12 with Irql equal to it, one with Irql 3 below it and, with
// `also_one_below`, one with Irql one below it, and connects them to vectors from 0x50.
void ConnectIrqlCases(std::deque<IrqlCase>& cases, bool also_one_below) {
  for (int sync = 3; sync <= 12; ++sync) {
    cases.push_back({sync, sync});
    if (sync > 3) cases.push_back({3, sync});
    if (also_one_below && sync > 4) cases.push_back({sync - 1, sync});
  }
  ULONG vector = 0x50;
  for (IrqlCase& c : cases) c.object = Connect(CountingIsr, nullptr, &c.lock, vector++, c.irql, c.synchronize_irql);
}

// Calls `check(c, caller)` for every case and every caller IRQL from PASSIVE_LEVEL up to its
// SynchronizeIrql, with a trace that names them.
template <class Check>
void ForEveryCallerIrql(std::deque<IrqlCase>& cases, Check check) {
  for (IrqlCase& c : cases) {
    for (int caller = PASSIVE_LEVEL; caller <= c.synchronize_irql; ++caller) {
      SCOPED_TRACE(testing::Message() << "Irql " << c.irql << ", SynchronizeIrql " << c.synchronize_irql
                                      << ", caller IRQL " << caller);
      check(c, caller);
    }
  }
}

// Every caller IRQL from PASSIVE_LEVEL up to SynchronizeIrql, for every device SynchronizeIrql,
// with Irql equal to SynchronizeIrql and below it; on a processor and on the test thread.
TEST(KeSynchronizeExecution, RunsAtSynchronizeIrqlUnderTheLockAndRestoresForEveryCallerIrql) {
  std::deque<IrqlCase> cases;
  Machine m({.processors = 2});
  ConnectIrqlCases(cases, /*also_one_below=*/true);
  ForEveryCallerIrql(cases, [&](IrqlCase& c, int caller) {
    {
      SCOPED_TRACE("on processor 1");
      ExpectSynchronizedCall(m.run_on(1, [&] { return SynchronizeAt(caller, c.object, c.lock); }), caller,
                             c.synchronize_irql);
    }
    {
      SCOPED_TRACE("on the test thread");
      ExpectSynchronizedCall(SynchronizeAt(caller, c.object, c.lock), caller, c.synchronize_irql);
    }
  });
  EXPECT_EQ(CurrentIrql(), PASSIVE_LEVEL);
  for (IrqlCase& c : cases) IoDisconnectInterrupt(c.object);
}

TEST(KeSynchronizeExecution, AboveSynchronizeIrqlOnAProcessorBugChecks0x9) {
  KSPIN_LOCK lock = 0;
  int calls = 0;
  Machine m({.processors = 2});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 5, 6);
  const auto report = BugCheckOn(m, 1, [&] {
    RaiseTo(7);
    KeSynchronizeExecution(object, IncrementInt, &calls);
  });
  // P1 is the current IRQL, P2 the SynchronizeIrql, P3 the interrupt object.
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotGreaterOrEqual), HasParameter(0, 7),
                                     HasParameter(1, 6), HasParameter(2, AddressOf(object)), OnProcessor(1),
                                     AtIrql(7), RuleMentions("KeSynchronizeExecution"))));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(LockWord(lock), 0u);
}

TEST(KeSynchronizeExecution, AboveSynchronizeIrqlOnTheTestThreadBugChecks0x9) {
  for (const int sync : {3, 8, 12}) {
    for (const int caller : {sync + 1, HIGH_LEVEL}) {
      SCOPED_TRACE(testing::Message() << "SynchronizeIrql " << sync << ", caller IRQL " << caller);
      int calls = 0;
      Machine m({.processors = 1});
      PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 3, sync);
      RaiseTo(static_cast<KIRQL>(caller));
      const auto report = bug_check_from([&] { KeSynchronizeExecution(object, IncrementInt, &calls); });
      EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotGreaterOrEqual), HasParameter(0, caller),
                                         HasParameter(1, sync), OnTestThread())));
      EXPECT_EQ(calls, 0);
    }
  }
}

TEST(KeSynchronizeExecution, NullRoutineBugChecks0xD1AtSynchronizeIrql) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 5, 7);
  const auto report = BugCheckOn(m, 0, [&] { KeSynchronizeExecution(object, nullptr, nullptr); });
  // P1 is the address referenced, P2 the IRQL, P3 = 8 an execute access.
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kDriverIrqlNotLessOrEqual), HasParameter(0, 0),
                                     HasParameter(1, 7), HasParameter(2, 8), AtIrql(7), OnProcessor(0))));
}

TEST(KeSynchronizeExecution, NullRoutineOnTheTestThreadBugChecks0xD1) {
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 9, 9);
  const auto report = bug_check_from([&] { KeSynchronizeExecution(object, nullptr, nullptr); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kDriverIrqlNotLessOrEqual), HasParameter(1, 9))));
}

TEST(KeSynchronizeExecution, PointerThatIsNotAnInterruptObjectBugChecks0x50) {
  KSPIN_LOCK not_an_object = 0;
  const auto bad_handles = [&](PKINTERRUPT real) {
    return std::vector<PKINTERRUPT>{nullptr, reinterpret_cast<PKINTERRUPT>(&not_an_object),
                                    reinterpret_cast<PKINTERRUPT>(reinterpret_cast<char*>(real) + 8)};
  };
  for (std::size_t which = 0; which < 3; ++which) {
    SCOPED_TRACE(testing::Message() << "bad handle #" << which);
    int calls = 0;
    Machine m({.processors = 1});
    PKINTERRUPT real = Connect(CountingIsr, nullptr, nullptr, 0x40, 5, 5);
    const PKINTERRUPT bad = bad_handles(real)[which];
    const auto report = BugCheckOn(m, 0, [&] { KeSynchronizeExecution(bad, IncrementInt, &calls); });
    EXPECT_THAT(report,
                Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, AddressOf(bad)))));
    EXPECT_EQ(calls, 0);
  }
}

TEST(KeSynchronizeExecution, DisconnectedInterruptObjectBugChecks0xCC) {
  int calls = 0;
  Machine m({.processors = 2});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 5, 5);
  EXPECT_EQ(KeSynchronizeExecution(object, IncrementInt, &calls), TRUE);
  IoDisconnectInterrupt(object);
  const auto report = BugCheckOn(m, 1, [&] { KeSynchronizeExecution(object, IncrementInt, &calls); });
  EXPECT_THAT(report,
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool), HasParameter(0, AddressOf(object)))));
  EXPECT_EQ(calls, 1) << "the routine must not run for a freed object";
}

struct Nested {
  PKINTERRUPT object = nullptr;
  int calls = 0;
};

BOOLEAN SynchronizeAgain(PVOID context) {
  auto& nested = *static_cast<Nested*>(context);
  ++nested.calls;
  return KeSynchronizeExecution(nested.object, IncrementInt, &nested.calls);
}

// The routine already holds the interrupt lock: taking it again would deadlock forever.
TEST(KeSynchronizeExecution, NestedOnTheSameInterruptBugChecks0xF) {
  KSPIN_LOCK lock = 0;
  Nested nested;
  Machine m({.processors = 1});
  nested.object = Connect(CountingIsr, nullptr, &lock, 0x40, 6, 6);
  const auto report = BugCheckOn(m, 0, [&] { KeSynchronizeExecution(nested.object, SynchronizeAgain, &nested); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameter(0, AddressOf(&lock)))));
  EXPECT_EQ(nested.calls, 1) << "the inner routine must not run";
}

// ================================================================================================
// KeAcquireInterruptSpinLock / KeReleaseInterruptSpinLock
// ================================================================================================

struct LockObservation {
  int old_irql = -1;
  int irql_inside = -1;
  KSPIN_LOCK lock_inside = 0;
  int irql_after = -1;
  KSPIN_LOCK lock_after = 0xDEAD;
};

LockObservation AcquireReleaseAt(int caller, PKINTERRUPT object, KSPIN_LOCK& lock) {
  LockObservation seen;
  const KIRQL old = RaiseTo(static_cast<KIRQL>(caller));
  const KIRQL returned = KeAcquireInterruptSpinLock(object);
  seen.old_irql = returned;
  seen.irql_inside = CurrentIrql();
  seen.lock_inside = LockWord(lock);
  KeReleaseInterruptSpinLock(object, returned);
  seen.irql_after = CurrentIrql();
  seen.lock_after = LockWord(lock);
  KeLowerIrql(old);
  return seen;
}

TEST(KeAcquireInterruptSpinLock, ReturnsOldIrqlAndHoldsTheLockAtSynchronizeIrqlUntilReleased) {
  std::deque<IrqlCase> cases;
  Machine m({.processors = 2});
  ConnectIrqlCases(cases, /*also_one_below=*/false);
  ForEveryCallerIrql(cases, [&](IrqlCase& c, int caller) {
    const LockObservation on_processor = m.run_on(0, [&] { return AcquireReleaseAt(caller, c.object, c.lock); });
    const LockObservation on_thread = AcquireReleaseAt(caller, c.object, c.lock);
    for (const LockObservation& seen : {on_processor, on_thread}) {
      EXPECT_EQ(seen.old_irql, caller);
      EXPECT_EQ(seen.irql_inside, c.synchronize_irql);
      EXPECT_NE(seen.lock_inside, 0u);
      EXPECT_EQ(seen.irql_after, caller);
      EXPECT_EQ(seen.lock_after, 0u);
    }
  });
  for (IrqlCase& c : cases) IoDisconnectInterrupt(c.object);
}

TEST(KeAcquireInterruptSpinLock, HeldLockBlocksKeSynchronizeExecutionOnAnotherProcessor) {
  KSPIN_LOCK lock = 0;
  int calls = 0;
  Machine m({.processors = 2});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 5, 5);
  // The test thread holds the lock; processor 1's KeSynchronizeExecution must wait for it.
  const KIRQL old = KeAcquireInterruptSpinLock(object);
  std::atomic<bool> synchronized{false};
  m.post(1, [&] {
    KeSynchronizeExecution(object, IncrementInt, &calls);
    synchronized = true;
  });
  // Let processor 1 get well into the call; it cannot complete while the lock is held.
  for (int i = 0; i < 1000 && !synchronized; ++i) std::this_thread::yield();
  EXPECT_FALSE(synchronized.load());
  EXPECT_EQ(calls, 0);
  KeReleaseInterruptSpinLock(object, old);
  m.wait_until_quiescent();
  EXPECT_TRUE(synchronized.load());
  EXPECT_EQ(calls, 1);
  IoDisconnectInterrupt(object);
}

TEST(KeAcquireInterruptSpinLock, AboveSynchronizeIrqlBugChecks0x9) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 4, 8);
  const auto report = BugCheckOn(m, 0, [&] {
    RaiseTo(9);
    KeAcquireInterruptSpinLock(object);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotGreaterOrEqual), HasParameter(0, 9),
                                     HasParameter(1, 8), RuleMentions("KeAcquireInterruptSpinLock"))));
  EXPECT_EQ(LockWord(lock), 0u) << "the lock must not be taken";
}

TEST(KeReleaseInterruptSpinLock, ReleasingALockThatIsNotHeldBugChecks0x10) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 6, 6);
  const auto report = BugCheckOn(m, 0, [&] { KeReleaseInterruptSpinLock(object, RaiseTo(6)); });
  // P2 = 0: the lock is not held by anyone.
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&lock)),
                                     HasParameter(1, 0))));
}

TEST(KeReleaseInterruptSpinLock, ReleasingALockAnotherContextHoldsBugChecks0x10) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 6, 6);
  KeAcquireInterruptSpinLock(object);  // held by the test thread
  const KSPIN_LOCK owner = LockWord(lock);
  ASSERT_NE(owner, 0u);
  const auto report = BugCheckOn(m, 0, [&] { KeReleaseInterruptSpinLock(object, RaiseTo(6)); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(1, owner))));
  EXPECT_EQ(LockWord(lock), owner) << "the owner's lock must stay held";
}

TEST(KeReleaseInterruptSpinLock, OldIrqlAboveTheCurrentIrqlBugChecksC4Sub31) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 5, 5);
  const auto report = BugCheckOn(m, 0, [&] {
    KeAcquireInterruptSpinLock(object);
    KeReleaseInterruptSpinLock(object, 7);
  });
  // P2 is the current IRQL, P3 the requested one.
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierLowerToHigherIrql), HasParameter(1, 5),
                                     HasParameter(2, 7))));
}

TEST(KeAcquireInterruptSpinLock, AcquiringTwiceOnOneProcessorBugChecks0xF) {
  KSPIN_LOCK lock = 0;
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, &lock, 0x40, 5, 5);
  const auto report = BugCheckOn(m, 0, [&] {
    KeAcquireInterruptSpinLock(object);
    KeAcquireInterruptSpinLock(object);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameter(0, AddressOf(&lock)))));
}

TEST(KeAcquireInterruptSpinLock, LoweringBelowSynchronizeIrqlWhileHeldBugChecks0xF) {
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 5, 8);
  const auto report = BugCheckOn(m, 0, [&] {
    KeAcquireInterruptSpinLock(object);
    KeLowerIrql(PASSIVE_LEVEL);
  });
  EXPECT_THAT(report, Optional(IsBugCheck(bugcheck::kSpinLockAlreadyOwned)));
}

TEST(KeAcquireInterruptSpinLock, BadHandlesBugCheck0x50And0xCC) {
  KSPIN_LOCK not_an_object = 0;
  {
    Machine m({.processors = 1});
    EXPECT_THAT(BugCheckOn(m, 0, [&] { KeAcquireInterruptSpinLock(reinterpret_cast<PKINTERRUPT>(&not_an_object)); }),
                Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea),
                               HasParameter(0, AddressOf(&not_an_object)))));
  }
  {
    Machine m({.processors = 1});
    EXPECT_THAT(bug_check_from([&] { KeReleaseInterruptSpinLock(nullptr, PASSIVE_LEVEL); }),
                Optional(IsBugCheck(bugcheck::kPageFaultInNonpagedArea)));
  }
  {
    Machine m({.processors = 1});
    PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 5, 5);
    IoDisconnectInterrupt(object);
    EXPECT_THAT(BugCheckOn(m, 0, [&] { KeAcquireInterruptSpinLock(object); }),
                Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool),
                               HasParameter(0, AddressOf(object)))));
  }
  {
    Machine m({.processors = 1});
    PKINTERRUPT object = Connect(CountingIsr, nullptr, nullptr, 0x40, 5, 5);
    IoDisconnectInterrupt(object);
    EXPECT_THAT(bug_check_from([&] { KeReleaseInterruptSpinLock(object, PASSIVE_LEVEL); }),
                Optional(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool)));
  }
}

// ================================================================================================
// Exclusion with the ISR
// ================================================================================================

// A two-field record that the ISR and the synchronized code update non-atomically: a is written,
// then b = a. Whoever enters while someone else is between the two writes sees b != a. The fields
// are atomics only so that a broken lock is a detected failure rather than undefined behaviour.
struct Record {
  std::atomic<std::uint64_t> a{0};
  std::atomic<std::uint64_t> b{0};
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> wrong_irql{0};
  int expected_irql = -1;

  void touch() {
    const int now = inside.fetch_add(1) + 1;
    int seen = max_inside.load();
    while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
    }
    if (CurrentIrql() != expected_irql) wrong_irql.fetch_add(1);
    const std::uint64_t value = a.load(std::memory_order_relaxed);
    if (b.load(std::memory_order_relaxed) != value) torn.fetch_add(1);
    a.store(value + 1, std::memory_order_relaxed);
    for (int i = 0; i < 64; ++i) {  // widen the window between the two writes
      if (b.load(std::memory_order_relaxed) != value) torn.fetch_add(1);
    }
    b.store(value + 1, std::memory_order_relaxed);
    inside.fetch_sub(1);
  }
};

struct IsrState {
  Record* record = nullptr;
  std::atomic<std::uint64_t> runs{0};
};

BOOLEAN TouchingIsr(PKINTERRUPT, PVOID context) {
  auto& state = *static_cast<IsrState*>(context);
  state.record->touch();
  state.runs.fetch_add(1);
  return TRUE;
}

BOOLEAN TouchingRoutine(PVOID context) {
  static_cast<Record*>(context)->touch();
  return TRUE;
}

enum class Entry { KeSynchronizeExecution, InterruptSpinLock };

void EnterCriticalSection(Entry entry, PKINTERRUPT object, Record& record) {
  if (entry == Entry::KeSynchronizeExecution) {
    KeSynchronizeExecution(object, TouchingRoutine, &record);
  } else {
    const KIRQL old = KeAcquireInterruptSpinLock(object);
    record.touch();
    KeReleaseInterruptSpinLock(object, old);
  }
}

// Pulses the vectors round-robin until asked to stop (at least once each).
std::jthread StartPulsing(Machine& m, std::vector<ULONG> vectors, std::atomic<std::uint64_t>& pulses) {
  return std::jthread([&m, &pulses, vectors = std::move(vectors)](const std::stop_token& stop) {
    do {
      for (const ULONG vector : vectors) m.pulse(vector);
      pulses.fetch_add(1);
      std::this_thread::yield();
    } while (!stop.stop_requested());
  });
}

// Who enters the critical section while the line is pulsed: the test thread (the processors stay
// idle and take the interrupts, a second thread pulses), or every processor through post (the test
// thread pulses, and the processors take the interrupts between their own entries).
enum class Callers { TestThread, Processors };

struct StressCase {
  unsigned processors;
  Callers callers;
  Entry entry;
  int irql;
  int synchronize_irql;
};

std::string StressCaseName(const testing::TestParamInfo<StressCase>& info) {
  const StressCase& c = info.param;
  return std::to_string(c.processors) + "Processors" +
         (c.callers == Callers::TestThread ? "TestThreadCalls" : "ProcessorsCall") +
         (c.entry == Entry::KeSynchronizeExecution ? "KeSynchronizeExecution" : "InterruptSpinLock") + "Irql" +
         std::to_string(c.irql) + "Sync" + std::to_string(c.synchronize_irql);
}

void PrintTo(const StressCase& c, std::ostream* os) { *os << StressCaseName({c, 0}); }

class InterruptLockExclusionStress : public testing::TestWithParam<StressCase> {};

TEST_P(InterruptLockExclusionStress, IsrAndSynchronizedCodeNeverOverlap) {
  const StressCase param = GetParam();
  // Each caller runs at least kMinRounds entries and keeps going until the ISR has run
  // kMinIsrRuns times, so the two really contend however the host schedules the threads.
  constexpr std::uint64_t kMinRounds = 2000;
  constexpr std::uint64_t kMinIsrRuns = 2000;
  constexpr ULONG kVector = 0x70;
  Record record;
  record.expected_irql = param.synchronize_irql;
  IsrState isr{&record};
  std::atomic<std::uint64_t> entries{0};
  std::atomic<unsigned> callers_done{0};
  std::atomic<std::uint64_t> pulses{0};
  Machine m({.processors = param.processors});
  PKINTERRUPT object = Connect(TouchingIsr, &isr, nullptr, kVector, param.irql, param.synchronize_irql);
  const auto caller_loop = [&] {
    for (std::uint64_t i = 0; (i < kMinRounds || isr.runs.load() < kMinIsrRuns) && !m.halted(); ++i) {
      EnterCriticalSection(param.entry, object, record);
      entries.fetch_add(1);
      // The host may have fewer cores than there are busy threads: let a descheduled
      // processor holding the routed interrupt get on.
      std::this_thread::yield();
    }
  };
  unsigned callers = 1;
  if (param.callers == Callers::TestThread) {
    std::jthread pulser = StartPulsing(m, {kVector}, pulses);
    caller_loop();
  } else {
    callers = param.processors;
    for (unsigned p = 0; p < param.processors; ++p) {
      m.post(p, [&] {
        struct Done {
          std::atomic<unsigned>& count;
          ~Done() { count.fetch_add(1); }
        } done{callers_done};
        caller_loop();
      });
    }
    while (callers_done.load() < param.processors && !m.halted()) {
      m.pulse(kVector);
      pulses.fetch_add(1);
      std::this_thread::yield();
    }
  }
  m.wait_until_quiescent();

  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(record.torn.load(), 0u) << "an entry saw the record half-updated";
  EXPECT_EQ(record.max_inside.load(), 1) << "two holders of the interrupt lock overlapped";
  EXPECT_EQ(record.wrong_irql.load(), 0u);
  EXPECT_GE(isr.runs.load(), kMinIsrRuns);
  EXPECT_GE(entries.load(), kMinRounds * callers);
  EXPECT_LE(isr.runs.load(), pulses.load());
  EXPECT_EQ(isr.runs.load(), stats.claimed);
  EXPECT_EQ(stats.deliveries, stats.claimed);
  EXPECT_EQ(record.a.load(), isr.runs.load() + entries.load()) << "an update was lost";
  EXPECT_EQ(record.b.load(), record.a.load());
  IoDisconnectInterrupt(object);
}

INSTANTIATE_TEST_SUITE_P(
    Stress, InterruptLockExclusionStress,
    testing::Values(StressCase{2, Callers::TestThread, Entry::KeSynchronizeExecution, 6, 6},
                    StressCase{4, Callers::TestThread, Entry::KeSynchronizeExecution, 4, 9},
                    StressCase{2, Callers::Processors, Entry::KeSynchronizeExecution, 5, 8},
                    StressCase{4, Callers::Processors, Entry::KeSynchronizeExecution, 7, 7},
                    StressCase{2, Callers::TestThread, Entry::InterruptSpinLock, 5, 8},
                    StressCase{4, Callers::TestThread, Entry::InterruptSpinLock, 7, 7},
                    StressCase{2, Callers::Processors, Entry::InterruptSpinLock, 6, 6},
                    StressCase{4, Callers::Processors, Entry::InterruptSpinLock, 4, 9}),
    StressCaseName);

// Two vectors at different IRQLs share one caller-supplied lock and SynchronizeIrql = the higher
// IRQL, so neither ISR can interrupt the other on one processor nor run beside it on another.
TEST(InterruptLockExclusion, TwoInterruptsSharingALockNeverRunTheirIsrsTogether) {
  constexpr std::uint64_t kMinRounds = 1000;
  constexpr std::uint64_t kMinIsrRuns = 1000;  // of each ISR
  constexpr ULONG kLow = 0x71;
  constexpr ULONG kHigh = 0x72;
  KSPIN_LOCK lock = 0;
  Record record;
  record.expected_irql = 8;
  IsrState low{&record};
  IsrState high{&record};
  std::atomic<std::uint64_t> pulses{0};
  std::uint64_t entries = 0;
  Machine m({.processors = 4});
  KeInitializeSpinLock(&lock);
  PKINTERRUPT low_object = Connect(TouchingIsr, &low, &lock, kLow, 5, 8);
  PKINTERRUPT high_object = Connect(TouchingIsr, &high, &lock, kHigh, 8, 8);
  {
    std::jthread pulser = StartPulsing(m, {kLow, kHigh}, pulses);
    // The test thread also enters the shared critical section through either object.
    while ((entries < kMinRounds || low.runs.load() < kMinIsrRuns || high.runs.load() < kMinIsrRuns) &&
           !m.halted()) {
      EnterCriticalSection(Entry::KeSynchronizeExecution, entries % 2 == 0 ? low_object : high_object, record);
      ++entries;
      std::this_thread::yield();
    }
  }
  m.wait_until_quiescent();

  EXPECT_EQ(record.max_inside.load(), 1) << "the ISRs overlapped";
  EXPECT_EQ(record.torn.load(), 0u);
  EXPECT_EQ(record.wrong_irql.load(), 0u) << "both ISRs run at the shared SynchronizeIrql 8";
  EXPECT_EQ(low.runs.load(), m.stats(kLow).claimed);
  EXPECT_EQ(high.runs.load(), m.stats(kHigh).claimed);
  EXPECT_EQ(record.a.load(), low.runs.load() + high.runs.load() + entries);
  EXPECT_EQ(LockWord(lock), 0u);
  IoDisconnectInterrupt(low_object);
  IoDisconnectInterrupt(high_object);
}

struct IsrProbe {
  PKSPIN_LOCK lock = nullptr;
  std::atomic<int> irql{-1};
  std::atomic<KSPIN_LOCK> lock_value{0};
};

BOOLEAN ProbingIsr(PKINTERRUPT, PVOID context) {
  auto& probe = *static_cast<IsrProbe*>(context);
  probe.irql = CurrentIrql();
  probe.lock_value = LockWord(*probe.lock);
  return TRUE;
}

// The other side of the critical section: the ISR itself runs at SynchronizeIrql (not at its
// Irql) with the same lock held.
TEST(InterruptLockExclusion, IsrRunsAtSynchronizeIrqlHoldingTheInterruptLock) {
  for (const auto& [irql, sync] : {std::pair{3, 3}, std::pair{3, 12}, std::pair{5, 9}, std::pair{12, 12}}) {
    SCOPED_TRACE(testing::Message() << "Irql " << irql << ", SynchronizeIrql " << sync);
    KSPIN_LOCK lock = 0;
    IsrProbe probe;
    probe.lock = &lock;
    Machine m({.processors = 2});
    PKINTERRUPT object = Connect(ProbingIsr, &probe, &lock, 0x40, irql, sync);
    m.pulse(0x40);
    m.wait_until_quiescent();
    EXPECT_EQ(probe.irql.load(), sync);
    EXPECT_NE(probe.lock_value.load(), 0u);
    EXPECT_EQ(LockWord(lock), 0u);
    IoDisconnectInterrupt(object);
  }
}

// An ISR accepted by a processor while someone else holds the lock waits for it: the processor
// has taken the interrupt (interrupts_taken) but the ISR body has not run.
TEST(InterruptLockExclusion, IsrWaitsForTheTestThreadInsideKeSynchronizeExecution) {
  struct Holder {
    Machine* m;
    std::atomic<int>* isr_runs;
    int isr_runs_inside = -1;
  };
  std::atomic<int> isr_runs{0};
  Machine m({.processors = 1});
  Holder holder{&m, &isr_runs};
  PKINTERRUPT object = Connect(CountingIsr, &isr_runs, nullptr, 0x40, 5, 5);
  const auto routine = [](PVOID context) -> BOOLEAN {
    auto& h = *static_cast<Holder*>(context);
    h.m->pulse(0x40);
    while (h.m->interrupts_taken(0) == 0 && h.isr_runs->load() == 0 && !h.m->halted()) std::this_thread::yield();
    h.isr_runs_inside = h.isr_runs->load();
    return TRUE;
  };
  EXPECT_EQ(KeSynchronizeExecution(object, routine, &holder), TRUE);
  m.wait_until_quiescent();
  EXPECT_EQ(holder.isr_runs_inside, 0) << "the ISR ran while the test thread held the interrupt lock";
  EXPECT_EQ(isr_runs.load(), 1);
  EXPECT_EQ(m.interrupts_taken(0), 1u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptLockExclusion, IsrOnAnotherProcessorWaitsForTheInterruptSpinLock) {
  std::atomic<int> isr_runs{0};
  Machine m({.processors = 2});
  // The ISR may run only on processor 1; processor 0 holds its lock.
  PKINTERRUPT object = Connect(CountingIsr, &isr_runs, nullptr, 0x40, 6, 6, KAFFINITY{0b10});
  const int isr_runs_while_held = m.run_on(0, [&] {
    const KIRQL old = KeAcquireInterruptSpinLock(object);
    m.pulse(0x40);
    while (m.interrupts_taken(1) == 0 && isr_runs.load() == 0 && !m.halted()) std::this_thread::yield();
    const int runs = isr_runs.load();
    KeReleaseInterruptSpinLock(object, old);
    return runs;
  });
  m.wait_until_quiescent();
  EXPECT_EQ(isr_runs_while_held, 0) << "the ISR ran while processor 0 held the interrupt lock";
  EXPECT_EQ(isr_runs.load(), 1);
  EXPECT_EQ(m.interrupts_taken(1), 1u);
  EXPECT_EQ(m.interrupts_taken(0), 0u);
  IoDisconnectInterrupt(object);
}

// ================================================================================================
// Interrupts pending while a processor is inside the critical section
// ================================================================================================

struct PulseInside {
  Machine* m = nullptr;
  ULONG vector = 0;
  std::atomic<int>* isr_runs = nullptr;
  int runs_before_preemption_point = -1;
  int runs_after_preemption_point = -1;
  int irql_inside = -1;
};

// Pulses a vector, then calls KeGetCurrentIrql (a preemption point) and records the ISR's runs.
BOOLEAN PulseAndCheck(PVOID context) {
  auto& s = *static_cast<PulseInside*>(context);
  s.m->pulse(s.vector);
  s.runs_before_preemption_point = s.isr_runs->load();
  s.irql_inside = CurrentIrql();
  s.runs_after_preemption_point = s.isr_runs->load();
  return TRUE;
}

TEST(InterruptPreemption, OwnInterruptIsHeldOffUntilKeSynchronizeExecutionLowersTheIrql) {
  for (const int caller : {PASSIVE_LEVEL, DISPATCH_LEVEL}) {
    SCOPED_TRACE(testing::Message() << "caller IRQL " << caller);
    std::atomic<int> isr_runs{0};
    Machine m({.processors = 1});
    PKINTERRUPT object = Connect(CountingIsr, &isr_runs, nullptr, 0x40, 5, 5);
    PulseInside s{&m, 0x40, &isr_runs};
    const int runs_after_return = m.run_on(0, [&] {
      const KIRQL old = RaiseTo(static_cast<KIRQL>(caller));
      KeSynchronizeExecution(object, PulseAndCheck, &s);
      const int runs = isr_runs.load();
      KeLowerIrql(old);
      return runs;
    });
    EXPECT_EQ(s.irql_inside, 5);
    EXPECT_EQ(s.runs_after_preemption_point, 0) << "the ISR ran inside its own critical section";
    EXPECT_EQ(runs_after_return, 1) << "the ISR must run as KeSynchronizeExecution restores the IRQL";
    m.wait_until_quiescent();
    EXPECT_EQ(isr_runs.load(), 1);
    IoDisconnectInterrupt(object);
  }
}

// Irql 5 with SynchronizeIrql 9, called at IRQL 6: returning to 6 still masks the IRQL-5 vector,
// so the ISR runs only when the caller lowers below 5.
TEST(InterruptPreemption, OwnInterruptRunsOnlyWhenTheIrqlDropsBelowItsIrql) {
  std::atomic<int> isr_runs{0};
  Machine m({.processors = 1});
  PKINTERRUPT object = Connect(CountingIsr, &isr_runs, nullptr, 0x40, 5, 9);
  PulseInside s{&m, 0x40, &isr_runs};
  struct Runs {
    int after_return;
    int after_lower;
  };
  const Runs runs = m.run_on(0, [&] {
    const KIRQL old = RaiseTo(6);
    KeSynchronizeExecution(object, PulseAndCheck, &s);
    const int after_return = isr_runs.load();
    KeLowerIrql(old);
    return Runs{after_return, isr_runs.load()};
  });
  EXPECT_EQ(s.irql_inside, 9);
  EXPECT_EQ(s.runs_after_preemption_point, 0);
  EXPECT_EQ(runs.after_return, 0);
  EXPECT_EQ(runs.after_lower, 1);
  IoDisconnectInterrupt(object);
}

struct HighIsrState {
  std::atomic<int> runs{0};
  int irql = -1;
  KSPIN_LOCK low_lock_seen = 0;
  KSPIN_LOCK* low_lock = nullptr;
};

BOOLEAN HighIsr(PKINTERRUPT, PVOID context) {
  auto& s = *static_cast<HighIsrState*>(context);
  s.irql = CurrentIrql();
  s.low_lock_seen = LockWord(*s.low_lock);
  s.runs.fetch_add(1);
  return TRUE;
}

// On one processor, code inside the critical section of an IRQL-5 interrupt is preempted by an
// IRQL-9 interrupt at its next preemption point, still holding the IRQL-5 lock.
TEST(InterruptPreemption, HigherIrqlInterruptPreemptsTheHolderOfALowerInterruptLock) {
  KSPIN_LOCK low_lock = 0;
  HighIsrState high;
  high.low_lock = &low_lock;
  Machine m({.processors = 1});
  PKINTERRUPT low_object = Connect(CountingIsr, nullptr, &low_lock, 0x40, 5, 5);
  PKINTERRUPT high_object = Connect(HighIsr, &high, nullptr, 0x41, 9, 9);
  PulseInside s{&m, 0x41, &high.runs};
  m.run_on(0, [&] { KeSynchronizeExecution(low_object, PulseAndCheck, &s); });
  EXPECT_EQ(s.runs_before_preemption_point, 0) << "no preemption point had been reached yet";
  EXPECT_EQ(s.runs_after_preemption_point, 1) << "9 > 5: the IRQL-9 ISR must run inside the routine";
  EXPECT_EQ(s.irql_inside, 5) << "back at SynchronizeIrql after the preempting ISR";
  EXPECT_EQ(high.irql, 9);
  EXPECT_NE(high.low_lock_seen, 0u) << "the preempted routine still holds its lock";
  EXPECT_EQ(high.runs.load(), 1);
  EXPECT_EQ(m.stats(0x41).claimed, 1u);
  IoDisconnectInterrupt(low_object);
  IoDisconnectInterrupt(high_object);
}

TEST(InterruptPreemption, InterruptAtOrBelowSynchronizeIrqlIsHeldOffInsideTheRoutine) {
  struct Case {
    int holder_irql, holder_sync, other_irql;
  };
  for (const Case c : {Case{5, 5, 3}, Case{5, 5, 5}, Case{5, 9, 9}, Case{5, 9, 7}}) {
    SCOPED_TRACE(testing::Message() << "holder Irql " << c.holder_irql << " sync " << c.holder_sync
                                    << ", other interrupt IRQL " << c.other_irql);
    std::atomic<int> other_runs{0};
    Machine m({.processors = 1});
    PKINTERRUPT holder = Connect(CountingIsr, nullptr, nullptr, 0x40, c.holder_irql, c.holder_sync);
    PKINTERRUPT other = Connect(CountingIsr, &other_runs, nullptr, 0x41, c.other_irql, c.other_irql);
    PulseInside s{&m, 0x41, &other_runs};
    const int runs_after_return = m.run_on(0, [&] {
      KeSynchronizeExecution(holder, PulseAndCheck, &s);
      return other_runs.load();
    });
    EXPECT_EQ(s.runs_after_preemption_point, 0);
    EXPECT_EQ(runs_after_return, 1);
    IoDisconnectInterrupt(holder);
    IoDisconnectInterrupt(other);
  }
}

// Why interrupts that share a lock must share the highest SynchronizeIrql: with SynchronizeIrql 5
// for the IRQL-5 interrupt, the IRQL-8 interrupt preempts the lock holder on its own processor and
// spins on a lock that processor owns.
TEST(InterruptPreemption, SharedLockWithTooLowSynchronizeIrqlBugChecks0xF) {
  KSPIN_LOCK lock = 0;
  std::atomic<int> high_runs{0};
  Machine m({.processors = 1});
  PKINTERRUPT low = Connect(CountingIsr, nullptr, &lock, 0x40, 5, 5);
  Connect(CountingIsr, &high_runs, &lock, 0x41, 8, 8);
  PulseInside s{&m, 0x41, &high_runs};
  const auto report = BugCheckOn(m, 0, [&] { KeSynchronizeExecution(low, PulseAndCheck, &s); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameter(0, AddressOf(&lock)),
                                     AtIrql(8))));
  EXPECT_EQ(high_runs.load(), 0);
}

}  // namespace
