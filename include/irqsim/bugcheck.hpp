#pragma once
/// @file
/// @brief Bug checks: what the simulated machine reports instead of crashing.
///
/// A bug check halts the simulated machine. The thread that caused it (or the
/// test thread, the next time it waits on the machine) receives a
/// BugCheckError carrying a BugCheckReport.

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "irqsim/irql.hpp"

namespace irqsim {

/// @brief Bug-check codes and Driver Verifier (0xC4) sub-codes the simulator raises.
namespace bugcheck {
/// @brief 0x9: an IRQL was raised to a level below the current one (KeSynchronizeExecution,
/// KeAcquireInterruptSpinLock called above the object's SynchronizeIrql).
inline constexpr std::uint32_t kIrqlNotGreaterOrEqual = 0x9;
/// @brief 0xA: kernel code touched an invalid address at DISPATCH_LEVEL or above (here: a NULL
/// pointer a driver passed to a kernel routine).
inline constexpr std::uint32_t kIrqlNotLessOrEqual = 0xA;
/// @brief 0xF: a spin lock was acquired by the processor that already owns it, or IRQL
/// was lowered below the level of a spin lock still held.
inline constexpr std::uint32_t kSpinLockAlreadyOwned = 0xF;
/// @brief 0x10: a spin lock was released by a processor that does not own it.
inline constexpr std::uint32_t kSpinLockNotOwned = 0x10;
/// @brief 0x50: a pointer that is not a live kernel object was dereferenced.
inline constexpr std::uint32_t kPageFaultInNonpagedArea = 0x50;
/// @brief 0x81: a spin lock was used without KeInitializeSpinLock (its value is garbage).
inline constexpr std::uint32_t kSpinLockInitFailure = 0x81;
/// @brief 0xB8: code running in a DPC routine tried to wait (here: KeFlushQueuedDpcs called
/// from a DPC routine).
inline constexpr std::uint32_t kAttemptedSwitchFromDpc = 0xB8;
/// @brief 0xC4: Driver Verifier detected a violation; parameter 1 is the sub-code.
inline constexpr std::uint32_t kDriverVerifierDetectedViolation = 0xC4;
/// @brief 0xC7: a DPC object that KeInitializeDpc never initialised was queued (P1 = 1, P2 =
/// the DPC object).
inline constexpr std::uint32_t kTimerOrDpcInvalid = 0xC7;
/// @brief 0xC8: a routine returned at a different IRQL than it was called at.
inline constexpr std::uint32_t kIrqlUnexpectedValue = 0xC8;
/// @brief 0xCC: an object was used after it was freed (here: a disconnected interrupt object).
inline constexpr std::uint32_t kPageFaultInFreedSpecialPool = 0xCC;
/// @brief 0xD1: a NULL or invalid routine address was called at raised IRQL.
inline constexpr std::uint32_t kDriverIrqlNotLessOrEqual = 0xD1;
/// @brief 0xE1: a routine run on a processor at PASSIVE_LEVEL returned at a raised IRQL.
inline constexpr std::uint32_t kWorkerThreadReturnedAtBadIrql = 0xE1;
/// @brief 0xF2: a level-triggered line stayed asserted through too many deliveries.
inline constexpr std::uint32_t kHardwareInterruptStorm = 0xF2;

/// @brief 0x133: an ISR or DPC routine ran longer than MachineConfig::watchdog_limit (P1 = 0,
/// P2 = microseconds it had run, P3 = the limit in microseconds, P4 = the routine's address).
inline constexpr std::uint32_t kDpcWatchdogViolation = 0x133;

/// @brief 0x13B: the interrupt spin lock of a passive-level interrupt was acquired (P1 = 1,
/// P2 = the interrupt object); such an interrupt has no spin lock.
inline constexpr std::uint32_t kPassiveInterruptError = 0x13B;

/// @brief 0xC4 / 0x30: KeRaiseIrql to a level below the current one (or above HIGH_LEVEL).
inline constexpr std::uint64_t kVerifierRaiseToLowerIrql = 0x30;
/// @brief 0xC4 / 0x31: KeLowerIrql to a level above the current one.
inline constexpr std::uint64_t kVerifierLowerToHigherIrql = 0x31;
/// @brief 0xC4 / 0x32: KeReleaseSpinLock called at an IRQL other than DISPATCH_LEVEL.
inline constexpr std::uint64_t kVerifierReleaseSpinLockNotAtDispatch = 0x32;
/// @brief 0xC4 / 0x40: KeAcquireSpinLockAtDpcLevel (or KeTryToAcquireSpinLockAtDpcLevel) below DISPATCH_LEVEL.
inline constexpr std::uint64_t kVerifierAcquireAtDpcBelowDispatch = 0x40;
/// @brief 0xC4 / 0x41: KeReleaseSpinLockFromDpcLevel below DISPATCH_LEVEL.
inline constexpr std::uint64_t kVerifierReleaseFromDpcBelowDispatch = 0x41;
/// @brief 0xC4 / 0x42: KeAcquireSpinLock (or KeAcquireSpinLockRaiseToDpc) above DISPATCH_LEVEL.
inline constexpr std::uint64_t kVerifierAcquireSpinLockAboveDispatch = 0x42;
/// @brief 0xC4 / 0x0002000B: DDI rule IrqlIoPassive2 (IoConnectInterrupt above PASSIVE_LEVEL).
inline constexpr std::uint64_t kRuleIrqlIoPassive2 = 0x0002000B;
/// @brief 0xC4 / 0x0002000D: DDI rule IrqlIoPassive4 (IoDisconnectInterrupt above PASSIVE_LEVEL).
inline constexpr std::uint64_t kRuleIrqlIoPassive4 = 0x0002000D;
/// @brief 0xC4 / 0x0002000F: DDI rule IrqlKeApcLte1 (KeQueryActiveProcessors above APC_LEVEL).
inline constexpr std::uint64_t kRuleIrqlKeApcLte1 = 0x0002000F;
/// @brief 0xC4 / 0x00020011: DDI rule IrqlKeDispatchLte (KeRaiseIrqlToDpcLevel above DISPATCH_LEVEL).
inline constexpr std::uint64_t kRuleIrqlKeDispatchLte = 0x00020011;
/// @brief 0xC4 / 0x00071001: DDI rule PcIrqlDDIs, a port-class DDI (PcNewInterruptSync,
/// IInterruptSync::Connect, ...) called above the IRQL it allows.
inline constexpr std::uint64_t kRulePcIrqlDdis = 0x00071001;

/// @brief The documented symbolic name of a bug-check code, or "UNKNOWN_BUG_CHECK_CODE".
std::string_view name(std::uint32_t code);
}  // namespace bugcheck

/// @brief Everything known about one bug check, as a kernel debugger would show it.
struct BugCheckReport {
  /// @brief The bug-check code (for example 0xC4).
  std::uint32_t code = 0;
  /// @brief The four bug-check parameters.
  std::array<std::uint64_t, 4> parameters{};
  /// @brief The simulated processor that bug-checked; empty for a thread that is not one.
  std::optional<unsigned> processor;
  /// @brief The IRQL of the thread at the moment of the bug check.
  Irql irql = 0;
  /// @brief One sentence naming the rule that was broken and the API that broke it.
  std::string rule;

  /// @brief The symbolic name of #code.
  [[nodiscard]] std::string_view name() const { return bugcheck::name(code); }
  /// @brief A multi-line, human-readable report (code, name, parameters, processor, IRQL, rule).
  [[nodiscard]] std::string to_string() const;
};

/// @brief Thrown to the test thread when the simulated machine has bug-checked.
///
/// `what()` returns the full report, so an unexpected bug check fails a test with it.
class BugCheckError : public std::runtime_error {
 public:
  /// @brief Wraps a report.
  explicit BugCheckError(BugCheckReport report);
  /// @brief The report of the bug check that halted the machine.
  [[nodiscard]] const BugCheckReport& report() const noexcept { return report_; }

 private:
  BugCheckReport report_;
};

}  // namespace irqsim
