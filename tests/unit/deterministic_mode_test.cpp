// The deterministic execution mode (include/irqsim/schedule.hpp, MachineConfig::mode): one
// processor at a time under a seeded scheduler, virtual time, the same trace from the same seed,
// device timers, and the reports of deadlocks and livelocks.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/schedule.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr ULONG kVector = 0x51;
constexpr KIRQL kIrql = 6;

irqsim::MachineConfig Deterministic(std::uint64_t seed, unsigned processors = 2,
                                    irqsim::ScheduleStrategy strategy = irqsim::ScheduleStrategy::Random) {
  return {.processors = processors,
          .trace = irqsim::TraceRecording::On,
          .mode = irqsim::ExecutionMode::Deterministic,
          .schedule = {.seed = seed, .strategy = strategy}};
}

// A driver whose ISR queues a DPC, both counting where they ran: enough moving parts for
// interleavings to differ from seed to seed.
struct CountingDriver {
  KDPC dpc{};
  KSPIN_LOCK lock = 0;
  PKINTERRUPT interrupt = nullptr;
  std::atomic<int> isr_runs{0};
  std::atomic<int> dpc_runs{0};
  std::array<std::atomic<int>, 4> isrs_on{};

  static BOOLEAN Isr(PKINTERRUPT, PVOID context) {
    auto& driver = *static_cast<CountingDriver*>(context);
    ++driver.isr_runs;
    ++driver.isrs_on[KeGetCurrentProcessorNumber()];
    KeInsertQueueDpc(&driver.dpc, nullptr, nullptr);
    return TRUE;
  }
  static VOID Dpc(PKDPC, PVOID context, PVOID, PVOID) {
    auto& driver = *static_cast<CountingDriver*>(context);
    KeAcquireSpinLockAtDpcLevel(&driver.lock);
    ++driver.dpc_runs;
    KeReleaseSpinLockFromDpcLevel(&driver.lock);
  }

  void connect() {
    KeInitializeDpc(&dpc, &CountingDriver::Dpc, this);
    KeInitializeSpinLock(&lock);
    interrupt = ConnectLatched(&CountingDriver::Isr, this, kVector, kIrql, kIrql);
  }
  void disconnect() {
    IoDisconnectInterrupt(interrupt);
    KeFlushQueuedDpcs();
  }
};

// Runs the driver through a burst of interrupts raised from the test's thread and from both
// processors, and returns the machine's trace.
irqsim::Trace RunBurst(const irqsim::MachineConfig& config) {
  irqsim::Machine machine(config);
  CountingDriver driver;
  driver.connect();
  for (int i = 0; i < 5; ++i) {
    machine.post(0, [&machine] { machine.pulse(kVector); });
    machine.post(1, [&machine] { machine.pulse(kVector); });
    machine.pulse(kVector);
    machine.wait_until_quiescent();
  }
  driver.disconnect();
  return machine.trace();
}

TEST(DeterministicMode, RunsInterruptsAndDpcsToCompletion) {
  irqsim::Machine machine(Deterministic(1));
  EXPECT_TRUE(machine.deterministic());
  CountingDriver driver;
  driver.connect();
  machine.pulse(kVector);
  machine.wait_until_quiescent();
  EXPECT_EQ(driver.isr_runs.load(), 1);
  EXPECT_EQ(driver.dpc_runs.load(), 1);
  driver.disconnect();
}

TEST(DeterministicMode, TheSameSeedRecordsTheSameTraceEventForEvent) {
  const irqsim::Trace first = RunBurst(Deterministic(42));
  const irqsim::Trace second = RunBurst(Deterministic(42));
  ASSERT_GT(first.event_count(), 100u);
  EXPECT_EQ(first.difference_from(second), std::nullopt);
}

TEST(DeterministicMode, TheSameSeedUnderPctRecordsTheSameTrace) {
  const auto config = Deterministic(9, 3, irqsim::ScheduleStrategy::Pct);
  EXPECT_EQ(RunBurst(config).difference_from(RunBurst(config)), std::nullopt);
}

TEST(DeterministicMode, DifferentSeedsInterleaveDifferently) {
  const irqsim::Trace reference = RunBurst(Deterministic(1));
  int different = 0;
  for (std::uint64_t seed = 2; seed <= 6; ++seed) {
    if (RunBurst(Deterministic(seed)).difference_from(reference)) ++different;
  }
  EXPECT_GE(different, 4);
}

TEST(DeterministicMode, TheSchedulerChoosesWhereInterruptsLand) {
  std::set<unsigned> landed_on;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    irqsim::Machine machine(Deterministic(seed));
    CountingDriver driver;
    driver.connect();
    machine.pulse(kVector);
    machine.wait_until_quiescent();
    for (unsigned p = 0; p < 2; ++p) {
      if (driver.isrs_on[p] != 0) landed_on.insert(p);
    }
    driver.disconnect();
  }
  EXPECT_EQ(landed_on, (std::set<unsigned>{0, 1}));
}

TEST(DeterministicMode, AStallTakesVirtualTimeOnly) {
  irqsim::Machine machine(Deterministic(3, 1));
  const auto [before, after] = machine.run_on(0, [] {
    const ULONGLONG start = KeQueryInterruptTime();
    KeStallExecutionProcessor(2'000'000);  // two seconds
    return std::pair{start, KeQueryInterruptTime()};
  });
  // 100-ns units: the stall, and a few decisions of 100 ns around it. A host clock's stall would
  // overshoot by far more than that.
  EXPECT_GE(after - before, 20'000'000u);
  EXPECT_LE(after - before, 20'000'010u);
}

TEST(DeterministicMode, TheClockMovesWithEveryDecisionSoPollingLoopsEnd) {
  irqsim::Machine machine(Deterministic(3, 1));
  const int polls = machine.run_on(0, [] {
    const ULONGLONG until = KeQueryInterruptTime() + 100;  // 10 us
    int count = 0;
    while (KeQueryInterruptTime() < until) ++count;
    return count;
  });
  // Each query is a scheduling decision of Schedule::step_time (100 ns).
  EXPECT_GE(polls, 90);
  EXPECT_LE(polls, 110);
}

TEST(DeterministicMode, ASecondOfDeviceTimerInterruptsRunsOnVirtualTime) {
  irqsim::Machine machine(Deterministic(5));
  CountingDriver driver;
  driver.connect();
  // A frame interrupt every millisecond for one second.
  machine.every(1ms, [&machine] { machine.pulse(kVector); }, 1000);
  machine.wait_until_quiescent();
  EXPECT_EQ(driver.isr_runs.load(), 1000);
  EXPECT_EQ(driver.dpc_runs.load(), 1000);
  EXPECT_GE(machine.statistics().uptime, 1s);
  EXPECT_LT(machine.statistics().uptime, 2s);
  // A handful of decisions per interrupt, each 100 ns: idle time between frames costs nothing.
  EXPECT_GT(*machine.scheduling_decisions(), 1000u);
  EXPECT_LT(*machine.scheduling_decisions(), 100'000u);
  driver.disconnect();
}

TEST(DeterministicMode, RunForAdvancesTheClockThroughTimers) {
  irqsim::Machine machine(Deterministic(5));
  std::atomic<int> ticks{0};
  irqsim::PeriodicSource timer = machine.every(10ms, [&ticks] { ++ticks; });
  machine.run_for(1s);
  EXPECT_EQ(ticks.load(), 100);
  timer.stop();
  machine.run_for(1s);
  EXPECT_EQ(ticks.load(), 100);
}

TEST(DeterministicMode, WaitUntilHandsTheTurnToTheProcessorsUntilTheConditionHolds) {
  irqsim::Machine machine(Deterministic(8));
  std::atomic<bool> done{false};
  machine.post(1, [&done] {
    KeStallExecutionProcessor(500);
    done = true;
  });
  EXPECT_TRUE(machine.wait_until([&done] { return done.load(); }));
  EXPECT_GE(machine.statistics().uptime, 500us);
  // A condition nothing brings about ends the wait at the timeout, on the virtual clock.
  EXPECT_FALSE(machine.wait_until([] { return false; }, 2s));
  EXPECT_GE(machine.statistics().uptime, 2s);
}

TEST(FreeRunningMode, WaitUntilPollsWhileTheProcessorsRun) {
  irqsim::Machine machine({.mode = irqsim::ExecutionMode::FreeRunning});
  std::atomic<bool> done{false};
  machine.post(0, [&done] { done = true; });
  EXPECT_TRUE(machine.wait_until([&done] { return done.load(); }));
  EXPECT_FALSE(machine.wait_until([] { return false; }, 1ms));
}

TEST(DeterministicMode, ADeadlockIsReportedWithEachProcessorsLocksAndWait) {
  irqsim::Machine machine(Deterministic(11));
  KSPIN_LOCK first = 0;
  KSPIN_LOCK second = 0;
  KeInitializeSpinLock(&first);
  KeInitializeSpinLock(&second);
  // The classic ABBA: each takes one lock, waits a little, then wants the other.
  const auto take_in_order = [](KSPIN_LOCK* a, KSPIN_LOCK* b) {
    return [a, b] {
      KIRQL old = 0;
      KeAcquireSpinLock(a, &old);
      KeStallExecutionProcessor(10);
      KeAcquireSpinLockAtDpcLevel(b);
      KeReleaseSpinLockFromDpcLevel(b);
      KeReleaseSpinLock(a, old);
    };
  };
  machine.post(0, take_in_order(&first, &second));
  machine.post(1, take_in_order(&second, &first));
  try {
    machine.wait_until_quiescent();
    FAIL() << "the machine did not report the deadlock";
  } catch (const irqsim::HangError& error) {
    const irqsim::HangReport& report = error.report();
    EXPECT_EQ(report.kind, irqsim::HangReport::Kind::Deadlock);
    EXPECT_EQ(report.test_waits_for, "quiescence");
    ASSERT_EQ(report.processors.size(), 2u);
    EXPECT_EQ(report.processors[0].irql, DISPATCH_LEVEL);
    EXPECT_EQ(report.processors[0].held_locks, std::vector<std::uint64_t>{AddressOf(&first)});
    EXPECT_EQ(report.processors[1].held_locks, std::vector<std::uint64_t>{AddressOf(&second)});
    EXPECT_THAT(report.processors[0].waiting_for, HasSubstr("spin lock"));
    EXPECT_THAT(report.to_string(), HasSubstr("deadlock"));
  }
  EXPECT_TRUE(machine.halted());
}

TEST(DeterministicMode, ALivelockIsReportedAfterTheStepLimit) {
  auto config = Deterministic(2, 1);
  config.schedule.step_limit = 5000;
  irqsim::Machine machine(config);
  std::atomic<bool> never{false};
  machine.post(0, [&never] {
    while (!never.load()) KeStallExecutionProcessor(1);
  });
  try {
    machine.wait_until_quiescent();
    FAIL() << "the machine did not report the livelock";
  } catch (const irqsim::HangError& error) {
    EXPECT_EQ(error.report().kind, irqsim::HangReport::Kind::Livelock);
    EXPECT_THAT(error.report().processors[0].waiting_for, HasSubstr("stall"));
  }
}

TEST(DeterministicMode, AProcessorBlockedOnAHostPrimitiveIsNamedOnStderr) {
  auto config = Deterministic(1);
  config.schedule.stuck_turn_warning = 50ms;
  irqsim::Machine machine(config);
  Gate blocked;
  Gate release;
  // Another thread lets the processor go on, long after it blocked (the machine cannot): forty
  // warning periods, so that even a test thread the host keeps waiting sees one pass unused.
  std::thread releaser([&] {
    blocked.wait();
    std::this_thread::sleep_for(2s);
    release.open();
  });
  ::testing::internal::CaptureStderr();
  machine.run_on(0, [&] {
    blocked.open();
    release.wait();  // a host wait on a processor keeps the turn
  });
  const std::string warning = ::testing::internal::GetCapturedStderr();
  releaser.join();
  EXPECT_THAT(warning, HasSubstr("no scheduling decision for 50 ms"));
  EXPECT_THAT(warning, HasSubstr("processor 0 keeps the turn"));
}

TEST(DeterministicMode, ABugCheckEndsTheWaitAsOnAFreeRunningMachine) {
  irqsim::Machine machine(Deterministic(4));
  const auto report = bug_check_from([&] {
    machine.run_on(1, [] {
      KSPIN_LOCK lock = 0;
      KeInitializeSpinLock(&lock);
      KeAcquireSpinLockAtDpcLevel(&lock);  // at PASSIVE_LEVEL: a verifier violation
    });
  });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->processor, std::optional<unsigned>{1});
}

TEST(DeterministicMode, AScheduleScopeMakesNewMachinesDeterministicUnlessTheyRunFree) {
  const irqsim::ScheduleScope scope({.seed = 77, .strategy = irqsim::ScheduleStrategy::Pct});
  irqsim::Machine scoped;
  ASSERT_TRUE(scoped.deterministic());
  EXPECT_EQ(scoped.schedule()->seed, 77u);
  EXPECT_EQ(scoped.schedule()->strategy, irqsim::ScheduleStrategy::Pct);
  irqsim::Machine free_running({.mode = irqsim::ExecutionMode::FreeRunning});
  EXPECT_FALSE(free_running.deterministic());
}

TEST(DeterministicMode, ABadScheduleIsRejected) {
  const std::vector<irqsim::Schedule> bad{irqsim::Schedule{.step_time = -1ns}, irqsim::Schedule{.step_limit = 0},
                                         irqsim::Schedule{.strategy = irqsim::ScheduleStrategy::Pct, .pct_depth = 0},
                                         irqsim::Schedule{.stuck_turn_warning = 0ms}};
  for (const irqsim::Schedule& schedule : bad) {
    EXPECT_THROW(irqsim::Machine({.mode = irqsim::ExecutionMode::Deterministic, .schedule = schedule}),
                 std::invalid_argument)
        << schedule.to_string();
  }
  irqsim::Machine still_possible(Deterministic(1));  // nothing was left behind
  EXPECT_TRUE(still_possible.deterministic());
}

TEST(DeviceTimer, ANonPositivePeriodOrNoFunctionIsRejected) {
  irqsim::Machine machine(Deterministic(1));
  EXPECT_THROW(machine.every(0ns, [] {}), std::invalid_argument);
  EXPECT_THROW(machine.every(-1ms, [] {}), std::invalid_argument);
  EXPECT_THROW(machine.every(1ms, {}), std::invalid_argument);
  machine.wait_until_quiescent();  // nothing was started
}

TEST(DeviceTimer, AnExceptionFromItsFunctionIsRethrownByTheNextWait) {
  for (const auto mode : {irqsim::ExecutionMode::Deterministic, irqsim::ExecutionMode::FreeRunning}) {
    irqsim::Machine machine({.mode = mode});
    machine.every(100us, [] { throw std::runtime_error("the device model failed"); }, 1);
    EXPECT_THROW(machine.wait_until_quiescent(), std::runtime_error);
  }
}

TEST(DeviceTimer, RunsOnAFreeRunningMachineToo) {
  irqsim::Machine machine({.mode = irqsim::ExecutionMode::FreeRunning});
  CountingDriver driver;
  driver.connect();
  machine.every(50us, [&machine] { machine.pulse(kVector); }, 20);
  machine.wait_until_quiescent();
  EXPECT_GE(driver.isr_runs.load(), 1);  // edges raised faster than they are served merge
  EXPECT_EQ(machine.stats(kVector).raised, 20u);
  driver.disconnect();
}

TEST(DeterministicMode, MachinesRunFreeByDefault) {
  if (irqsim::schedule_from_environment()) GTEST_SKIP() << "IRQSIM_SEED is set";
  irqsim::Machine machine;
  EXPECT_FALSE(machine.deterministic());
  EXPECT_EQ(machine.schedule(), std::nullopt);
  EXPECT_EQ(machine.scheduling_decisions(), std::nullopt);
}

}  // namespace
