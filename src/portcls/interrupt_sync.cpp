// IInterruptSync and PcNewInterruptSync, built on IoConnectInterrupt and the interrupt's spin
// lock as port class is on Windows.

#include "portcls/interrupt_sync.hpp"

#include <new>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "portcls/ddi_irql.hpp"

namespace irqsim::portcls {

InterruptSync::InterruptSync(PRESOURCELIST resources, const CM_PARTIAL_RESOURCE_DESCRIPTOR& interrupt,
                             INTERRUPTSYNCMODE mode)
    : resources_(resources),
      descriptor_(interrupt),
      level_(static_cast<KIRQL>(interrupt.u.Interrupt.Level)),
      mode_(mode) {
  resources_->AddRef();
  KeInitializeSpinLock(&lock_);
}

void InterruptSync::destroy() {
  try {
    std::lock_guard lock(connection_mutex_);
    disconnect_locked();
  } catch (...) {
    // A bug check unwinds through here; the object goes all the same (its interrupt object
    // was taken out of interrupt_ first, so it is not disconnected twice).
    delete this;
    throw;
  }
  delete this;
}

InterruptSync::~InterruptSync() { resources_->Release(); }

KIRQL InterruptSync::enter_critical_section(std::string_view api) {
  auto& context = wdk::enter();
  wdk::require_irql_not_above(context, level_, "level", api);
  const KIRQL old_irql = KfRaiseIrql(level_);
  // As KeAcquireSpinLockAtDpcLevel, but a recursive acquire is reported under the method the
  // driver called, not a routine it never called.
  wdk::acquire_spin_lock(context, lock_, DISPATCH_LEVEL, api);
  return old_irql;
}

void InterruptSync::leave_critical_section(KIRQL old_irql) {
  KeReleaseSpinLockFromDpcLevel(&lock_);
  KeLowerIrql(old_irql);
}

NTSTATUS InterruptSync::CallSynchronizedRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext) {
  if (Routine == nullptr) return STATUS_INVALID_PARAMETER;
  // The routine's context lives on this caller's stack frame, so concurrent callers never share
  // state (ReactOS keeps it in the object, a race).
  const KIRQL old_irql = enter_critical_section("IInterruptSync::CallSynchronizedRoutine");
  const NTSTATUS status = Routine(this, DynamicContext);
  leave_critical_section(old_irql);
  return status;
}

PKINTERRUPT InterruptSync::GetKInterrupt() { return interrupt_.load(std::memory_order_acquire); }

NTSTATUS InterruptSync::Connect() {
  require_passive("IInterruptSync::Connect");
  std::lock_guard lock(connection_mutex_);
  if (interrupt_.load(std::memory_order_relaxed) != nullptr) return STATUS_INVALID_DEVICE_STATE;
  if (routines_.empty()) return STATUS_UNSUCCESSFUL;
  const auto& line = descriptor_.u.Interrupt;
  const KINTERRUPT_MODE mode = (descriptor_.Flags & CM_RESOURCE_INTERRUPT_LATCHED) != 0 ? Latched : LevelSensitive;
  const BOOLEAN shared = descriptor_.ShareDisposition == CmResourceShareShared ? TRUE : FALSE;
  PKINTERRUPT object = nullptr;
  // The object's own lock as the interrupt spin lock: the ISR and CallSynchronizedRoutine
  // exclude each other through it.
  const NTSTATUS status =
      IoConnectInterrupt(&object, &InterruptSync::service, this, &lock_, line.Vector, level_, level_, mode, shared,
                         line.Affinity, FALSE);
  if (NT_SUCCESS(status)) interrupt_.store(object, std::memory_order_release);
  return status;
}

void InterruptSync::Disconnect() {
  require_passive("IInterruptSync::Disconnect");
  std::lock_guard lock(connection_mutex_);
  disconnect_locked();
}

void InterruptSync::disconnect_locked() {
  if (PKINTERRUPT object = interrupt_.exchange(nullptr, std::memory_order_acq_rel)) IoDisconnectInterrupt(object);
}

NTSTATUS InterruptSync::RegisterServiceRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext, BOOLEAN First) {
  require_passive("IInterruptSync::RegisterServiceRoutine");
  if (Routine == nullptr) return STATUS_INVALID_PARAMETER;
  std::lock_guard lock(connection_mutex_);
  // Built outside the critical section (allocation), swapped in inside it: a running ISR sees
  // the old list or the new one, never one being changed.
  std::vector<ServiceRoutine> routines = routines_;
  const ServiceRoutine added{Routine, DynamicContext};
  routines.insert(First ? routines.begin() : routines.end(), added);
  const KIRQL old_irql = enter_critical_section("IInterruptSync::RegisterServiceRoutine");
  routines_.swap(routines);
  leave_critical_section(old_irql);
  return STATUS_SUCCESS;
}

BOOLEAN InterruptSync::service(PKINTERRUPT interrupt, PVOID context) {
  return static_cast<InterruptSync*>(context)->call_service_routines(interrupt) ? TRUE : FALSE;
}

bool InterruptSync::call_service_routines(PKINTERRUPT interrupt) {
  // Only exactly STATUS_SUCCESS counts as "serviced", as documented.
  const auto serviced = [this](const ServiceRoutine& entry) { return entry.routine(this, entry.context) == STATUS_SUCCESS; };
  bool any = false;
  switch (mode_) {
    case InterruptSyncModeNormal:
      for (const ServiceRoutine& entry : routines_) {
        if (serviced(entry)) return true;
      }
      return false;
    case InterruptSyncModeAll:
      for (const ServiceRoutine& entry : routines_) any |= serviced(entry);
      return any;
    case InterruptSyncModeRepeat:
    {
      // Documented to hang Windows when a routine always succeeds; here that is a storm, after
      // as many passes as the machine's storm threshold.
      const unsigned limit = wdk::storm_threshold(wdk::enter());
      for (unsigned passes = 1;; ++passes) {
        bool this_pass = false;
        for (const ServiceRoutine& entry : routines_) this_pass |= serviced(entry);
        if (!this_pass) return any;
        any = true;
        if (passes >= limit) report_repeat_storm(interrupt, passes);
      }
    }
  }
  return false;
}

void InterruptSync::report_repeat_storm(PKINTERRUPT interrupt, unsigned passes) {
  std::string names;
  for (const ServiceRoutine& entry : routines_) {
    if (!names.empty()) names += ", ";
    names += fmt::format("{:#x} (context {:#x})", wdk::address(reinterpret_cast<const void*>(entry.routine)),
                         wdk::address(entry.context));
  }
  const ServiceRoutine& first = routines_.front();
  constexpr std::uint64_t kChained = 2;
  wdk::bug_check(wdk::enter(), bugcheck::kHardwareInterruptStorm,
                 {wdk::address(reinterpret_cast<const void*>(first.routine)), wdk::address(first.context),
                  wdk::address(interrupt), kChained},
                 fmt::format("An InterruptSyncModeRepeat interrupt sync object (vector {:#x}) made {} passes in which "
                             "a service routine returned STATUS_SUCCESS; each routine must return another status once "
                             "its device needs no service. Service routines: {}.",
                             descriptor_.u.Interrupt.Vector, passes, names));
}

}  // namespace irqsim::portcls

extern "C" NTSTATUS PcNewInterruptSync(PINTERRUPTSYNC* OutInterruptSync, PUNKNOWN OuterUnknown,
                                       PRESOURCELIST ResourceList, ULONG ResourceIndex, INTERRUPTSYNCMODE Mode) {
  irqsim::portcls::require_passive("PcNewInterruptSync");
  if (OutInterruptSync == nullptr) return STATUS_INVALID_PARAMETER;
  *OutInterruptSync = nullptr;
  if (OuterUnknown != nullptr || ResourceList == nullptr) return STATUS_INVALID_PARAMETER;
  if (Mode != InterruptSyncModeNormal && Mode != InterruptSyncModeAll && Mode != InterruptSyncModeRepeat) {
    return STATUS_INVALID_PARAMETER;
  }
  // ResourceIndex counts interrupt entries only; an index equal to the count is out of range
  // (ReactOS accepts it and fails later, in Connect).
  if (ResourceIndex >= ResourceList->NumberOfInterrupts()) return STATUS_INVALID_PARAMETER;
  const PCM_PARTIAL_RESOURCE_DESCRIPTOR interrupt = ResourceList->FindTranslatedInterrupt(ResourceIndex);
  // A translated interrupt's level is a device IRQL; anything else cannot be an ISR's IRQL.
  if (interrupt == nullptr || interrupt->u.Interrupt.Level <= DISPATCH_LEVEL || interrupt->u.Interrupt.Level > HIGH_LEVEL) {
    return STATUS_INVALID_PARAMETER;
  }
  auto* sync = new (std::nothrow) irqsim::portcls::InterruptSync(ResourceList, *interrupt, Mode);
  if (sync == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  *OutInterruptSync = sync;
  return STATUS_SUCCESS;
}
