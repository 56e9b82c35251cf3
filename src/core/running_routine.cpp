#include "core/running_routine.hpp"

#include <fmt/format.h>

#include "core/execution_context.hpp"
#include "core/machine.hpp"

namespace irqsim::core {

namespace {

std::chrono::microseconds watchdog_limit(const ExecutionContext& context) {
  return context.machine().config().watchdog_limit;
}

}  // namespace

RunningRoutine::RunningRoutine(ExecutionContext& context, RoutineKind kind, const void* routine, bool timed) noexcept
    : context_(context),
      kind_(kind),
      routine_(routine),
      timed_(timed && watchdog_limit(context) != std::chrono::microseconds::zero()),
      outer_(context.running_routine()) {
  // The clock is read only when the watchdog is on: most tests never pay for it.
  if (timed_) started_ns_ = context.machine().uptime_ns();
  context_.set_running_routine(this);
}

RunningRoutine::~RunningRoutine() { context_.set_running_routine(outer_); }

void RunningRoutine::check_watchdog() const {
  if (!timed_) return;
  const std::chrono::microseconds limit = watchdog_limit(context_);
  const auto ran = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::nanoseconds(context_.machine().uptime_ns() - started_ns_));
  if (ran <= limit) return;
  const char* what = kind_ == RoutineKind::InterruptService ? "interrupt service routine" : "DPC routine";
  context_.machine().bug_check(
      context_, bugcheck::kDpcWatchdogViolation,
      {0, static_cast<std::uint64_t>(ran.count()), static_cast<std::uint64_t>(limit.count()),
       reinterpret_cast<std::uintptr_t>(routine_)},
      fmt::format("The {} at {:#x} has run for {} us, longer than the watchdog limit of {} us "
                  "(MachineConfig::watchdog_limit); an ISR or DPC must do little and return.",
                  what, reinterpret_cast<std::uintptr_t>(routine_), ran.count(), limit.count()));
}

}  // namespace irqsim::core
