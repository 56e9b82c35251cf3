// IoConnectInterrupt / IoDisconnectInterrupt, and how the simulated interrupt controller delivers
// a connected line: affinity, IRQL, pending interrupts, shared chains, storms and disconnection.

#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace irqsim_test;
using irqsim::DeliveryPolicy;
using irqsim::Machine;
using ::testing::ElementsAre;

constexpr ULONG kVector = 0x6B;
constexpr ULONG kOtherVector = 0x71;
// Matches kVector as the rule text prints it.
constexpr const char* kVectorHex = "0[xX]0*6[bB]";

const PKINTERRUPT kGarbage = reinterpret_cast<PKINTERRUPT>(std::uintptr_t{0xDEADBEEF});

// Shared record of which ISR ran in what order.
struct CallLog {
  void add(char name) {
    std::lock_guard lock(mutex);
    entries.push_back(name);
  }
  std::vector<char> snapshot() {
    std::lock_guard lock(mutex);
    return entries;
  }
  std::mutex mutex;
  std::vector<char> entries;
};

// The context of ProbeIsr: records everything the ISR can observe and lets each test decide
// what the ISR does (and whether it claims) on its n-th call.
struct Probe {
  std::function<bool(Probe&, int)> behaviour = [](Probe&, int) { return true; };
  Machine* machine = nullptr;
  ULONG vector = kVector;
  char name = '?';
  CallLog* log = nullptr;
  PKSPIN_LOCK watched_lock = nullptr;

  std::atomic<int> calls{0};
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<PKINTERRUPT> interrupt{nullptr};
  std::atomic<void*> context{nullptr};
  std::atomic<int> irql{-1};
  std::atomic<std::uint64_t> processors{0};  // bit i: ran on processor i
  std::atomic<std::uint64_t> watched_lock_value{0xFFFF};
  std::atomic<int> calls_after_disconnect{0};
  std::atomic<bool> disconnected{false};
};

BOOLEAN ProbeIsr(PKINTERRUPT interrupt, PVOID context) {
  Probe& probe = *static_cast<Probe*>(context);
  const int now_inside = probe.inside.fetch_add(1) + 1;
  int seen = probe.max_inside.load();
  while (now_inside > seen && !probe.max_inside.compare_exchange_weak(seen, now_inside)) {
  }
  if (probe.disconnected.load()) probe.calls_after_disconnect.fetch_add(1);
  probe.interrupt.store(interrupt);
  probe.context.store(context);
  probe.irql.store(KeGetCurrentIrql());
  probe.processors.fetch_or(std::uint64_t{1} << KeGetCurrentProcessorNumber());
  if (probe.watched_lock != nullptr) {
    probe.watched_lock_value.store(LockWord(*probe.watched_lock));
  }
  if (probe.log != nullptr) probe.log->add(probe.name);
  const int call = probe.calls.fetch_add(1) + 1;
  const bool claimed = probe.behaviour(probe, call);
  probe.inside.fetch_sub(1);
  return claimed ? TRUE : FALSE;
}

std::uint64_t IsrAddress() { return reinterpret_cast<std::uintptr_t>(&ProbeIsr); }

// The parameters of one IoConnectInterrupt call, with defaults for an unshared latched line.
struct Line {
  ULONG vector = kVector;
  KIRQL irql = 5;
  KIRQL synchronize_irql = 5;
  KINTERRUPT_MODE mode = Latched;
  BOOLEAN share = FALSE;
  KAFFINITY processors = ~KAFFINITY{0};
  PKSPIN_LOCK lock = nullptr;
};

NTSTATUS Connect(PKINTERRUPT* object, Probe& probe, const Line& line) {
  return IoConnectInterrupt(object, ProbeIsr, &probe, line.lock, line.vector, line.irql, line.synchronize_irql,
                            line.mode, line.share, line.processors, FALSE);
}

PKINTERRUPT MustConnect(Probe& probe, const Line& line = {}) {
  PKINTERRUPT object = nullptr;
  const NTSTATUS status = Connect(&object, probe, line);
  if (status != STATUS_SUCCESS || object == nullptr) {
    throw std::runtime_error("IoConnectInterrupt failed with status " + std::to_string(status));
  }
  return object;
}

// Deassert the line from the ISR, as a driver silences its device.
bool DeassertAndClaim(Probe& probe, int) {
  probe.machine->deassert_line(probe.vector);
  return true;
}

// Pulses kVector `times` times, each time waiting until the machine is quiescent, so that no edge
// merges with a pending one. Quiescence includes the processor being back at its interrupted IRQL.
void PulseOneAtATime(Machine& m, int times) {
  for (int i = 0; i < times; ++i) {
    m.pulse(kVector);
    m.wait_until_quiescent();
  }
}

void Spin(int iterations) {
  std::atomic<int> sink{0};
  for (int i = 0; i < iterations; ++i) sink.fetch_add(1, std::memory_order_relaxed);
}

// ---- IoConnectInterrupt: status codes --------------------------------------------------------

TEST(IoConnectInterrupt, SucceedsAndReturnsAnObjectTheIsrIsCalledWith) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = kGarbage;
  ASSERT_EQ(Connect(&object, probe, {}), STATUS_SUCCESS);
  ASSERT_NE(object, nullptr);
  ASSERT_NE(object, kGarbage);

  m.pulse(kVector);
  m.wait_until_quiescent();

  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(probe.interrupt.load(), object);
  EXPECT_EQ(probe.context.load(), &probe);
  IoDisconnectInterrupt(object);
}

TEST(IoConnectInterrupt, AcceptsTheBoundariesOfEveryRange) {
  Probe low, high;
  Machine m({.processors = 2});
  PKINTERRUPT a = MustConnect(low, {.vector = 0, .irql = 3, .synchronize_irql = 3, .processors = 0b01});
  PKINTERRUPT b = MustConnect(high, {.vector = 255, .irql = 12, .synchronize_irql = HIGH_LEVEL,
                                     .mode = LevelSensitive, .processors = 0b10});
  m.pulse(0);
  high.machine = &m;
  high.vector = 255;
  high.behaviour = DeassertAndClaim;
  m.assert_line(255);
  m.wait_until_quiescent();

  EXPECT_EQ(low.calls, 1);
  EXPECT_EQ(low.irql, 3);
  EXPECT_EQ(high.calls, 1);
  EXPECT_EQ(high.irql, HIGH_LEVEL);
  IoDisconnectInterrupt(a);
  IoDisconnectInterrupt(b);
}

TEST(IoConnectInterrupt, FloatingSaveTrueIsAccepted) {
  Probe probe;
  Machine m({.processors = 1});
  PKINTERRUPT object = kGarbage;
  ASSERT_EQ(IoConnectInterrupt(&object, ProbeIsr, &probe, nullptr, kVector, 5, 5, Latched, FALSE, 1, TRUE),
            STATUS_SUCCESS);
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  IoDisconnectInterrupt(object);
}

// Expects Connect(line) to fail with `expected`, to NULL the object pointer, and to leave
// nothing connected on the line.
void ExpectRejected(Machine& m, const Line& line, NTSTATUS expected = STATUS_INVALID_PARAMETER) {
  Probe probe;
  PKINTERRUPT object = kGarbage;
  EXPECT_EQ(Connect(&object, probe, line), expected);
  EXPECT_EQ(object, nullptr);
  if (line.vector < Machine::kVectorCount) {
    m.pulse(line.vector);
    m.wait_until_quiescent();
    EXPECT_EQ(probe.calls, 0);
    EXPECT_EQ(m.stats(line.vector).deliveries, 0u);
  }
}

TEST(IoConnectInterrupt, AffinityWithoutAnActiveProcessorIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.processors = KAFFINITY{1} << 7});
}

TEST(IoConnectInterrupt, EmptyAffinityIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.processors = 0});
}

TEST(IoConnectInterrupt, AffinityIsIntersectedWithTheActiveProcessors) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe, {.processors = (KAFFINITY{1} << 7) | 0b10});
  PulseOneAtATime(m, 10);
  EXPECT_EQ(probe.calls, 10);
  EXPECT_EQ(probe.processors.load(), 0b10u);
  IoDisconnectInterrupt(object);
}

TEST(IoConnectInterrupt, NullInterruptObjectIsInvalidParameter) {
  Probe probe;
  Machine m({.processors = 2});
  EXPECT_EQ(Connect(nullptr, probe, {}), STATUS_INVALID_PARAMETER);
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 0);
  EXPECT_EQ(m.stats(kVector).deliveries, 0u);
}

TEST(IoConnectInterrupt, NullServiceRoutineIsInvalidParameter) {
  Machine m({.processors = 2});
  PKINTERRUPT object = kGarbage;
  EXPECT_EQ(IoConnectInterrupt(&object, nullptr, nullptr, nullptr, kVector, 5, 5, Latched, FALSE, 3, FALSE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(m.stats(kVector).deliveries, 0u);
}

TEST(IoConnectInterrupt, Vector256IsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.vector = 256});
  ExpectRejected(m, {.vector = 0xFFFF'FFFF});
}

TEST(IoConnectInterrupt, IrqlDispatchLevelIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.irql = DISPATCH_LEVEL, .synchronize_irql = DISPATCH_LEVEL});
}

TEST(IoConnectInterrupt, IrqlClockLevelIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.irql = CLOCK_LEVEL, .synchronize_irql = CLOCK_LEVEL});
}

TEST(IoConnectInterrupt, SynchronizeIrqlBelowIrqlIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.irql = 6, .synchronize_irql = 5});
}

TEST(IoConnectInterrupt, SynchronizeIrqlAboveHighLevelIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.irql = 5, .synchronize_irql = HIGH_LEVEL + 1});
}

// A KINTERRUPT_MODE holding a value that is no enumerator, as a driver's stray cast makes one
// (a constant cast is rejected at compile time).
KINTERRUPT_MODE ModeFromValue(unsigned value) {
  KINTERRUPT_MODE mode{};
  static_assert(sizeof mode == sizeof value);
  std::memcpy(&mode, &value, sizeof mode);
  return mode;
}

TEST(IoConnectInterrupt, UnknownInterruptModeIsInvalidParameter) {
  Machine m({.processors = 2});
  ExpectRejected(m, {.mode = ModeFromValue(7)});
}

// A first connection that must keep working after a conflicting second one was refused.
void ExpectConflictRefused(const Line& first, const Line& second) {
  Probe owner, intruder;
  Machine m({.processors = 2});
  owner.machine = &m;
  owner.behaviour = DeassertAndClaim;
  PKINTERRUPT object = MustConnect(owner, first);

  PKINTERRUPT refused = kGarbage;
  EXPECT_EQ(Connect(&refused, intruder, second), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(refused, nullptr);

  if (first.mode == Latched) {
    m.pulse(first.vector);
  } else {
    m.assert_line(first.vector);
  }
  m.wait_until_quiescent();
  EXPECT_EQ(owner.calls, 1);
  EXPECT_EQ(intruder.calls, 0);
  EXPECT_EQ(owner.interrupt.load(), object);
  IoDisconnectInterrupt(object);
}

TEST(IoConnectInterrupt, SecondConnectOnAnUnsharedVectorIsInvalidParameter) {
  ExpectConflictRefused({.share = FALSE}, {.share = TRUE});
}

TEST(IoConnectInterrupt, UnsharedConnectOnASharedVectorIsInvalidParameter) {
  ExpectConflictRefused({.share = TRUE}, {.share = FALSE});
}

TEST(IoConnectInterrupt, TwoUnsharedConnectsOnOneVectorIsInvalidParameter) {
  ExpectConflictRefused({.share = FALSE}, {.share = FALSE});
}

TEST(IoConnectInterrupt, LatchedAndLevelSensitiveOnOneVectorIsInvalidParameter) {
  ExpectConflictRefused({.mode = Latched, .share = TRUE}, {.mode = LevelSensitive, .share = TRUE});
}

TEST(IoConnectInterrupt, LevelSensitiveAndLatchedOnOneVectorIsInvalidParameter) {
  ExpectConflictRefused({.mode = LevelSensitive, .share = TRUE}, {.mode = Latched, .share = TRUE});
}

TEST(IoConnectInterrupt, DifferentIrqlOnOneSharedVectorIsInvalidParameter) {
  ExpectConflictRefused({.irql = 5, .synchronize_irql = 5, .share = TRUE},
                        {.irql = 6, .synchronize_irql = 6, .share = TRUE});
}

TEST(IoConnectInterrupt, RunningOutOfInterruptObjectsIsInsufficientResources) {
  std::array<Probe, 4> probes;
  Probe extra;
  Machine m({.processors = 2, .interrupt_object_capacity = 4});
  std::array<PKINTERRUPT, 4> objects{};
  for (std::size_t i = 0; i < probes.size(); ++i) {
    objects[i] = MustConnect(probes[i], {.vector = static_cast<ULONG>(0x40 + i)});
  }

  PKINTERRUPT object = kGarbage;
  EXPECT_EQ(Connect(&object, extra, {.vector = 0x50}), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(object, nullptr);

  // The four connections still work, and the refused one never does.
  for (std::size_t i = 0; i < probes.size(); ++i) m.pulse(static_cast<ULONG>(0x40 + i));
  m.pulse(0x50);
  m.wait_until_quiescent();
  for (const Probe& probe : probes) EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(extra.calls, 0);

  // Disconnecting one frees an object for the next connect.
  IoDisconnectInterrupt(objects[0]);
  object = kGarbage;
  EXPECT_EQ(Connect(&object, extra, {.vector = 0x50}), STATUS_SUCCESS);
  m.wait_until_quiescent();
  EXPECT_EQ(extra.calls, 0) << "the edge raised while the connect was refused was dropped";
  m.pulse(0x50);
  m.wait_until_quiescent();
  EXPECT_EQ(extra.calls, 1);
  IoDisconnectInterrupt(object);
  for (std::size_t i = 1; i < objects.size(); ++i) IoDisconnectInterrupt(objects[i]);
}

TEST(IoConnectInterrupt, RefusedConnectDoesNotUseUpAnInterruptObject) {
  Probe owner, intruder, other;
  Machine m({.processors = 2, .interrupt_object_capacity = 2});
  PKINTERRUPT object = MustConnect(owner, {.share = FALSE});
  for (int i = 0; i < 10; ++i) {
    PKINTERRUPT refused = kGarbage;
    EXPECT_EQ(Connect(&refused, intruder, {.share = TRUE}), STATUS_INVALID_PARAMETER);
  }
  PKINTERRUPT second = kGarbage;
  EXPECT_EQ(Connect(&second, other, {.vector = kOtherVector}), STATUS_SUCCESS);
  IoDisconnectInterrupt(second);
  IoDisconnectInterrupt(object);
}

TEST(IoConnectInterrupt, AtDispatchLevelBugChecksC4WithRuleIrqlIoPassive2) {
  Probe probe;
  Machine m({.processors = 2});
  const auto report = BugCheckOn(m, 1, [&] {
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    PKINTERRUPT object = nullptr;
    (void)Connect(&object, probe, {});
    KeLowerIrql(old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlIoPassive2),
                                     DdiRuleTextMentions("IrqlIoPassive2"), OnProcessor(1), AtIrql(DISPATCH_LEVEL),
                                     RuleMentions("IoConnectInterrupt"))));
  EXPECT_EQ(probe.calls, 0);
}

// ---- How the ISR is called -------------------------------------------------------------------

TEST(InterruptDelivery, IsrRunsOnAProcessorOfItsAffinityAtSynchronizeIrql) {
  Probe probe;
  Machine m({.processors = 4});
  PKINTERRUPT object = MustConnect(probe, {.irql = 5, .synchronize_irql = 8, .processors = 0b0100});
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(probe.irql, 8);
  EXPECT_EQ(probe.processors.load(), 0b0100u);
  EXPECT_EQ(probe.interrupt.load(), object);
  EXPECT_EQ(probe.context.load(), &probe);
  EXPECT_EQ(m.interrupts_taken(2), 1u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, IsrHoldsTheCallersSpinLock) {
  Probe probe;
  KSPIN_LOCK lock = 0;
  probe.watched_lock = &lock;
  Machine m({.processors = 2});
  KeInitializeSpinLock(&lock);
  PKINTERRUPT object = MustConnect(probe, {.lock = &lock});
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_NE(probe.watched_lock_value.load(), 0u);
  EXPECT_EQ(lock, 0u);  // released after the ISR
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, WithoutASpinLockTheIsrLeavesTheDriversLocksAlone) {
  Probe probe;
  KSPIN_LOCK driver_lock = 0;
  probe.watched_lock = &driver_lock;
  Machine m({.processors = 2});
  KeInitializeSpinLock(&driver_lock);
  PKINTERRUPT object = MustConnect(probe, {.lock = nullptr});
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(probe.watched_lock_value.load(), 0u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, IsrWaitsWhileAnotherProcessorHoldsTheCallersSpinLock) {
  Probe probe;
  KSPIN_LOCK lock = 0;
  std::atomic<bool> holder_in_critical_section{false};
  std::atomic<int> isr_saw_critical_section{-1};
  probe.behaviour = [&](Probe&, int) {
    isr_saw_critical_section = holder_in_critical_section.load() ? 1 : 0;
    return true;
  };
  Machine m({.processors = 2});
  KeInitializeSpinLock(&lock);
  PKINTERRUPT object = MustConnect(probe, {.processors = 0b10, .lock = &lock});

  Latch holding(1);
  std::atomic<bool> saw_acceptance{false};
  m.post(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    holder_in_critical_section = true;
    holding.count_down();
    // Stay inside until processor 1 has accepted the interrupt and is about to run the ISR.
    saw_acceptance = Eventually([&] { return m.interrupts_taken(1) >= 1; });
    Spin(100'000);
    holder_in_critical_section = false;
    KeReleaseSpinLock(&lock, old);
  });
  holding.wait();
  m.pulse(kVector);
  m.wait_until_quiescent();

  EXPECT_TRUE(saw_acceptance);
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(isr_saw_critical_section, 0);
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, IsrRunsOnlyOnProcessorsInItsAffinity) {
  Probe probe;
  Machine m({.processors = 4});
  PKINTERRUPT object = MustConnect(probe, {.processors = 0b1010});
  constexpr int kPulses = 60;
  PulseOneAtATime(m, kPulses);
  EXPECT_EQ(probe.calls, kPulses);
  EXPECT_EQ(probe.processors.load() & ~std::uint64_t{0b1010}, 0u);
  EXPECT_EQ(m.interrupts_taken(0), 0u);
  EXPECT_EQ(m.interrupts_taken(2), 0u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, RoundRobinSpreadsOverEveryEligibleProcessor) {
  Probe probe;
  Machine m({.processors = 4, .delivery = DeliveryPolicy::RoundRobin});
  PKINTERRUPT object = MustConnect(probe, {.processors = 0b1110});
  constexpr int kPulses = 90;
  PulseOneAtATime(m, kPulses);
  EXPECT_EQ(probe.calls, kPulses);
  EXPECT_EQ(m.stats(kVector).deliveries, static_cast<std::uint64_t>(kPulses));
  EXPECT_EQ(m.interrupts_taken(0), 0u);
  for (unsigned p = 1; p < 4; ++p) EXPECT_GE(m.interrupts_taken(p), 1u) << "processor " << p;
  EXPECT_EQ(m.interrupts_taken(1) + m.interrupts_taken(2) + m.interrupts_taken(3),
            static_cast<std::uint64_t>(kPulses));
  EXPECT_EQ(probe.processors.load(), 0b1110u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, LowestNumberedAlwaysPicksTheLowestEligibleProcessor) {
  Probe probe;
  Machine m({.processors = 4, .delivery = DeliveryPolicy::LowestNumbered});
  PKINTERRUPT object = MustConnect(probe, {.processors = 0b1110});
  constexpr int kPulses = 30;
  PulseOneAtATime(m, kPulses);  // processor 1 is back at its interrupted IRQL, so eligible, for each
  EXPECT_EQ(probe.calls, kPulses);
  EXPECT_EQ(m.interrupts_taken(1), static_cast<std::uint64_t>(kPulses));
  EXPECT_EQ(m.interrupts_taken(2), 0u);
  EXPECT_EQ(m.interrupts_taken(3), 0u);
  EXPECT_EQ(probe.processors.load(), 0b0010u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptDelivery, LowestNumberedSkipsAProcessorAtOrAboveTheVectorIrql) {
  Probe probe;
  Machine m({.processors = 3, .delivery = DeliveryPolicy::LowestNumbered});
  PKINTERRUPT object = MustConnect(probe, {.irql = 5, .synchronize_irql = 5, .processors = 0b111});
  ParkedProcessor raised(m, 0, 5);
  m.pulse(kVector);
  EXPECT_TRUE(Eventually([&] { return probe.calls.load() == 1; }));
  raised.release();
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(probe.processors.load(), 0b010u);
  EXPECT_EQ(m.interrupts_taken(0), 0u);
  IoDisconnectInterrupt(object);
}

// ---- Pending interrupts ----------------------------------------------------------------------

// On a one-processor machine raised to `processor_irql`, a pulse of a vector at `vector_irql`
// must wait until the processor lowers its IRQL.
void ExpectHeldOffUntilLowered(KIRQL processor_irql, KIRQL vector_irql) {
  Probe probe;
  Machine m({.processors = 1});
  PKINTERRUPT object = MustConnect(probe, {.irql = vector_irql, .synchronize_irql = vector_irql});
  Latch raised(1), pulsed(1);
  std::atomic<int> calls_while_raised{-1}, calls_after_lowering{-1};
  m.post(0, [&] {
    const KIRQL old = RaiseTo(processor_irql);
    raised.count_down();
    pulsed.wait();
    (void)KeGetCurrentIrql();  // a preemption point, still above the vector's IRQL
    calls_while_raised = probe.calls.load();
    KeLowerIrql(old);
    calls_after_lowering = probe.calls.load();
  });
  raised.wait();
  m.pulse(kVector);
  EXPECT_EQ(m.stats(kVector).deliveries, 0u);
  pulsed.count_down();
  m.wait_until_quiescent();
  EXPECT_EQ(calls_while_raised, 0);
  EXPECT_EQ(calls_after_lowering, 1);
  EXPECT_EQ(m.stats(kVector).deliveries, 1u);
  IoDisconnectInterrupt(object);
}

TEST(PendingInterrupts, InterruptBelowProcessorIrqlWaitsUntilItLowers) { ExpectHeldOffUntilLowered(10, 5); }

TEST(PendingInterrupts, InterruptAtProcessorIrqlWaitsUntilItLowers) { ExpectHeldOffUntilLowered(10, 10); }

TEST(PendingInterrupts, InterruptAboveProcessorIrqlPreemptsAtTheNextKernelCall) {
  Probe probe;
  Machine m({.processors = 1});
  PKINTERRUPT object = MustConnect(probe, {.irql = 11, .synchronize_irql = 11});
  Latch raised(1);
  std::atomic<bool> taken_while_raised{false};
  m.post(0, [&] {
    const KIRQL old = RaiseTo(10);
    raised.count_down();
    taken_while_raised = Eventually([&] {
      (void)KeGetCurrentIrql();
      return probe.calls.load() == 1;
    });
    KeLowerIrql(old);
  });
  raised.wait();
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_TRUE(taken_while_raised);
  EXPECT_EQ(probe.irql, 11);
  IoDisconnectInterrupt(object);
}

TEST(PendingInterrupts, EdgesWhileMaskedMergeIntoOneDeliveryOnUnmask) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  m.mask(kVector);
  for (int i = 0; i < 5; ++i) m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 0);
  EXPECT_EQ(m.stats(kVector).deliveries, 0u);

  m.unmask(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(m.stats(kVector).deliveries, 1u);
  IoDisconnectInterrupt(object);
}

TEST(PendingInterrupts, LevelLineAssertedWhileMaskedIsDeliveredOnUnmask) {
  Probe probe;
  Machine m({.processors = 2});
  probe.machine = &m;
  probe.behaviour = DeassertAndClaim;
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  m.mask(kVector);
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 0);

  m.unmask(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_FALSE(m.line_asserted(kVector));
  IoDisconnectInterrupt(object);
}

TEST(PendingInterrupts, LevelLineAssertedBeforeConnectIsDeliveredOnConnect) {
  Probe probe;
  Machine m({.processors = 2});
  probe.machine = &m;
  probe.behaviour = DeassertAndClaim;
  m.assert_line(kVector);
  m.wait_until_quiescent();
  // The ISR may already run inside IoConnectInterrupt.
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(probe.interrupt.load(), object);
  EXPECT_FALSE(m.line_asserted(kVector));
  IoDisconnectInterrupt(object);
}

TEST(PendingInterrupts, PulseOnAnUnconnectedVectorIsNotDelivered) {
  Machine m({.processors = 2});
  m.pulse(kVector);
  m.wait_until_quiescent(std::chrono::seconds(10));
  EXPECT_EQ(m.stats(kVector).deliveries, 0u);
  EXPECT_EQ(m.stats(kVector).unexpected, 0u);
  EXPECT_EQ(m.interrupts_taken(0) + m.interrupts_taken(1), 0u);
}

TEST(PendingInterrupts, EdgesBeforeConnectAreDroppedAndCounted) {
  Probe probe;
  Machine m({.processors = 2});
  m.pulse(kVector);
  m.pulse(kVector);
  m.wait_until_quiescent(std::chrono::seconds(10));
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 0);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.raised, 2u);
  EXPECT_EQ(stats.dropped, 2u);
  EXPECT_EQ(stats.deliveries, 0u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
  IoDisconnectInterrupt(object);
}

TEST(PendingInterrupts, EdgeStillPendingWhenTheLastObjectDisconnectsIsDroppedAndCounted) {
  Probe probe;
  Machine m({.processors = 1});
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  m.mask(kVector);
  m.pulse(kVector);
  m.pulse(kVector);
  EXPECT_EQ(m.stats(kVector).pending, 1u);
  IoDisconnectInterrupt(object);
  m.unmask(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 0);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.raised, 2u);
  EXPECT_EQ(stats.coalesced, 1u);
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(stats));
}

TEST(PendingInterrupts, LevelLineDroppedAfterRoutingIsStillDeliveredAndUnclaimed) {
  Probe probe;
  Machine m({.processors = 2});
  probe.machine = &m;
  probe.behaviour = [](Probe& self, int) { return self.machine->line_asserted(self.vector); };
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive, .processors = 0b10});
  ParkedProcessor busy(m, 1);  // at PASSIVE_LEVEL, but making no kernel call: no preemption point
  m.assert_line(kVector);
  m.deassert_line(kVector);
  busy.release();
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.deliveries, 1u);
  EXPECT_EQ(stats.unclaimed, 1u);
  EXPECT_EQ(stats.claimed, 0u);
  IoDisconnectInterrupt(object);
}

// ---- Shared chains -----------------------------------------------------------------------------

TEST(SharedLevelChain, IsrsAreCalledInConnectOrderUntilOneClaims) {
  CallLog log;
  Probe a{.name = 'A', .log = &log}, b{.name = 'B', .log = &log}, c{.name = 'C', .log = &log};
  Machine m({.processors = 2});
  for (Probe* p : {&a, &b, &c}) p->machine = &m;
  a.behaviour = [](Probe&, int) { return false; };
  b.behaviour = DeassertAndClaim;
  PKINTERRUPT oa = MustConnect(a, {.mode = LevelSensitive, .share = TRUE});
  PKINTERRUPT ob = MustConnect(b, {.mode = LevelSensitive, .share = TRUE});
  PKINTERRUPT oc = MustConnect(c, {.mode = LevelSensitive, .share = TRUE});
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_THAT(log.snapshot(), ElementsAre('A', 'B'));
  EXPECT_EQ(c.calls, 0);
  EXPECT_EQ(m.stats(kVector).deliveries, 1u);
  EXPECT_EQ(m.stats(kVector).claimed, 1u);
  IoDisconnectInterrupt(oa);
  IoDisconnectInterrupt(ob);
  IoDisconnectInterrupt(oc);
}

TEST(SharedLevelChain, FirstIsrClaimingStopsTheChain) {
  CallLog log;
  Probe a{.name = 'A', .log = &log}, b{.name = 'B', .log = &log};
  Machine m({.processors = 2});
  for (Probe* p : {&a, &b}) {
    p->machine = &m;
    p->behaviour = DeassertAndClaim;
  }
  PKINTERRUPT oa = MustConnect(a, {.mode = LevelSensitive, .share = TRUE});
  PKINTERRUPT ob = MustConnect(b, {.mode = LevelSensitive, .share = TRUE});
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_THAT(log.snapshot(), ElementsAre('A'));
  EXPECT_EQ(b.calls, 0);
  IoDisconnectInterrupt(oa);
  IoDisconnectInterrupt(ob);
}

TEST(SharedLevelChain, LineThatStaysAssertedIsRedelivered) {
  Probe probe;
  Machine m({.processors = 2});
  probe.machine = &m;
  probe.behaviour = [](Probe& self, int call) {
    if (call == 3) self.machine->deassert_line(self.vector);
    return true;
  };
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 3);
  EXPECT_EQ(m.stats(kVector).deliveries, 3u);
  EXPECT_EQ(m.stats(kVector).claimed, 3u);
  IoDisconnectInterrupt(object);
}

TEST(SharedLatchedChain, PassesRepeatUntilNobodyClaims) {
  CallLog log;
  Probe a{.name = 'A', .log = &log}, b{.name = 'B', .log = &log};
  Machine m({.processors = 2});
  a.behaviour = [](Probe&, int call) { return call == 1; };
  b.behaviour = [](Probe&, int) { return false; };
  PKINTERRUPT oa = MustConnect(a, {.mode = Latched, .share = TRUE});
  PKINTERRUPT ob = MustConnect(b, {.mode = Latched, .share = TRUE});
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_THAT(log.snapshot(), ElementsAre('A', 'B', 'A', 'B'));
  EXPECT_EQ(m.stats(kVector).deliveries, 1u);
  EXPECT_EQ(m.stats(kVector).claimed, 1u);
  IoDisconnectInterrupt(oa);
  IoDisconnectInterrupt(ob);
}

TEST(SharedLatchedChain, UnclaimedPassEndsAfterOneRound) {
  CallLog log;
  Probe a{.name = 'A', .log = &log}, b{.name = 'B', .log = &log};
  Machine m({.processors = 2});
  a.behaviour = b.behaviour = [](Probe&, int) { return false; };
  PKINTERRUPT oa = MustConnect(a, {.mode = Latched, .share = TRUE});
  PKINTERRUPT ob = MustConnect(b, {.mode = Latched, .share = TRUE});
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_THAT(log.snapshot(), ElementsAre('A', 'B'));
  EXPECT_EQ(m.stats(kVector).unclaimed, 1u);
  IoDisconnectInterrupt(oa);
  IoDisconnectInterrupt(ob);
}

TEST(SingleLatchedIsr, ClaimingIsrIsCalledExactlyOncePerPulse) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  constexpr int kPulses = 10;
  for (int i = 0; i < kPulses; ++i) {
    m.pulse(kVector);
    m.wait_until_quiescent();
    EXPECT_EQ(probe.calls, i + 1);
  }
  EXPECT_EQ(m.stats(kVector).deliveries, static_cast<std::uint64_t>(kPulses));
  EXPECT_EQ(m.stats(kVector).claimed, static_cast<std::uint64_t>(kPulses));
  IoDisconnectInterrupt(object);
}

// ---- Statistics --------------------------------------------------------------------------------

TEST(VectorStats, ClaimedAndUnclaimedAddUpToDeliveries) {
  Probe probe;
  Machine m({.processors = 2});
  probe.behaviour = [](Probe&, int call) { return call % 3 != 0; };
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  constexpr int kPulses = 12;
  PulseOneAtATime(m, kPulses);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.deliveries, 12u);
  EXPECT_EQ(stats.claimed, 8u);
  EXPECT_EQ(stats.unclaimed, 4u);
  EXPECT_EQ(stats.unexpected, 0u);
  EXPECT_EQ(stats.deliveries, stats.claimed + stats.unclaimed + stats.unexpected);
  EXPECT_EQ(m.stats(kOtherVector).deliveries, 0u);
  IoDisconnectInterrupt(object);
}

TEST(VectorStats, DeliveryToAProcessorWithoutAnIsrForTheVectorIsUnexpected) {
  Probe a, b;
  Machine m({.processors = 2, .delivery = DeliveryPolicy::LowestNumbered});
  PKINTERRUPT oa = MustConnect(a, {.share = TRUE, .processors = 0b01});
  PKINTERRUPT ob = MustConnect(b, {.share = TRUE, .processors = 0b10});

  ParkedProcessor raised(m, 0, HIGH_LEVEL);
  ParkedProcessor busy(m, 1);  // at PASSIVE_LEVEL, but making no kernel call: no preemption point
  // Processor 0 is above the vector's IRQL, so the edge is routed to processor 1; before it
  // takes it, the only ISR for processor 1 goes away.
  m.pulse(kVector);
  IoDisconnectInterrupt(ob);
  busy.release();
  raised.release();
  m.wait_until_quiescent();

  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.deliveries, 1u);
  EXPECT_EQ(stats.unexpected, 1u);
  EXPECT_EQ(stats.deliveries, stats.claimed + stats.unclaimed + stats.unexpected);
  EXPECT_EQ(a.calls, 0);
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(m.interrupts_taken(1), 1u);
  IoDisconnectInterrupt(oa);
}

TEST(VectorStats, LatencyIsZeroUntilTheFirstDelivery) {
  Machine m;
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.latency.count(), 0u);
  EXPECT_EQ(stats.latency.total().count(), 0);
  EXPECT_EQ(stats.latency.max().count(), 0);
  EXPECT_EQ(stats.latency.mean().count(), 0);
}

TEST(VectorStats, LatencyIncludesWaitingForAProcessorBelowTheVectorsIrql) {
  Probe probe;
  Machine m({.processors = 1});
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  constexpr auto kHeld = std::chrono::milliseconds(30);
  {
    // The only processor runs above the vector's IRQL for at least kHeld after the edge, so
    // the delivery waits at least that long, however loaded the host is.
    ParkedProcessor raised(m, 0, HIGH_LEVEL);
    m.pulse(kVector);
    std::this_thread::sleep_for(kHeld);
  }
  m.wait_until_quiescent();
  m.pulse(kVector);
  m.wait_until_quiescent();

  const irqsim::VectorStats stats = m.stats(kVector);
  ASSERT_EQ(stats.deliveries, 2u);
  ASSERT_EQ(stats.latency.count(), 2u);
  EXPECT_GE(stats.latency.max(), kHeld);
  EXPECT_GE(stats.latency.total(), stats.latency.max());
  EXPECT_EQ(stats.latency.mean(), stats.latency.total() / 2);
  IoDisconnectInterrupt(object);
}

TEST(VectorStats, LatencyStartsWhenAMaskedVectorIsUnmasked) {
  Probe probe;
  Machine m({.processors = 1});
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched});
  m.mask(kVector);
  m.pulse(kVector);
  // Parked above the vector's IRQL across the unmask, the processor makes the delivery wait a
  // known minimum after it; the time spent masked before must not count on top of it.
  ParkedProcessor raised(m, 0, HIGH_LEVEL);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto unmasked_at = std::chrono::steady_clock::now();
  m.unmask(kVector);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  raised.release();
  m.wait_until_quiescent();
  const auto delivered_by = std::chrono::steady_clock::now();

  const irqsim::VectorStats stats = m.stats(kVector);
  ASSERT_EQ(stats.deliveries, 1u);
  EXPECT_GE(stats.latency.max(), std::chrono::milliseconds(10));
  EXPECT_LE(stats.latency.max(), delivered_by - unmasked_at);
  IoDisconnectInterrupt(object);
}

// ---- Storms ------------------------------------------------------------------------------------

constexpr unsigned kStormThreshold = 50;
// A level line that stays asserted although ISRs claim it storms after this many times
// storm_threshold deliveries (MachineConfig::storm_threshold).
constexpr unsigned kClaimedStormFactor = 100;

// The 0xF2 report of a storm on kVector whose chain of `isrs` ISRs starts with ProbeIsr for
// `first`, connected as `object`.
auto IsStormOf(const Probe& first, PKINTERRUPT object, std::uint64_t isrs) {
  return AllOf(IsBugCheck(bugcheck::kHardwareInterruptStorm),
               HasParameters({IsrAddress(), AddressOf(&first), AddressOf(object), isrs}),
               HasRule(ContainsStdRegex(kVectorHex)));
}

TEST(InterruptStorm, UnclaimedLevelLineThatStaysAssertedBugChecksF2) {
  Probe probe;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  probe.behaviour = [](Probe&, int) { return false; };
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  m.assert_line(kVector);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(IsStormOf(probe, object, 1)));
  EXPECT_EQ(probe.calls, static_cast<int>(kStormThreshold));
}

TEST(InterruptStorm, ClaimingIsrThatNeverDeassertsBugChecksF2) {
  Probe probe;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  m.assert_line(kVector);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(IsStormOf(probe, object, 1)));
  EXPECT_EQ(probe.calls, static_cast<int>(kStormThreshold * kClaimedStormFactor));
  EXPECT_EQ(m.stats(kVector).claimed, std::uint64_t{kStormThreshold} * kClaimedStormFactor);
}

TEST(InterruptStorm, ClaimedDeliveriesResetTheUnclaimedCount) {
  Probe probe;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  probe.machine = &m;
  // Unclaimed runs just short of the threshold, broken by a claim, then silenced.
  probe.behaviour = [](Probe& self, int call) {
    if (call == 4 * static_cast<int>(kStormThreshold)) self.machine->deassert_line(self.vector);
    return call % static_cast<int>(kStormThreshold) == 0;
  };
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 4 * static_cast<int>(kStormThreshold));
  EXPECT_EQ(m.stats(kVector).claimed, 4u);
  IoDisconnectInterrupt(object);
}

TEST(InterruptStorm, ChainedLevelStormReportsTheFirstIsrAndP4Of2) {
  Probe a, b;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  a.behaviour = b.behaviour = [](Probe&, int) { return false; };
  PKINTERRUPT oa = MustConnect(a, {.mode = LevelSensitive, .share = TRUE});
  MustConnect(b, {.mode = LevelSensitive, .share = TRUE});
  m.assert_line(kVector);
  EXPECT_THAT(bug_check_from([&] { m.wait_until_quiescent(); }), Optional(IsStormOf(a, oa, 2)));
}

TEST(InterruptStorm, LatchedChainThatKeepsClaimingBugChecksF2) {
  Probe a, b;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  b.behaviour = [](Probe&, int) { return false; };
  PKINTERRUPT oa = MustConnect(a, {.mode = Latched, .share = TRUE});
  MustConnect(b, {.mode = Latched, .share = TRUE});
  m.pulse(kVector);
  EXPECT_THAT(bug_check_from([&] { m.wait_until_quiescent(); }), Optional(IsStormOf(a, oa, 2)));
  EXPECT_EQ(a.calls, static_cast<int>(kStormThreshold));
}

// ---- ISR misbehaviour --------------------------------------------------------------------------

TEST(IsrChecks, IsrReturningAtARaisedIrqlBugChecksC8) {
  Probe probe;
  Machine m({.processors = 2});
  probe.behaviour = [](Probe&, int) {
    RaiseTo(9);
    return true;  // without lowering back to 6
  };
  PKINTERRUPT object = MustConnect(probe, {.irql = 5, .synchronize_irql = 6});
  m.pulse(kVector);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlUnexpectedValue),
                                     HasParameter(0, (std::uint64_t{9} << 16) | (std::uint64_t{6} << 8) | 3u),
                                     HasParameter(1, IsrAddress()), HasParameter(2, AddressOf(object)))));
}

// ---- IoDisconnectInterrupt ---------------------------------------------------------------------

TEST(IoDisconnectInterrupt, IsrNeverRunsAfterDisconnect) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe);
  m.pulse(kVector);
  m.wait_until_quiescent();
  ASSERT_EQ(probe.calls, 1);

  IoDisconnectInterrupt(object);
  for (int i = 0; i < 5; ++i) m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(m.stats(kVector).deliveries, 1u);
}

TEST(IoDisconnectInterrupt, LevelIsrNeverRunsAfterDisconnect) {
  Probe probe;
  Machine m({.processors = 2});
  probe.machine = &m;
  probe.behaviour = DeassertAndClaim;
  PKINTERRUPT object = MustConnect(probe, {.mode = LevelSensitive});
  IoDisconnectInterrupt(object);
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(probe.calls, 0);
  EXPECT_TRUE(m.line_asserted(kVector));
}

// Pulses the vector continuously from its own thread until destroyed.
class Pulser {
 public:
  Pulser(Machine& m, ULONG vector)
      : thread_([this, &m, vector] {
          while (!stop_.load()) {
            m.pulse(vector);
            pulses_.fetch_add(1);
          }
        }) {}
  ~Pulser() { stop(); }
  Pulser(const Pulser&) = delete;
  Pulser& operator=(const Pulser&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::uint64_t pulses() const { return pulses_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> pulses_{0};
  std::thread thread_;
};

// Disconnects (through `disconnect`) while the line is pulsed continuously, then checks that
// the ISR is not running once disconnect returns and never runs again.
template <class Disconnect>
void ExpectDisconnectStopsTheIsrUnderFire(Disconnect disconnect) {
  Probe probe;
  probe.behaviour = [](Probe&, int) {
    Spin(2'000);  // widen the window in which the ISR is running
    return true;
  };
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe, {.mode = Latched, .processors = 0b11});
  Pulser pulser(m, kVector);
  ASSERT_TRUE(Eventually([&] { return probe.calls.load() >= 50; }));

  disconnect(m, object);
  probe.disconnected = true;
  EXPECT_EQ(probe.inside, 0);
  const int calls_at_disconnect = probe.calls.load();

  const std::uint64_t pulses_at_disconnect = pulser.pulses();
  ASSERT_TRUE(Eventually([&] { return pulser.pulses() >= pulses_at_disconnect + 2'000; }));
  pulser.stop();
  m.wait_until_quiescent(std::chrono::seconds(10));
  EXPECT_EQ(probe.calls, calls_at_disconnect);
  EXPECT_EQ(probe.calls_after_disconnect, 0);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.deliveries, stats.claimed + stats.unclaimed + stats.unexpected);
}

TEST(IoDisconnectInterrupt, IsrIsNotRunningOnceDisconnectReturnsUnderContinuousPulses) {
  ExpectDisconnectStopsTheIsrUnderFire([](Machine&, PKINTERRUPT object) { IoDisconnectInterrupt(object); });
}

TEST(IoDisconnectInterrupt, DisconnectOnAProcessorInTheAffinityUnderContinuousPulses) {
  ExpectDisconnectStopsTheIsrUnderFire(
      [](Machine& m, PKINTERRUPT object) { m.run_on(0, [object] { IoDisconnectInterrupt(object); }); });
}

// The ISR's writes to plain memory are visible once IoDisconnectInterrupt returns, with no other
// synchronization (under ThreadSanitizer this also proves disconnect orders them).
struct PlainCounter {
  int calls = 0;
};

BOOLEAN CountPlainly(PKINTERRUPT, PVOID context) {
  ++static_cast<PlainCounter*>(context)->calls;
  return TRUE;
}

TEST(IoDisconnectInterrupt, IsrWritesAreVisibleOnceDisconnectReturns) {
  Machine m({.processors = 2});
  PlainCounter counter;
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, CountPlainly, &counter, nullptr, kVector, 6, 6, Latched, FALSE, 0b11, FALSE),
            STATUS_SUCCESS);
  Pulser pulser(m, kVector);
  ASSERT_TRUE(Eventually([&] { return m.stats(kVector).claimed >= 100; }));
  IoDisconnectInterrupt(object);
  const int seen = counter.calls;
  pulser.stop();
  m.wait_until_quiescent();
  EXPECT_EQ(static_cast<std::uint64_t>(seen), m.stats(kVector).claimed);
}

TEST(IoDisconnectInterrupt, RepeatedConnectAndDisconnectWhileTheLineIsPulsed) {
  constexpr int kCycles = 200;
  std::vector<Probe> probes(kCycles);
  Machine m({.processors = 2});
  Pulser pulser(m, kVector);
  for (int i = 0; i < kCycles; ++i) {
    Probe& probe = probes[static_cast<std::size_t>(i)];
    // Every other cycle connects and disconnects on a processor that may take the interrupt.
    const bool on_processor = i % 2 == 1;
    PKINTERRUPT object = on_processor ? m.run_on(1, [&] { return MustConnect(probe); }) : MustConnect(probe);
    ASSERT_TRUE(Eventually([&] { return probe.calls.load() >= 1; })) << "cycle " << i;
    if (on_processor) {
      m.run_on(1, [object] { IoDisconnectInterrupt(object); });
    } else {
      IoDisconnectInterrupt(object);
    }
    probe.disconnected = true;
    ASSERT_EQ(probe.inside, 0) << "cycle " << i;
  }
  pulser.stop();
  m.wait_until_quiescent(std::chrono::seconds(10));
  int late = 0;
  for (const Probe& probe : probes) late += probe.calls_after_disconnect.load();
  EXPECT_EQ(late, 0);
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_GE(stats.deliveries, static_cast<std::uint64_t>(kCycles));
  EXPECT_EQ(stats.deliveries, stats.claimed + stats.unclaimed + stats.unexpected);
}

TEST(IoDisconnectInterrupt, DisconnectingOneSharedIsrLeavesTheOtherWorking) {
  CallLog log;
  Probe a{.name = 'A', .log = &log}, b{.name = 'B', .log = &log};
  Machine m({.processors = 2});
  a.machine = b.machine = &m;
  a.behaviour = [](Probe&, int) { return false; };
  b.behaviour = DeassertAndClaim;
  PKINTERRUPT oa = MustConnect(a, {.mode = LevelSensitive, .share = TRUE});
  PKINTERRUPT ob = MustConnect(b, {.mode = LevelSensitive, .share = TRUE});
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_THAT(log.snapshot(), ElementsAre('A', 'B'));

  IoDisconnectInterrupt(oa);
  m.assert_line(kVector);
  m.wait_until_quiescent();
  EXPECT_THAT(log.snapshot(), ElementsAre('A', 'B', 'B'));
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 2);
  EXPECT_FALSE(m.line_asserted(kVector));
  IoDisconnectInterrupt(ob);
}

TEST(IoDisconnectInterrupt, LastDisconnectWhileTheInterruptIsRoutedButNotTakenLeavesTheMachineQuiescent) {
  Probe probe, next;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe, {.processors = 0b10});
  ParkedProcessor busy(m, 1);  // at PASSIVE_LEVEL, but making no kernel call: no preemption point
  m.pulse(kVector);             // routed to processor 1, which cannot take it yet
  IoDisconnectInterrupt(object);
  busy.release();
  EXPECT_NO_THROW(m.wait_until_quiescent(std::chrono::seconds(3)));
  EXPECT_EQ(probe.calls, 0);

  // The vector still works for the next driver.
  PKINTERRUPT again = MustConnect(next, {.processors = 0b10});
  m.pulse(kVector);
  EXPECT_NO_THROW(m.wait_until_quiescent(std::chrono::seconds(3)));
  EXPECT_GE(next.calls, 1);
  EXPECT_EQ(probe.calls, 0);
  IoDisconnectInterrupt(again);
}

TEST(IoDisconnectInterrupt, LastDisconnectWhileTheInterruptWaitsForAProcessorLeavesTheMachineQuiescent) {
  Probe probe, next;
  Machine m({.processors = 1});
  PKINTERRUPT object = MustConnect(probe);
  ParkedProcessor raised(m, 0, HIGH_LEVEL);
  m.pulse(kVector);  // no processor can take it: it waits
  IoDisconnectInterrupt(object);
  raised.release();
  EXPECT_NO_THROW(m.wait_until_quiescent(std::chrono::seconds(3)));
  EXPECT_EQ(probe.calls, 0);

  PKINTERRUPT again = MustConnect(next, {.irql = 7, .synchronize_irql = 7});
  m.wait_until_quiescent();
  EXPECT_EQ(next.calls, 0) << "the edge pending at the disconnect was dropped";
  EXPECT_EQ(m.stats(kVector).dropped, 1u);
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(next.calls, 1);
  EXPECT_EQ(probe.calls, 0);
  IoDisconnectInterrupt(again);
}

TEST(IoDisconnectInterrupt, DisconnectingTwiceBugChecksCC) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe);
  IoDisconnectInterrupt(object);
  const auto report = bug_check_from([&] { IoDisconnectInterrupt(object); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool),
                                     HasParameter(0, AddressOf(object)), RuleMentions("IoDisconnectInterrupt"))));
}

TEST(IoDisconnectInterrupt, PointerThatIsNoInterruptObjectBugChecks50) {
  Machine m({.processors = 2});
  int local = 0;
  const auto report = bug_check_from([&] { IoDisconnectInterrupt(reinterpret_cast<PKINTERRUPT>(&local)); });
  EXPECT_THAT(report,
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, AddressOf(&local)))));
}

TEST(IoDisconnectInterrupt, NullBugChecks50) {
  Machine m({.processors = 2});
  const auto report = bug_check_from([&] { IoDisconnectInterrupt(nullptr); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, 0))));
}

TEST(IoDisconnectInterrupt, AbovePassiveLevelBugChecksC4WithRuleIrqlIoPassive4) {
  Probe probe;
  Machine m({.processors = 2});
  PKINTERRUPT object = MustConnect(probe);
  const auto report = BugCheckOn(m, 0, [&] {
    const KIRQL old = RaiseTo(APC_LEVEL);
    IoDisconnectInterrupt(object);
    KeLowerIrql(old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlIoPassive4),
                                     DdiRuleTextMentions("IrqlIoPassive4"), OnProcessor(0), AtIrql(APC_LEVEL),
                                     RuleMentions("IoDisconnectInterrupt"))));
}

}  // namespace
