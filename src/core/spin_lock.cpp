#include "core/spin_lock.hpp"

#include <atomic>

#include <fmt/format.h>

#include "core/execution_context.hpp"
#include "core/machine.hpp"
#include "core/spin_wait.hpp"
#include "core/trace_recorder.hpp"

namespace irqsim::core::spin_lock {

namespace {

std::uint64_t address_of(const std::uintptr_t& lock) { return reinterpret_cast<std::uintptr_t>(&lock); }

// Checks what a lock holds before waiting for it: our own token means waiting forever on
// ourselves, a value that is no owner's token means it was never initialised.
void check_owner(ExecutionContext& context, std::uintptr_t& lock, std::uintptr_t owner, std::string_view api) {
  if (owner == context.lock_token()) {
    context.machine().bug_check(
        context, bugcheck::kSpinLockAlreadyOwned, {address_of(lock), 0, 0, 0},
        fmt::format("{} tried to acquire spin lock {:#x}, which this processor already owns; "
                    "acquiring a spin lock recursively deadlocks.",
                    api, address_of(lock)));
  }
  if (owner != 0 && !context.machine().is_lock_token(owner)) {
    context.machine().bug_check(
        context, bugcheck::kSpinLockInitFailure, {address_of(lock), owner, 0, 0},
        fmt::format("{} found spin lock {:#x} holding {:#x}, which is no owner of this machine: "
                    "the lock was not initialized with KeInitializeSpinLock, was overwritten, or was "
                    "left held by an earlier machine.",
                    api, address_of(lock), owner));
  }
}

}  // namespace

void observe(ExecutionContext& context, TraceEventKind kind, const std::uintptr_t& lock, Irql required,
             bool waited) noexcept {
  if (TraceRecorder* tracer = context.tracer()) tracer->record(kind, 0, required, address_of(lock), waited ? 1 : 0);
  if (context.scheduled() && kind != TraceEventKind::LockContend) {
    context.note_lock_address(address_of(lock), kind == TraceEventKind::LockAcquire);
  }
}

void acquire_contended(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api) {
  std::atomic_ref<std::uintptr_t> cell(lock);
  std::uintptr_t owner = cell.load(std::memory_order_relaxed);
  const bool contended = owner != 0;
  if (contended && context.tracer() != nullptr) observe(context, TraceEventKind::LockContend, lock, required);
  SpinWait wait(context, "spin lock", address_of(lock));
  for (;;) {
    if (owner == 0 &&
        cell.compare_exchange_weak(owner, context.lock_token(), std::memory_order_acquire,
                                   std::memory_order_relaxed)) {
      break;
    }
    if (owner == 0) continue;  // spurious failure of the weak exchange
    check_owner(context, lock, owner, api);
    context.preemption_point();
    context.check_still_running();
    wait.pause([&cell] { return cell.load(std::memory_order_relaxed) == 0; });
    owner = cell.load(std::memory_order_relaxed);
  }
  context.note_lock_acquired(required);
  if (context.observes_locks()) observe(context, TraceEventKind::LockAcquire, lock, required, contended);
}

bool try_acquire(ExecutionContext& context, std::uintptr_t& lock, Irql required, std::string_view api) {
  std::atomic_ref<std::uintptr_t> cell(lock);
  std::uintptr_t owner = cell.load(std::memory_order_relaxed);
  if (owner != 0) {
    check_owner(context, lock, owner, api);
    return false;
  }
  if (!cell.compare_exchange_strong(owner, context.lock_token(), std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
    return false;
  }
  context.note_lock_acquired(required);
  if (context.observes_locks()) observe(context, TraceEventKind::LockAcquire, lock, required);
  return true;
}

void report_not_owned(ExecutionContext& context, std::uintptr_t& lock, std::uintptr_t owner, std::string_view api) {
  context.machine().bug_check(
      context, bugcheck::kSpinLockNotOwned, {address_of(lock), owner, 0, 0},
      fmt::format("{} released spin lock {:#x}, which this processor does not own ({}).", api, address_of(lock),
                  owner == 0 ? "it is not held" : "another owner holds it"));
}

}  // namespace irqsim::core::spin_lock
