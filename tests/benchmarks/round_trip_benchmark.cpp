// An interrupt's round trip: the test raises a vector, the ISR runs on a simulated processor
// and acknowledges, and the test sees the acknowledgement. The raw equivalent is two threads
// handing a counter back and forth. Two settings: the target processor idle and polling
// (MachineConfig::idle_spin long), and parked in the host kernel (idle_spin zero), where the
// raw partner sleeps in std::atomic::wait as the processor does.

#include <benchmark/benchmark.h>
#include <irqsim/machine.hpp>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "raw.hpp"

namespace {

constexpr ULONG kVector = 0x60;
constexpr KIRQL kIrql = 6;

// ---- raw: two threads -----------------------------------------------------------------------

void BM_Raw_AtomicPingPong(benchmark::State& state) {
  std::atomic<std::uint64_t> request{0};
  std::atomic<std::uint64_t> acknowledged{0};
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    std::uint64_t seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const std::uint64_t now = request.load(std::memory_order_acquire);
      if (now == seen) {
        bench::cpu_relax();
        continue;
      }
      seen = now;
      acknowledged.store(now, std::memory_order_release);
    }
  });
  std::uint64_t sent = 0;
  for (auto _ : state) {
    request.store(++sent, std::memory_order_release);
    while (acknowledged.load(std::memory_order_acquire) != sent) bench::cpu_relax();
  }
  stop.store(true, std::memory_order_relaxed);
  partner.join();
}
BENCHMARK(BM_Raw_AtomicPingPong)->UseRealTime();

void BM_Raw_WaitNotifyPingPong(benchmark::State& state) {
  std::atomic<std::uint64_t> request{0};
  std::atomic<std::uint64_t> acknowledged{0};
  constexpr std::uint64_t kStop = ~std::uint64_t{0};
  std::thread partner([&] {
    std::uint64_t seen = 0;
    for (;;) {
      request.wait(seen, std::memory_order_acquire);
      seen = request.load(std::memory_order_acquire);
      if (seen == kStop) return;
      acknowledged.store(seen, std::memory_order_release);
      acknowledged.notify_one();
    }
  });
  std::uint64_t sent = 0;
  for (auto _ : state) {
    request.store(++sent, std::memory_order_release);
    request.notify_one();
    for (std::uint64_t seen = acknowledged.load(std::memory_order_acquire); seen != sent;
         seen = acknowledged.load(std::memory_order_acquire)) {
      acknowledged.wait(seen, std::memory_order_acquire);
    }
  }
  request.store(kStop, std::memory_order_release);
  request.notify_one();
  partner.join();
}
BENCHMARK(BM_Raw_WaitNotifyPingPong)->UseRealTime();

// ---- irqsim: the test and a processor ---------------------------------------------------------

struct Acknowledgement {
  std::atomic<std::uint64_t> count{0};
  bool notify = false;
};

BOOLEAN AcknowledgingIsr(PKINTERRUPT, PVOID context) {
  auto& acknowledgement = *static_cast<Acknowledgement*>(context);
  acknowledgement.count.fetch_add(1, std::memory_order_release);
  if (acknowledgement.notify) acknowledgement.count.notify_one();
  return TRUE;
}

// One processor, its ISR connected to a latched vector; each iteration raises the vector once
// and waits, polling or sleeping, until the ISR has acknowledged it.
void raise_and_wait_for_acknowledgement(benchmark::State& state, std::chrono::microseconds idle_spin, bool sleep,
                                        irqsim::TraceRecording trace = irqsim::TraceRecording::Off) {
  // A recording machine keeps few events, so that its store does not raise the peak resident
  // set the spread benchmark measures later in the same process.
  irqsim::Machine machine({.processors = 1, .idle_spin = idle_spin, .trace = trace, .trace_events_per_track = 4096});
  Acknowledgement acknowledgement{.notify = sleep};
  PKINTERRUPT interrupt = nullptr;
  if (IoConnectInterrupt(&interrupt, AcknowledgingIsr, &acknowledgement, nullptr, kVector, kIrql, kIrql, Latched,
                         FALSE, 1, FALSE) != STATUS_SUCCESS) {
    state.SkipWithError("IoConnectInterrupt failed");
    return;
  }
  std::uint64_t raised = 0;
  for (auto _ : state) {
    machine.pulse(kVector);
    ++raised;
    for (std::uint64_t seen = acknowledgement.count.load(std::memory_order_acquire); seen != raised;
         seen = acknowledgement.count.load(std::memory_order_acquire)) {
      if (sleep) {
        acknowledgement.count.wait(seen, std::memory_order_acquire);
      } else {
        bench::cpu_relax();
      }
    }
  }
  IoDisconnectInterrupt(interrupt);
}

void BM_Irqsim_RaiseToIsr_Polling(benchmark::State& state) {
  raise_and_wait_for_acknowledgement(state, std::chrono::hours(24), false);
}
BENCHMARK(BM_Irqsim_RaiseToIsr_Polling)->UseRealTime();

// The same while the machine records a trace: what recording costs.
void BM_Irqsim_RaiseToIsr_Recording(benchmark::State& state) {
  raise_and_wait_for_acknowledgement(state, std::chrono::hours(24), false, irqsim::TraceRecording::On);
}
BENCHMARK(BM_Irqsim_RaiseToIsr_Recording)->UseRealTime();

void BM_Irqsim_RaiseToIsr_Parked(benchmark::State& state) {
  raise_and_wait_for_acknowledgement(state, std::chrono::microseconds::zero(), true);
}
BENCHMARK(BM_Irqsim_RaiseToIsr_Parked)->UseRealTime();

// The floor under both: the processor raises the interrupt itself and takes it when it next
// lowers its IRQL, so no cache line crosses between host cores. What is left is the work of
// latching, routing, accepting, dispatching and ending one interrupt.
void BM_Irqsim_SelfInterrupt(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  Acknowledgement acknowledgement;
  PKINTERRUPT interrupt = nullptr;
  if (IoConnectInterrupt(&interrupt, AcknowledgingIsr, &acknowledgement, nullptr, kVector, kIrql, kIrql, Latched,
                         FALSE, 1, FALSE) != STATUS_SUCCESS) {
    state.SkipWithError("IoConnectInterrupt failed");
    return;
  }
  machine.run_on(0, [&] {
    std::uint64_t raised = 0;
    for (auto _ : state) {
      KIRQL old_irql;
      KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
      machine.pulse(kVector);
      ++raised;
      KeLowerIrql(old_irql);
    }
    if (acknowledgement.count.load() != raised) state.SkipWithError("an interrupt was not taken when lowering");
  });
  IoDisconnectInterrupt(interrupt);
}
BENCHMARK(BM_Irqsim_SelfInterrupt);

// What a test usually does instead of watching the ISR: raise, then wait_until_quiescent.
BOOLEAN Claims(PKINTERRUPT, PVOID) { return TRUE; }

void BM_Irqsim_RaiseAndWaitUntilQuiescent(benchmark::State& state) {
  irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
  PKINTERRUPT interrupt = nullptr;
  IoConnectInterrupt(&interrupt, Claims, nullptr, nullptr, kVector, kIrql, kIrql, Latched, FALSE,
                     static_cast<KAFFINITY>(-1), FALSE);
  for (auto _ : state) {
    machine.pulse(kVector);
    machine.wait_until_quiescent();
  }
  IoDisconnectInterrupt(interrupt);
}
BENCHMARK(BM_Irqsim_RaiseAndWaitUntilQuiescent)->Arg(1)->Arg(4)->UseRealTime();

}  // namespace
