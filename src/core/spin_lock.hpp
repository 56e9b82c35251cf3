#pragma once
// Spin locks on the caller's own storage (a KSPIN_LOCK is a ULONG_PTR): 0 when free, the
// owner's lock token while held. Acquiring spins with backoff and keeps taking interrupts
// above the current IRQL, as a real processor spinning at DISPATCH_LEVEL does. Ownership
// mistakes become bug checks naming `api`.

#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/execution_context.hpp"
#include "irqsim/irql.hpp"
#include "irqsim/trace.hpp"
#include "platform/compiler.hpp"

namespace irqsim::core::spin_lock {

// Records a lock event on a machine that records a trace, and keeps a deterministic machine's
// list of held locks; out of line, so that one test is all any other machine pays for.
IRQSIM_COLD void observe(ExecutionContext& context, TraceEventKind kind, const std::uintptr_t& lock, Irql required,
                         bool waited = false) noexcept;

// The waiting and the reports, out of line.
void acquire_contended(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api);
[[noreturn]] void report_not_owned(ExecutionContext& context, std::uintptr_t& lock, std::uintptr_t owner,
                                   std::string_view api);

// `required` is the IRQL the lock is used at: DISPATCH_LEVEL for executive spin locks, the
// SynchronizeIrql for interrupt locks. It is recorded so that lowering below it is caught.
// A free lock is taken at once; anything else goes to acquire_contended.
inline void acquire(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api) {
  std::uintptr_t free = 0;
  if (std::atomic_ref<std::uintptr_t>(lock).compare_exchange_strong(free, context.lock_token(),
                                                                    std::memory_order_acquire,
                                                                    std::memory_order_relaxed)) {
    context.note_lock_acquired(required);
    if (context.observes_locks()) [[unlikely]] observe(context, TraceEventKind::LockAcquire, lock, required);
    return;
  }
  acquire_contended(context, lock, required, api);
}

bool try_acquire(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api);

inline void release(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api) {
  std::atomic_ref<std::uintptr_t> cell(lock);
  const std::uintptr_t owner = cell.load(std::memory_order_relaxed);
  if (owner != context.lock_token()) report_not_owned(context, lock, owner, api);
  if (context.observes_locks()) [[unlikely]] observe(context, TraceEventKind::LockRelease, lock, required);
  cell.store(0, std::memory_order_release);
  context.note_lock_released(required);
}

}  // namespace irqsim::core::spin_lock
