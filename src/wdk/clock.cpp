// The machine's clock: KeQueryInterruptTime, KeQueryPerformanceCounter, KeQueryTimeIncrement and
// KeStallExecutionProcessor. Time is the host's steady clock since the machine was created.

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/machine.hpp"
#include "platform/backoff.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

// 100-nanosecond units, the kernel's unit of interrupt time, and a 10 MHz performance counter.
using Hundreds = std::chrono::duration<std::int64_t, std::ratio<1, 10'000'000>>;

Hundreds uptime(const core::ExecutionContext& context) {
  return std::chrono::duration_cast<Hundreds>(std::chrono::steady_clock::now() - context.machine().boot_time());
}

}  // namespace

extern "C" {

ULONGLONG KeQueryInterruptTime(void) { return static_cast<ULONGLONG>(uptime(wdk::enter()).count()); }

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency) {
  auto& context = wdk::enter();
  if (PerformanceFrequency != nullptr) PerformanceFrequency->QuadPart = Hundreds::period::den;
  LARGE_INTEGER counter{};
  counter.QuadPart = uptime(context).count();
  return counter;
}

ULONG KeQueryTimeIncrement(void) {
  auto& context = wdk::enter();
  // A tick longer than a ULONG of 100-ns units (about 7 minutes; tests use very long ticks to
  // mean "never") reads as the largest value.
  const auto increment = std::chrono::duration_cast<Hundreds>(context.machine().config().clock_tick).count();
  return static_cast<ULONG>(std::min<std::int64_t>(increment, std::numeric_limits<ULONG>::max()));
}

VOID KeStallExecutionProcessor(ULONG MicroSeconds) {
  auto& context = wdk::enter();
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(MicroSeconds);
  // A processor spinning in a stall still takes interrupts above its IRQL: every round is a
  // preemption point.
  platform::Backoff backoff;
  while (std::chrono::steady_clock::now() < until) {
    backoff.pause();
    context.preemption_point();
  }
}

}  // extern "C"
