#pragma once
// What every WDK entry point does first: find the caller's execution context, give pending
// interrupts their preemption point, and check the caller's IRQL and pointers the way Driver
// Verifier would. Checks that fail become bug checks naming the API and the rule.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/address.hpp"
#include "core/execution_context.hpp"
#include "core/spin_lock.hpp"
#include "irqsim/bugcheck.hpp"
#include "wdm.h"

namespace irqsim::wdk {

// The caller's context, after a preemption point (every library call is one).
core::ExecutionContext& enter();

[[noreturn]] void bug_check(core::ExecutionContext& context, std::uint32_t code,
                            std::array<std::uint64_t, 4> parameters, std::string rule);

// "DISPATCH_LEVEL (2)" for named levels, "12" otherwise.
std::string irql_name(Irql level);

// Bug check 0xC4 with `verifier_code` when the caller is above `highest`. For a DDI-rule code
// parameter 2 points to a text naming the rule; for the classic codes it is the current IRQL.
void require_irql_at_most(core::ExecutionContext& context, Irql highest, std::uint64_t verifier_code,
                          std::string_view api, std::uint64_t parameter3 = 0);
void require_irql_at_least(core::ExecutionContext& context, Irql lowest, std::uint64_t verifier_code,
                           std::string_view api, std::uint64_t parameter3 = 0);

// Bug check 0x9 when the caller is above `level`, the IRQL of an interrupt's critical section
// it is about to enter: entering would lower the IRQL. P1 = current IRQL, P2 = `level`,
// P3 = `parameter3`. `level_name` says which IRQL `level` is ("SynchronizeIrql", ...).
void require_irql_not_above(core::ExecutionContext& context, Irql level, std::string_view level_name,
                            std::string_view api, std::uint64_t parameter3 = 0);

// A NULL pointer the routine would write through. The fault would be in kernel code: 0xA at
// DISPATCH_LEVEL or above, 0x50 below (P1 = the address, 0; the access is a write).
void require_pointer(core::ExecutionContext& context, const void* pointer, std::string_view api,
                     std::string_view parameter);

// Acquires `lock`, used at IRQL `level`, on behalf of `api`: the routine the driver called, which
// a bug check names (0xF if the caller already owns the lock, 0x81 if it holds no owner's value).
// Inline, as KeAcquireSpinLockAtDpcLevel is: a free lock costs one compare-exchange.
inline void acquire_spin_lock(core::ExecutionContext& context, KSPIN_LOCK& lock, Irql level, std::string_view api) {
  core::spin_lock::acquire(context, lock, level, api);
}

// Lowers to `level` with the checks every lowering path shares (0xC4/0x31 for a "lowering"
// to a higher level or, with P4 = 1, below DISPATCH_LEVEL inside a DPC routine; 0xF for
// lowering below a spin lock still held), then takes interrupts and runs due DPCs.
void lower_irql(core::ExecutionContext& context, Irql level, std::string_view api);

// The machine's interrupt-storm limit (MachineConfig::storm_threshold), for port class's
// InterruptSyncModeRepeat loop.
unsigned storm_threshold(const core::ExecutionContext& context);

using core::address;

}  // namespace irqsim::wdk
