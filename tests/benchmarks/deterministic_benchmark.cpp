// What the deterministic mode (MachineConfig::mode = ExecutionMode::Deterministic) costs: one
// scheduling decision that leaves the turn with the running processor, one that passes it to
// another thread (against two raw threads passing a turn the same way), and whole tests against
// the same tests run free. A WDK call on a deterministic machine's processor is one decision (its
// preemption point), so the benchmarks count their calls; the virtual clock, which each decision
// moves by Schedule::step_time, confirms the count. No target is set: these figures are context.

#include <benchmark/benchmark.h>
#include <irqsim/machine.hpp>
#include <wdm.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

namespace {

constexpr ULONG kVector = 0x70;
constexpr KIRQL kIrql = 6;
// Interrupts per test in the whole-test benchmarks.
constexpr unsigned kInterrupts = 1000;

irqsim::MachineConfig free_running(unsigned processors) {
  return {.processors = processors, .trace = irqsim::TraceRecording::Off, .mode = irqsim::ExecutionMode::FreeRunning};
}

irqsim::MachineConfig deterministic(unsigned processors) {
  // The step limit would report a benchmark loop of millions of decisions, made while the test's
  // thread waits in run_on, as a livelock.
  return {.processors = processors,
          .trace = irqsim::TraceRecording::Off,
          .mode = irqsim::ExecutionMode::Deterministic,
          .schedule = {.seed = 1, .step_limit = std::numeric_limits<std::uint64_t>::max()}};
}

// Whether the virtual clock, read before and after `calls` calls, moved by as many decisions.
// KeQueryInterruptTime counts the default step_time (100 ns), and while a processor can run
// nothing else moves the clock. The closing read is a decision too; `slack` allows for calls in
// flight at either end when another processor also makes them.
bool one_decision_per_call(ULONGLONG start, ULONGLONG end, std::uint64_t calls, std::uint64_t slack) {
  const std::uint64_t moved = end - start;
  return moved + slack >= calls + 1 && moved <= calls + 1 + slack;
}

// ---- a decision that keeps the turn -----------------------------------------------------------

// The loop below on a free-running machine, where the call reads the host's clock.
void BM_Irqsim_KeQueryInterruptTime(benchmark::State& state) {
  irqsim::Machine machine(free_running(1));
  machine.run_on(0, [&state] {
    for (auto _ : state) benchmark::DoNotOptimize(KeQueryInterruptTime());
  });
}
BENCHMARK(BM_Irqsim_KeQueryInterruptTime)->UseRealTime();

// One processor: every call is a decision that finds only it runnable and keeps it running.
void BM_Irqsim_DeterministicDecision(benchmark::State& state) {
  irqsim::Machine machine(deterministic(1));
  const bool counted = machine.run_on(0, [&state] {
    const ULONGLONG start = KeQueryInterruptTime();
    for (auto _ : state) benchmark::DoNotOptimize(KeQueryInterruptTime());
    return one_decision_per_call(start, KeQueryInterruptTime(), state.iterations(), 0);
  });
  if (!counted) state.SkipWithError("a call was not one scheduling decision");
  state.counters["decisions_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Irqsim_DeterministicDecision)->UseRealTime();

// ---- a decision that passes the turn ------------------------------------------------------------

// Two threads passing a turn as the scheduler passes it (Scheduler::hand_turn): each sleeps on
// its own flag in std::atomic::wait until the other sets it and notifies. The floor of any
// hand-off between threads; every iteration is two switches.
class Turns {
 public:
  Turns() { flags_[0].store(1, std::memory_order_relaxed); }

  void give(unsigned from) {
    std::atomic<std::uint32_t>& theirs = flags_[1 - from];
    flags_[from].store(0, std::memory_order_relaxed);
    theirs.store(1, std::memory_order_release);
    theirs.notify_one();
  }
  void await(unsigned mine) {
    std::atomic<std::uint32_t>& flag = flags_[mine];
    while (flag.load(std::memory_order_acquire) == 0) flag.wait(0, std::memory_order_acquire);
  }

 private:
  std::array<std::atomic<std::uint32_t>, 2> flags_{};
};

void BM_Raw_TurnHandoff(benchmark::State& state) {
  Turns turns;
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    for (turns.await(1); !stop.load(std::memory_order_relaxed); turns.await(1)) turns.give(1);
  });
  for (auto _ : state) {
    turns.give(0);
    turns.await(0);
  }
  stop.store(true, std::memory_order_relaxed);
  turns.give(0);
  partner.join();
  state.counters["switches_per_second"] =
      benchmark::Counter(2 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Raw_TurnHandoff)->UseRealTime();

// Two processors making calls, the Random strategy choosing between them at each: about half
// the decisions pass the turn. Only the turn holder touches the counts, and the turn's hand-off
// orders each holder's writes before the next one's reads.
struct PingPong {
  unsigned last_caller = 0;
  std::uint64_t partner_calls = 0;
  std::atomic<bool> stop{false};
};

void BM_Irqsim_DeterministicSwitch(benchmark::State& state) {
  irqsim::Machine machine(deterministic(2));
  PingPong shared;
  machine.post(1, [&shared] {
    while (!shared.stop.load(std::memory_order_relaxed)) {
      benchmark::DoNotOptimize(KeQueryInterruptTime());
      shared.last_caller = 1;
      ++shared.partner_calls;
    }
  });
  struct Counts {
    std::uint64_t decisions;
    std::uint64_t switches;
    bool counted;
  };
  const Counts counts = machine.run_on(0, [&state, &shared] {
    const ULONGLONG start = KeQueryInterruptTime();
    const std::uint64_t partner_before = shared.partner_calls;
    // Each time processor 0 finds that processor 1 called last, the turn went there and back.
    std::uint64_t returns = 0;
    for (auto _ : state) {
      benchmark::DoNotOptimize(KeQueryInterruptTime());
      if (shared.last_caller != 0) {
        ++returns;
        shared.last_caller = 0;
      }
    }
    const ULONGLONG end = KeQueryInterruptTime();
    shared.stop.store(true, std::memory_order_relaxed);
    // With the partner's calls during the closing read, two on average: noise on millions.
    const std::uint64_t decisions = state.iterations() + shared.partner_calls - partner_before;
    return Counts{decisions, 2 * returns, one_decision_per_call(start, end, decisions, 1)};
  });
  machine.wait_until_quiescent();
  if (!counts.counted) state.SkipWithError("a call was not one scheduling decision");
  state.counters["decisions_per_second"] =
      benchmark::Counter(static_cast<double>(counts.decisions), benchmark::Counter::kIsRate);
  state.counters["switches_per_second"] =
      benchmark::Counter(static_cast<double>(counts.switches), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Irqsim_DeterministicSwitch)->UseRealTime();

// ---- whole tests, deterministic against free-running ------------------------------------------

// A driver whose ISR queues a DPC, connected to both processors.
class DeferringDriver {
 public:
  DeferringDriver() {
    KeInitializeDpc(&dpc_, &DeferringDriver::Dpc, this);
    IoConnectInterrupt(&interrupt_, &DeferringDriver::Isr, this, nullptr, kVector, kIrql, kIrql, Latched, FALSE, 0x3,
                       FALSE);
  }
  ~DeferringDriver() {
    if (interrupt_ != nullptr) IoDisconnectInterrupt(interrupt_);
    KeFlushQueuedDpcs();
  }
  DeferringDriver(const DeferringDriver&) = delete;
  DeferringDriver& operator=(const DeferringDriver&) = delete;

  [[nodiscard]] std::uint64_t dpcs() const { return dpcs_.load(std::memory_order_relaxed); }

 private:
  static BOOLEAN Isr(PKINTERRUPT, PVOID context) {
    auto& driver = *static_cast<DeferringDriver*>(context);
    KeInsertQueueDpc(&driver.dpc_, nullptr, nullptr);
    return TRUE;
  }
  static VOID Dpc(PKDPC, PVOID context, PVOID, PVOID) {
    static_cast<DeferringDriver*>(context)->dpcs_.fetch_add(1, std::memory_order_relaxed);
  }

  KDPC dpc_{};
  PKINTERRUPT interrupt_ = nullptr;
  std::atomic<std::uint64_t> dpcs_{0};
};

// The test: a machine of two processors and the driver; 1,000 pulses, every other one from
// driver code posted to a processor and the rest from the test's thread, each waited for, so
// that no two merge and both modes do the same work.
void pulse_test(benchmark::State& state, const irqsim::MachineConfig& config) {
  for (auto _ : state) {
    irqsim::Machine machine(config);
    DeferringDriver driver;
    for (unsigned i = 0; i < kInterrupts; ++i) {
      if (i % 2 == 0) {
        machine.pulse(kVector);
      } else {
        machine.post((i / 2) % 2, [&machine] { machine.pulse(kVector); });
      }
      machine.wait_until_quiescent();
    }
    if (driver.dpcs() != kInterrupts) state.SkipWithError("a pulse did not run its DPC");
  }
}

void BM_Irqsim_PulseTest_FreeRunning(benchmark::State& state) { pulse_test(state, free_running(2)); }
BENCHMARK(BM_Irqsim_PulseTest_FreeRunning)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Irqsim_PulseTest_Deterministic(benchmark::State& state) { pulse_test(state, deterministic(2)); }
BENCHMARK(BM_Irqsim_PulseTest_Deterministic)->Unit(benchmark::kMillisecond)->UseRealTime();

// The test: a device timer pulsing the vector every `period` microseconds (the argument), 1,000
// times, and a wait for quiescence. A free-running machine needs 1,000 periods of real time; a
// deterministic one jumps its clock to each deadline. A late free-running timer catches up with
// calls back to back, whose pulses can merge, so `dpcs` (per test) may stay below 1,000 there;
// `simulated_ms` is the machine's uptime at the end.
void timer_test(benchmark::State& state, const irqsim::MachineConfig& config) {
  const std::chrono::microseconds period(state.range(0));
  std::chrono::nanoseconds simulated{0};
  std::uint64_t dpcs = 0;
  for (auto _ : state) {
    irqsim::Machine machine(config);
    DeferringDriver driver;
    std::atomic<unsigned> calls{0};
    machine.every(
        period,
        [&machine, &calls] {
          ++calls;
          machine.pulse(kVector);
        },
        kInterrupts);
    machine.wait_until_quiescent();
    if (calls.load() != kInterrupts) state.SkipWithError("the timer did not make its calls");
    simulated += machine.statistics().uptime;
    dpcs += driver.dpcs();
  }
  state.counters["simulated_ms"] = benchmark::Counter(std::chrono::duration<double, std::milli>(simulated).count(),
                                                      benchmark::Counter::kAvgIterations);
  state.counters["dpcs"] = benchmark::Counter(static_cast<double>(dpcs), benchmark::Counter::kAvgIterations);
}

// A free-running timer of 1 ms would take a real second per run: 20 us stands in for it.
void BM_Irqsim_TimerTest_FreeRunning(benchmark::State& state) { timer_test(state, free_running(2)); }
BENCHMARK(BM_Irqsim_TimerTest_FreeRunning)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Irqsim_TimerTest_Deterministic(benchmark::State& state) { timer_test(state, deterministic(2)); }
BENCHMARK(BM_Irqsim_TimerTest_Deterministic)->Arg(20)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
