#pragma once
/// @file
/// @brief What happened to the interrupts of one vector: VectorStats.

#include <cstdint>
#include <string>

#include "irqsim/duration_histogram.hpp"

namespace irqsim {

/// @brief Counters of one vector since the machine started, read together at one moment.
///
/// They account for every interrupt: each edge raised is delivered, merged into one still
/// pending, dropped or still pending, and each delivery ends claimed, unclaimed, unexpected or
/// abandoned unless its ISRs still run. edges_add_up() and deliveries_add_up() check that, and
/// hold whenever no thread is inside a call that raises an edge on the vector.
struct VectorStats {
  /// @brief Edges signalled on the vector: Machine::pulse, a device's pulse or message, a
  /// rising edge on an edge-triggered line.
  std::uint64_t raised = 0;
  /// @brief Edges that arrived while an earlier edge was still pending and merged with it, as a
  /// local APIC's request register merges them.
  std::uint64_t coalesced = 0;
  /// @brief Edges that arrived while nothing was connected to the vector, or were still pending
  /// when its last interrupt object disconnected: an unprogrammed vector ignores edges.
  std::uint64_t dropped = 0;
  /// @brief 1 while an edge waits to be delivered (the vector is masked, or waits for a
  /// processor below its IRQL), else 0.
  std::uint64_t pending = 0;
  /// @brief Times a processor accepted the vector and walked its chain of ISRs.
  std::uint64_t deliveries = 0;
  /// @brief Deliveries that took a pending edge; the others delivered an asserted level line.
  std::uint64_t delivered_edges = 0;
  /// @brief Deliveries in which at least one ISR returned TRUE.
  std::uint64_t claimed = 0;
  /// @brief Deliveries in which ISRs ran and none returned TRUE (spurious interrupts).
  std::uint64_t unclaimed = 0;
  /// @brief Deliveries to a processor on which no ISR was connected for the vector.
  std::uint64_t unexpected = 0;
  /// @brief Deliveries whose ISRs never returned: the machine halted under them, or an
  /// exception escaped one.
  std::uint64_t abandoned = 0;
  /// @brief Deliveries whose ISRs are running now.
  std::uint64_t in_service = 0;
  /// @brief Interrupt latency of each delivery. A delivery's latency runs from the moment the
  /// vector became deliverable (its line asserted or an edge latched, while it is connected,
  /// unmasked and not in service) to the moment a processor accepted it; it includes waiting for
  /// a processor in its affinity to run below the vector's IRQL.
  DurationHistogram latency;
  /// @brief Time from each acceptance to its end of interrupt: the walk of the ISR chain with the
  /// interrupt locks, including interrupts of higher IRQLs nested in it. Deliveries still in
  /// service, abandoned or undone are not in it.
  DurationHistogram service_time;
  /// @brief raised == delivered_edges + coalesced + dropped + pending.
  [[nodiscard]] bool edges_add_up() const noexcept {
    return raised == delivered_edges + coalesced + dropped + pending;
  }
  /// @brief deliveries == claimed + unclaimed + unexpected + abandoned + in_service.
  [[nodiscard]] bool deliveries_add_up() const noexcept {
    return deliveries == claimed + unclaimed + unexpected + abandoned + in_service;
  }
  /// @brief Every counter, as the two sums edges_add_up() and deliveries_add_up() check, for
  /// a test's failure message.
  [[nodiscard]] std::string to_string() const;
};

}  // namespace irqsim
