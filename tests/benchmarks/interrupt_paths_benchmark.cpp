// The costs a driver test pays: a spin lock, a synchronized call into the ISR's critical
// section (directly and through port class), queuing a DPC, and an interrupt's round trip from the line to the ISR (and its DPC)
// and back to quiescence. Each comes with the raw C++ equivalent as a baseline, so the ratio is
// what to read.

#include <benchmark/benchmark.h>
#include <irqsim/machine.hpp>
#include <portcls.h>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace {

// ---- spin lock ------------------------------------------------------------------------------

void BM_Baseline_AtomicSpinLock(benchmark::State& state) {
  std::atomic<bool> lock{false};
  for (auto _ : state) {
    while (lock.exchange(true, std::memory_order_acquire)) {
    }
    benchmark::DoNotOptimize(lock);
    lock.store(false, std::memory_order_release);
  }
}
BENCHMARK(BM_Baseline_AtomicSpinLock);

void BM_KeAcquireReleaseSpinLock(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  for (auto _ : state) {
    KIRQL old_irql;
    KeAcquireSpinLock(&lock, &old_irql);
    benchmark::DoNotOptimize(lock);
    KeReleaseSpinLock(&lock, old_irql);
  }
}
BENCHMARK(BM_KeAcquireReleaseSpinLock);

// ---- synchronized call ------------------------------------------------------------------------

BOOLEAN NeverClaims(PKINTERRUPT, PVOID) { return FALSE; }
BOOLEAN Touch(PVOID context) {
  ++*static_cast<int*>(context);
  return TRUE;
}

void BM_Baseline_MutexCall(benchmark::State& state) {
  std::mutex mutex;
  int value = 0;
  for (auto _ : state) {
    std::lock_guard lock(mutex);
    benchmark::DoNotOptimize(Touch(&value));
  }
}
BENCHMARK(BM_Baseline_MutexCall);

void BM_KeSynchronizeExecution(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  PKINTERRUPT interrupt = nullptr;
  IoConnectInterrupt(&interrupt, NeverClaims, nullptr, nullptr, 0x50, 5, 5, Latched, FALSE, 1, FALSE);
  int value = 0;
  for (auto _ : state) benchmark::DoNotOptimize(KeSynchronizeExecution(interrupt, Touch, &value));
  IoDisconnectInterrupt(interrupt);
}
BENCHMARK(BM_KeSynchronizeExecution);

NTSTATUS TouchForPortClass(PINTERRUPTSYNC, PVOID context) {
  ++*static_cast<int*>(context);
  return STATUS_SUCCESS;
}

// Port class's way into the same critical section, on a connected interrupt sync object.
void BM_CallSynchronizedRoutine(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  irqsim::Device card = machine.plug({.name = "audio", .lines = {{.vector = 0x58, .irql = 5}}});
  PRESOURCELIST resources = nullptr;
  PcNewResourceList(&resources, nullptr, NonPagedPool, card.translated_resources(), card.raw_resources());
  PINTERRUPTSYNC sync = nullptr;
  PcNewInterruptSync(&sync, nullptr, resources, 0, InterruptSyncModeNormal);
  int value = 0;
  sync->RegisterServiceRoutine(TouchForPortClass, &value, FALSE);
  sync->Connect();
  for (auto _ : state) benchmark::DoNotOptimize(sync->CallSynchronizedRoutine(TouchForPortClass, &value));
  sync->Release();
  resources->Release();
}
BENCHMARK(BM_CallSynchronizedRoutine);

// ---- interrupt round trip ---------------------------------------------------------------------

// A thread parked on a condition variable is woken, runs a handler and reports back: the
// raw cost of handing work to another thread and waiting for it.
void BM_Baseline_ThreadHandoff(benchmark::State& state) {
  std::mutex mutex;
  std::condition_variable cv;
  int requested = 0;
  int done = 0;
  bool stop = false;
  std::thread worker([&] {
    std::unique_lock lock(mutex);
    while (true) {
      cv.wait(lock, [&] { return stop || requested > done; });
      if (stop) return;
      ++done;
      cv.notify_all();
    }
  });
  for (auto _ : state) {
    std::unique_lock lock(mutex);
    ++requested;
    cv.notify_all();
    cv.wait(lock, [&] { return done == requested; });
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  cv.notify_all();
  worker.join();
}
BENCHMARK(BM_Baseline_ThreadHandoff)->UseRealTime();

BOOLEAN Claims(PKINTERRUPT, PVOID context) {
  static_cast<std::atomic<int>*>(context)->fetch_add(1, std::memory_order_relaxed);
  return TRUE;
}

// Each iteration: one edge on a vector `isr` is connected to on every processor, and the wait
// until the machine has handled it.
void PulseRoundTrips(benchmark::State& state, irqsim::Machine& machine, PKSERVICE_ROUTINE isr, PVOID context) {
  PKINTERRUPT interrupt = nullptr;
  IoConnectInterrupt(&interrupt, isr, context, nullptr, 0x60, 6, 6, Latched, FALSE, static_cast<KAFFINITY>(-1),
                     FALSE);
  for (auto _ : state) {
    machine.pulse(0x60);
    machine.wait_until_quiescent();
  }
  IoDisconnectInterrupt(interrupt);
}

void BM_PulseToIsrAndQuiescence(benchmark::State& state) {
  irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
  std::atomic<int> calls{0};
  PulseRoundTrips(state, machine, Claims, &calls);
  state.counters["isr_calls"] = calls.load();
}
BENCHMARK(BM_PulseToIsrAndQuiescence)->Arg(1)->Arg(4)->Arg(64)->UseRealTime();

// The ISR -> DPC pattern: the ISR queues a DPC that does the counting.
VOID CountingDpc(PKDPC, PVOID context, PVOID, PVOID) {
  static_cast<std::atomic<int>*>(context)->fetch_add(1, std::memory_order_relaxed);
}

BOOLEAN QueuesDpc(PKINTERRUPT, PVOID context) {
  KeInsertQueueDpc(static_cast<PKDPC>(context), nullptr, nullptr);
  return TRUE;
}

void BM_PulseToIsrDpcAndQuiescence(benchmark::State& state) {
  irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
  std::atomic<int> dpc_calls{0};
  KDPC dpc;
  KeInitializeDpc(&dpc, CountingDpc, &dpc_calls);
  PulseRoundTrips(state, machine, QueuesDpc, &dpc);
  state.counters["dpc_calls"] = dpc_calls.load();
}
BENCHMARK(BM_PulseToIsrDpcAndQuiescence)->Arg(1)->Arg(4)->UseRealTime();

// ---- DPC queue ----------------------------------------------------------------------------------

// Queuing and dequeuing an element of a mutex-guarded deque: the raw cost of the queue.
void BM_Baseline_MutexDequePushPop(benchmark::State& state) {
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
BENCHMARK(BM_Baseline_MutexDequePushPop);

VOID NeverRuns(PKDPC, PVOID, PVOID, PVOID) {}

// A DPC queued for another processor with LowImportance and taken out again before it runs.
void BM_KeInsertAndRemoveQueueDpc(benchmark::State& state) {
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
  for (auto _ : state) {
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    benchmark::DoNotOptimize(KeRemoveQueueDpc(&dpc));
  }
  release.store(true, std::memory_order_release);
  machine.wait_until_quiescent();
}
BENCHMARK(BM_KeInsertAndRemoveQueueDpc);

void BM_MachineCreateDestroy(benchmark::State& state) {
  for (auto _ : state) {
    irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
    benchmark::DoNotOptimize(machine.processor_count());
  }
}
BENCHMARK(BM_MachineCreateDestroy)->Arg(2)->Arg(64)->UseRealTime();

}  // namespace
