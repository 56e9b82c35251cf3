// The machine's clock: KeQueryInterruptTime, KeQueryPerformanceCounter, KeQueryTimeIncrement and
// KeStallExecutionProcessor. Time is Machine::uptime_ns(): the host's steady clock since the
// machine was created, or a deterministic machine's virtual clock.

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/machine.hpp"
#include "core/spin_wait.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

// 100-nanosecond units, the kernel's unit of interrupt time, and a 10 MHz performance counter.
using Hundreds = std::chrono::duration<std::int64_t, std::ratio<1, 10'000'000>>;

Hundreds uptime(const core::ExecutionContext& context) {
  return std::chrono::duration_cast<Hundreds>(std::chrono::nanoseconds(context.machine().uptime_ns()));
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
  const core::Machine& machine = context.machine();
  const std::int64_t until = machine.uptime_ns() + std::int64_t{MicroSeconds} * 1000;
  // A processor spinning in a stall still takes interrupts above its IRQL: every round is a
  // preemption point.
  core::SpinWait wait(context, "a stall");
  while (machine.uptime_ns() < until) {
    wait.pause_until(until);
    context.preemption_point();
  }
}

}  // extern "C"
