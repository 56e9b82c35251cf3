#pragma once
/// @file
/// @brief What a machine still held when it was torn down: LeakReport, the equivalent of
///        Driver Verifier's checks when a driver unloads.

#include <cstdint>
#include <string>
#include <vector>

#include "irqsim/irql.hpp"

namespace irqsim {

/// @brief Interrupts still connected, DPCs still queued and spin locks still held when a
/// Machine was destroyed (or Machine::check_leaks ran): what a driver's stop or unload path
/// forgot to undo.
struct LeakReport {
  /// @brief An interrupt object IoDisconnectInterrupt(Ex) was never called for.
  struct ConnectedInterrupt {
    /// @brief The PKINTERRUPT the connect returned.
    std::uint64_t interrupt_object = 0;
    /// @brief The vector it is connected to.
    std::uint32_t vector = 0;
    /// @brief The driver's service routine.
    std::uint64_t service_routine = 0;
    /// @brief The ServiceContext the driver passed.
    std::uint64_t service_context = 0;
  };
  /// @brief A DPC that was queued and never ran.
  struct QueuedDpc {
    /// @brief The processor whose queue holds it.
    unsigned processor = 0;
    /// @brief The KDPC.
    std::uint64_t dpc = 0;
    /// @brief Its DeferredRoutine.
    std::uint64_t deferred_routine = 0;
  };
  /// @brief Spin locks a processor still held, counted by the IRQL they were acquired at.
  struct HeldLocks {
    /// @brief The processor holding them.
    unsigned processor = 0;
    /// @brief The IRQL the locks belong to (DISPATCH_LEVEL for executive spin locks, the
    /// SynchronizeIrql for interrupt spin locks).
    Irql irql = 0;
    /// @brief How many.
    unsigned count = 0;
  };

  /// @brief Connected interrupt objects, in pool order.
  std::vector<ConnectedInterrupt> interrupts;
  /// @brief Queued DPCs, by processor.
  std::vector<QueuedDpc> dpcs;
  /// @brief Held spin locks, by processor and IRQL.
  std::vector<HeldLocks> locks;

  /// @brief True when nothing leaked.
  [[nodiscard]] bool empty() const noexcept { return interrupts.empty() && dpcs.empty() && locks.empty(); }
  /// @brief One line per leak, for a log or a test failure.
  [[nodiscard]] std::string to_string() const;
};

}  // namespace irqsim
