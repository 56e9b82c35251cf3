// What a machine costs to have: building and tearing one down next to starting and joining
// the same number of raw threads, and the CPU an idle machine of 64 processors burns.

#include <benchmark/benchmark.h>
#include <irqsim/machine.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "host.hpp"

namespace {

void BM_Raw_StartJoinThreads(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    std::vector<std::thread> threads;
    threads.reserve(count);
    for (std::size_t i = 0; i < count; ++i) threads.emplace_back([] {});
    for (std::thread& thread : threads) thread.join();
  }
}
BENCHMARK(BM_Raw_StartJoinThreads)->Arg(4)->UseRealTime();

void BM_Irqsim_MachineCreateDestroy(benchmark::State& state) {
  for (auto _ : state) {
    irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
    benchmark::DoNotOptimize(machine.processor_count());
  }
}
BENCHMARK(BM_Irqsim_MachineCreateDestroy)->Arg(4)->Arg(64)->UseRealTime();

// One second of an idle machine: the process CPU time it costs, in milliseconds, once its
// processors have settled after start-up.
void BM_Irqsim_IdleMachineCpu(benchmark::State& state) {
  irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
  machine.wait_until_quiescent();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::chrono::microseconds spent{0};
  for (auto _ : state) {
    const auto before = bench::process_cpu_time();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    spent += bench::process_cpu_time() - before;
  }
  state.counters["cpu_ms_per_s"] =
      std::chrono::duration<double, std::milli>(spent).count() / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Irqsim_IdleMachineCpu)->Arg(64)->Iterations(1)->UseRealTime();

}  // namespace
