// The WDK calls a driver's hot path makes, uncontended, next to a raw spin lock. The irqsim
// loops run on a simulated processor, where ISRs and DPCs run and where every call is a
// preemption point with interrupts and DPCs to check for.

#include <benchmark/benchmark.h>
#include <irqsim/machine.hpp>
#include <portcls.h>
#include <wdm.h>

#include <deque>
#include <mutex>
#include <thread>

#include "raw.hpp"

namespace {

// Runs the benchmark loop as driver code on processor 0.
template <class Body>
void on_processor(benchmark::State& state, irqsim::Machine& machine, Body body) {
  machine.run_on(0, [&] {
    for (auto _ : state) body();
  });
}

// ---- raw ------------------------------------------------------------------------------------

void BM_Raw_SpinLockPair(benchmark::State& state) {
  bench::RawSpinLock lock;
  for (auto _ : state) {
    lock.lock();
    benchmark::ClobberMemory();
    lock.unlock();
  }
}
BENCHMARK(BM_Raw_SpinLockPair);

BOOLEAN EmptyRoutine(PVOID) { return TRUE; }

void BM_Raw_SpinLockedCall(benchmark::State& state) {
  bench::RawSpinLock lock;
  PKSYNCHRONIZE_ROUTINE routine = EmptyRoutine;
  for (auto _ : state) {
    benchmark::DoNotOptimize(routine);
    lock.lock();
    benchmark::DoNotOptimize(routine(nullptr));
    lock.unlock();
  }
}
BENCHMARK(BM_Raw_SpinLockedCall);

// ---- irqsim ---------------------------------------------------------------------------------

void BM_Irqsim_KeAcquireReleaseSpinLock(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  on_processor(state, machine, [&lock] {
    KIRQL old_irql;
    KeAcquireSpinLock(&lock, &old_irql);
    benchmark::ClobberMemory();
    KeReleaseSpinLock(&lock, old_irql);
  });
}
BENCHMARK(BM_Irqsim_KeAcquireReleaseSpinLock);

void BM_Irqsim_KeRaiseLowerIrql(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  on_processor(state, machine, [] {
    KIRQL old_irql;
    KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    benchmark::ClobberMemory();
    KeLowerIrql(old_irql);
  });
}
BENCHMARK(BM_Irqsim_KeRaiseLowerIrql);

BOOLEAN NeverClaims(PKINTERRUPT, PVOID) { return FALSE; }

void BM_Irqsim_KeSynchronizeExecution(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  PKINTERRUPT interrupt = nullptr;
  if (IoConnectInterrupt(&interrupt, NeverClaims, nullptr, nullptr, 0x50, 5, 5, Latched, FALSE, 1, FALSE) !=
      STATUS_SUCCESS) {
    state.SkipWithError("IoConnectInterrupt failed");
    return;
  }
  on_processor(state, machine,
               [interrupt] { benchmark::DoNotOptimize(KeSynchronizeExecution(interrupt, EmptyRoutine, nullptr)); });
  IoDisconnectInterrupt(interrupt);
}
BENCHMARK(BM_Irqsim_KeSynchronizeExecution);

NTSTATUS EmptyPortClassRoutine(PINTERRUPTSYNC, PVOID) { return STATUS_SUCCESS; }

// Port class's way into the same critical section, on a connected interrupt sync object.
void BM_Irqsim_CallSynchronizedRoutine(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  irqsim::Device card = machine.plug({.name = "audio", .lines = {{.vector = 0x58, .irql = 5}}});
  PRESOURCELIST resources = nullptr;
  PcNewResourceList(&resources, nullptr, NonPagedPool, card.translated_resources(), card.raw_resources());
  PINTERRUPTSYNC sync = nullptr;
  PcNewInterruptSync(&sync, nullptr, resources, 0, InterruptSyncModeNormal);
  sync->RegisterServiceRoutine(EmptyPortClassRoutine, nullptr, FALSE);
  sync->Connect();
  on_processor(state, machine,
               [sync] { benchmark::DoNotOptimize(sync->CallSynchronizedRoutine(EmptyPortClassRoutine, nullptr)); });
  sync->Disconnect();
  sync->Release();
  resources->Release();
}
BENCHMARK(BM_Irqsim_CallSynchronizedRoutine);

// ---- DPC queue --------------------------------------------------------------------------------

// Queuing and dequeuing an element of a mutex-guarded deque: the raw cost of a locked queue.
void BM_Raw_LockedQueuePushPop(benchmark::State& state) {
  std::mutex mutex;
  std::deque<void*> queue;
  int element = 0;
  for (auto _ : state) {
    {
      std::lock_guard lock(mutex);
      queue.push_back(&element);
    }
    std::lock_guard lock(mutex);
    benchmark::DoNotOptimize(queue.front());
    queue.pop_front();
  }
}
BENCHMARK(BM_Raw_LockedQueuePushPop);

VOID NeverRuns(PKDPC, PVOID, PVOID, PVOID) {}

// A DPC queued for another processor with LowImportance and taken out again before it runs.
void BM_Irqsim_KeInsertRemoveQueueDpc(benchmark::State& state) {
  irqsim::Machine machine({.processors = 2, .clock_tick = std::chrono::hours(1)});
  KDPC dpc;
  KeInitializeDpc(&dpc, NeverRuns, nullptr);
  KeSetImportanceDpc(&dpc, LowImportance);
  KeSetTargetProcessorDpc(&dpc, 1);
  // Processor 1 stays busy at PASSIVE_LEVEL, so its idle loop does not run the queue.
  std::atomic<bool> release{false};
  machine.post(1, [&release] {
    while (!release.load(std::memory_order_acquire)) std::this_thread::yield();
  });
  on_processor(state, machine, [&dpc] {
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    benchmark::DoNotOptimize(KeRemoveQueueDpc(&dpc));
  });
  release.store(true, std::memory_order_release);
  machine.wait_until_quiescent();
}
BENCHMARK(BM_Irqsim_KeInsertRemoveQueueDpc);

}  // namespace
