// wdm.h's inline IRQL and spin-lock routines: on a processor with nothing pending they only
// touch its state, and everything else goes through the library. These tests drive them in
// the situations where the fast path must step aside: a halt, a DPC queued from another
// processor, the watchdog, and misuse the library reports.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

namespace {

using namespace std::chrono_literals;
using irqsim::Machine;
using irqsim::testing::bug_check_from;
using ::testing::Optional;
using ::testing::Field;

// Raises to DISPATCH_LEVEL and back, and takes and drops a spin lock, until `stop` is set or
// `limit` has passed; returns how many rounds it ran. Only inline routines.
int SpinThroughInlineRoutines(PKSPIN_LOCK lock, const std::atomic<bool>& stop, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int rounds = 0;
  while (!stop.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
    KIRQL old_irql;
    KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    KeLowerIrql(old_irql);
    KeAcquireSpinLock(lock, &old_irql);
    KeReleaseSpinLock(lock, old_irql);
    ++rounds;
  }
  return rounds;
}

// Sets its flag when it goes out of scope, also when a halt unwinds the processor's stack.
struct SetOnExit {
  std::atomic<bool>& flag;
  ~SetOnExit() { flag.store(true, std::memory_order_release); }
};

TEST(InlineRoutines, AProcessorLoopingThroughThemStopsWhenAnotherProcessorBugChecks) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  std::atomic<bool> never{false};
  std::atomic<bool> looping{false};
  std::atomic<bool> left_the_loop{false};
  m.post(0, [&] {
    const SetOnExit on_exit{left_the_loop};
    looping.store(true);
    SpinThroughInlineRoutines(&lock, never, 30s);
  });
  while (!looping.load()) std::this_thread::yield();
  m.post(1, [] {
    KIRQL old_irql;
    KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    KeLowerIrql(PASSIVE_LEVEL + 5);  // a "lowering" to a higher IRQL: 0xC4/0x31
  });
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report,
              Optional(Field(&irqsim::BugCheckReport::code, irqsim::bugcheck::kDriverVerifierDetectedViolation)));
  // Before the machine is destroyed (which would stop the processor anyway).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!left_the_loop.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(left_the_loop.load()) << "processor 0 kept running its loop after the halt";
}

VOID SetFlagDpc(PKDPC, PVOID context, PVOID, PVOID) {
  static_cast<std::atomic<bool>*>(context)->store(true, std::memory_order_release);
}

TEST(InlineRoutines, ADpcQueuedFromAnotherProcessorDuringTheLoopRunsInsideIt) {
  Machine m({.processors = 2});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  std::atomic<bool> ran{false};
  KDPC dpc;
  KeInitializeDpc(&dpc, SetFlagDpc, &ran);
  KeSetImportanceDpc(&dpc, HighImportance);
  KeSetTargetProcessorDpc(&dpc, 0);
  std::atomic<bool> looping{false};
  std::atomic<bool> ran_inside_the_loop{false};
  m.post(0, [&] {
    looping.store(true);
    SpinThroughInlineRoutines(&lock, ran, 10s);
    // No library call since the loop's last one: if the loop ended at its deadline instead,
    // the DPC has not run yet (it runs once the processor goes idle).
    ran_inside_the_loop.store(ran.load());
  });
  while (!looping.load()) std::this_thread::yield();
  m.post(1, [&dpc] { KeInsertQueueDpc(&dpc, nullptr, nullptr); });
  m.wait_until_quiescent();
  EXPECT_TRUE(ran_inside_the_loop.load()) << "the DPC never ran inside the loop of inline routines";
  EXPECT_TRUE(ran.load());
}

struct Looper {
  KSPIN_LOCK lock = 0;
  std::atomic<bool> never{false};
};

VOID LoopingDpc(PKDPC, PVOID context, PVOID, PVOID) {
  auto& looper = *static_cast<Looper*>(context);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    KeAcquireSpinLockAtDpcLevel(&looper.lock);
    KeReleaseSpinLockFromDpcLevel(&looper.lock);
  }
}

// With the watchdog on, the inline routines take the library path, which times the routine.
TEST(InlineRoutines, TheWatchdogStopsADpcRoutineThatOnlyCallsInlineRoutines) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Looper looper;
  KDPC dpc;
  KeInitializeDpc(&dpc, LoopingDpc, &looper);
  KeSetTargetProcessorDpc(&dpc, 1);
  const auto started = std::chrono::steady_clock::now();
  KeInsertQueueDpc(&dpc, nullptr, nullptr);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(Field(&irqsim::BugCheckReport::code, irqsim::bugcheck::kDpcWatchdogViolation)));
  // Inside the loop, not when the routine returns after its 30 s.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
}

TEST(InlineRoutines, ReleasingALockToPassiveLevelInsideADpcRoutineBugChecks0xC4With0x31) {
  Machine m({.processors = 1});
  struct Lowering {
    static VOID Routine(PKDPC, PVOID context, PVOID, PVOID) {
      auto lock = static_cast<PKSPIN_LOCK>(context);
      KIRQL ignored;
      KeAcquireSpinLock(lock, &ignored);
      KeReleaseSpinLock(lock, PASSIVE_LEVEL);
    }
  };
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  KDPC dpc;
  KeInitializeDpc(&dpc, Lowering::Routine, &lock);
  KeInsertQueueDpc(&dpc, nullptr, nullptr);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->code, irqsim::bugcheck::kDriverVerifierDetectedViolation);
  EXPECT_EQ(report->parameters[0], irqsim::bugcheck::kVerifierLowerToHigherIrql);
  EXPECT_EQ(report->parameters[3], 1u) << "P4 = 1: lowered below DISPATCH_LEVEL inside a DPC routine";
}

TEST(InlineRoutines, ReleasingWithTwoLocksHeldToPassiveLevelBugChecks0xF) {
  Machine m({.processors = 1});
  KSPIN_LOCK first;
  KSPIN_LOCK second;
  KeInitializeSpinLock(&first);
  KeInitializeSpinLock(&second);
  const auto report = bug_check_from([&] {
    m.run_on(0, [&] {
      KIRQL outer;
      KeAcquireSpinLock(&first, &outer);
      KeAcquireSpinLockAtDpcLevel(&second);
      KeReleaseSpinLock(&first, outer);  // lowers to PASSIVE_LEVEL with `second` still held
    });
  });
  EXPECT_THAT(report, Optional(Field(&irqsim::BugCheckReport::code, irqsim::bugcheck::kSpinLockAlreadyOwned)));
}

TEST(InlineRoutines, AcquiringALockTwiceOnOneProcessorBugChecks0xF) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = bug_check_from([&] {
    m.run_on(0, [&] {
      KIRQL outer;
      KeAcquireSpinLock(&lock, &outer);
      KeAcquireSpinLockAtDpcLevel(&lock);
    });
  });
  EXPECT_THAT(report, Optional(Field(&irqsim::BugCheckReport::code, irqsim::bugcheck::kSpinLockAlreadyOwned)));
}

TEST(InlineRoutines, KeepTheIrqlTheLibraryReports) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  m.run_on(0, [&] {
    KIRQL outer;
    KeRaiseIrql(APC_LEVEL, &outer);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KIRQL at_apc;
    KeAcquireSpinLock(&lock, &at_apc);
    EXPECT_EQ(at_apc, APC_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLock(&lock, at_apc);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    EXPECT_EQ(KeRaiseIrqlToDpcLevel(), APC_LEVEL);
    KeLowerIrql(outer);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
  });
}

}  // namespace
