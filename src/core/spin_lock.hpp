#pragma once
// Spin locks on the caller's own storage (a KSPIN_LOCK is a ULONG_PTR): 0 when free, the
// owner's lock token while held. Acquiring spins with backoff and keeps taking interrupts
// above the current IRQL, as a real processor spinning at DISPATCH_LEVEL does. Ownership
// mistakes become bug checks naming `api`.

#include <cstdint>
#include <string_view>

#include "irqsim/irql.hpp"

namespace irqsim::core {

class ExecutionContext;

namespace spin_lock {

// `required` is the IRQL the lock is used at: DISPATCH_LEVEL for executive spin locks, the
// SynchronizeIrql for interrupt locks. It is recorded so that lowering below it is caught.
void acquire(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api);
bool try_acquire(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api);
void release(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api);

}  // namespace spin_lock
}  // namespace irqsim::core
