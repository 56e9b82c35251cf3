// Executive spin locks: KeInitializeSpinLock and KeTryToAcquireSpinLockAtDpcLevel, and the
// library paths of wdm.h's inline KeAcquireSpinLock(RaiseToDpc), KeReleaseSpinLock and the
// At/FromDpcLevel pair.

#include <atomic>

#include <fmt/format.h>

#include "core/spin_lock.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

extern "C" {

VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, SpinLock, "KeInitializeSpinLock", "SpinLock");
  std::atomic_ref<KSPIN_LOCK>(*SpinLock).store(0, std::memory_order_release);
}

uint8_t irqsim_acquire_spin_lock_raise_to_dpc(uintptr_t* SpinLock) {
  constexpr std::string_view api = "KeAcquireSpinLock";
  auto& context = wdk::enter();
  wdk::require_irql_at_most(context, DISPATCH_LEVEL, bugcheck::kVerifierAcquireSpinLockAboveDispatch, api,
                            wdk::address(SpinLock));
  const Irql previous = context.irql();
  context.raise_to(DISPATCH_LEVEL);
  wdk::require_pointer(context, SpinLock, api, "SpinLock");
  core::spin_lock::acquire(context, *SpinLock, DISPATCH_LEVEL, api);
  return previous;
}

void irqsim_release_spin_lock(uintptr_t* SpinLock, uint8_t NewIrql) {
  constexpr std::string_view api = "KeReleaseSpinLock";
  auto& context = wdk::enter();
  if (context.irql() != DISPATCH_LEVEL) {
    wdk::bug_check(context, bugcheck::kDriverVerifierDetectedViolation,
                   {bugcheck::kVerifierReleaseSpinLockNotAtDispatch, context.irql(), wdk::address(SpinLock), 0},
                   fmt::format("KeReleaseSpinLock was called at IRQL {}, but it must be called at DISPATCH_LEVEL "
                               "(2), with the lock acquired by KeAcquireSpinLock.",
                               wdk::irql_name(context.irql())));
  }
  wdk::require_pointer(context, SpinLock, api, "SpinLock");
  core::spin_lock::release(context, *SpinLock, DISPATCH_LEVEL, api);
  wdk::lower_irql(context, NewIrql, api);
}

void irqsim_acquire_spin_lock_at_dpc_level(uintptr_t* SpinLock) {
  constexpr std::string_view api = "KeAcquireSpinLockAtDpcLevel";
  auto& context = wdk::enter();
  wdk::require_irql_at_least(context, DISPATCH_LEVEL, bugcheck::kVerifierAcquireAtDpcBelowDispatch, api,
                             wdk::address(SpinLock));
  wdk::require_pointer(context, SpinLock, api, "SpinLock");
  core::spin_lock::acquire(context, *SpinLock, DISPATCH_LEVEL, api);
}

void irqsim_release_spin_lock_from_dpc_level(uintptr_t* SpinLock) {
  constexpr std::string_view api = "KeReleaseSpinLockFromDpcLevel";
  auto& context = wdk::enter();
  wdk::require_irql_at_least(context, DISPATCH_LEVEL, bugcheck::kVerifierReleaseFromDpcBelowDispatch, api,
                             wdk::address(SpinLock));
  wdk::require_pointer(context, SpinLock, api, "SpinLock");
  core::spin_lock::release(context, *SpinLock, DISPATCH_LEVEL, api);
  context.preemption_point();
}

BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock) {
  constexpr std::string_view api = "KeTryToAcquireSpinLockAtDpcLevel";
  auto& context = wdk::enter();
  wdk::require_irql_at_least(context, DISPATCH_LEVEL, bugcheck::kVerifierAcquireAtDpcBelowDispatch, api,
                             wdk::address(SpinLock));
  wdk::require_pointer(context, SpinLock, api, "SpinLock");
  return core::spin_lock::try_acquire(context, *SpinLock, DISPATCH_LEVEL, api) ? TRUE : FALSE;
}

}  // extern "C"
