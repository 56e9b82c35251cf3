#pragma once
// The ISR or DPC routine a processor is running. Each call pushes one onto its execution
// context (an ISR can nest in a DPC, a higher-IRQL ISR in a lower one), so the watchdog can
// time the innermost one at every preemption point and the IRQL checks know they are inside a
// DPC routine.

#include <cstdint>

namespace irqsim::core {

class ExecutionContext;

enum class RoutineKind : std::uint8_t { InterruptService, DeferredProcedure };

class RunningRoutine {
 public:
  // `timed`: whether the watchdog times it. It guards time spent at DISPATCH_LEVEL and above,
  // so a passive-level ISR, which runs like a worker thread, is not timed.
  RunningRoutine(ExecutionContext& context, RoutineKind kind, const void* routine, bool timed = true) noexcept;
  ~RunningRoutine();
  RunningRoutine(const RunningRoutine&) = delete;
  RunningRoutine& operator=(const RunningRoutine&) = delete;

  [[nodiscard]] RoutineKind kind() const noexcept { return kind_; }
  [[nodiscard]] const void* routine() const noexcept { return routine_; }
  // Bug check 0x133 if the routine has run longer than the machine's watchdog limit.
  void check_watchdog() const;

 private:
  ExecutionContext& context_;
  RoutineKind kind_;
  const void* routine_;
  bool timed_;
  std::int64_t started_ns_ = 0;  // Machine::uptime_ns(): virtual on a deterministic machine
  RunningRoutine* outer_;
};

}  // namespace irqsim::core
