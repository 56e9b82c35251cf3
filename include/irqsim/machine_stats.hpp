#pragma once
/// @file
/// @brief What a whole machine did, always counted: MachineStats and its text summary.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "irqsim/duration_histogram.hpp"
#include "irqsim/irql.hpp"
#include "irqsim/vector_stats.hpp"

namespace irqsim {

/// @brief Where one processor's time went since the machine started.
///
/// Time is charged at the moments the simulator itself changes what a processor runs: taking
/// and ending an interrupt (at the vector's IRQL; a nested interrupt's time is charged to its
/// own IRQL, not to the one it interrupted), running DPCs (DISPATCH_LEVEL), running a function
/// given to Machine::run_on or Machine::post (PASSIVE_LEVEL) and idling. A driver's own
/// KeRaiseIrql, KeAcquireSpinLock and the like are charged only while the machine records a
/// trace (exact_irql_changes); otherwise their time counts at the level the routine was started at.
struct ProcessorStats {
  /// @brief Time running code at each IRQL, indexed by IRQL.
  std::array<std::chrono::nanoseconds, irql::kHigh + 1> time_at_irql{};
  /// @brief Time in the idle loop, waiting for work.
  std::chrono::nanoseconds idle{0};
  /// @brief Interrupts the processor accepted (Machine::interrupts_taken).
  std::uint64_t interrupts = 0;
  /// @brief DPC routines the processor ran.
  std::uint64_t dpcs = 0;
  /// @brief Whether the driver's own IRQL changes were charged too (the machine records a trace).
  bool exact_irql_changes = false;
  /// @brief idle plus the time at every IRQL.
  [[nodiscard]] std::chrono::nanoseconds total() const noexcept;
};

/// @brief The run times of one DPC routine, over every processor.
struct DpcRoutineStats {
  /// @brief The routine's address.
  std::uintptr_t routine = 0;
  /// @brief How long each call took, from the call to its return, including interrupts taken
  /// while it ran.
  DurationHistogram duration;
};

/// @brief The counters of one vector that saw any activity, with what is wired to it.
struct VectorEntry {
  /// @brief The vector.
  std::uint32_t vector = 0;
  /// @brief The devices' lines and messages wired to it ("nic message 2", "uart line 0"), or
  /// "test" when only the test drove it.
  std::string source;
  /// @brief Its counters.
  VectorStats stats;
};

/// @brief Everything a machine counts, read at one moment: per vector, per processor and per
/// DPC routine. Machine::statistics() returns it.
struct MachineStats {
  /// @brief Time since the machine was created.
  std::chrono::nanoseconds uptime{0};
  /// @brief Every vector that was raised, asserted, delivered or connected, by vector number.
  std::vector<VectorEntry> vectors;
  /// @brief One entry per processor, by index.
  std::vector<ProcessorStats> processors;
  /// @brief Every DPC routine that ran, by address.
  std::vector<DpcRoutineStats> dpc_routines;

  /// @brief A text report for a test failure or a demo: a table of the vectors (counts, latency
  /// and ISR time percentiles), one of the processors (share of time at each IRQL and idle) and
  /// one of the DPC routines.
  [[nodiscard]] std::string summary() const;
};

}  // namespace irqsim
