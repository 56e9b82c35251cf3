// KDPC routines: KeInitializeDpc, KeInsertQueueDpc, KeRemoveQueueDpc, KeSetImportanceDpc,
// KeSetTargetProcessorDpc(Ex), KeFlushQueuedDpcs, IoInitializeDpcRequest and IoRequestDpc. They
// translate a KDPC into the core's per-processor DPC queues.

#include <fmt/format.h>

#include "core/machine.hpp"
#include "core/running_routine.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

// The value of KDPC::Type once KeInitializeDpc has run (the kernel's type number for a DPC
// object); a zeroed or garbage KDPC does not have it.
constexpr UCHAR kInitializedDpc = 0x13;
// KDPC::Number 0 means "the processor that queues it"; otherwise 1 + the system-wide index.
constexpr USHORT kCurrentProcessor = 0;

// The DpcForIsr trampoline: IoInitializeDpcRequest binds this as the KDEFERRED_ROUTINE and
// calls the driver's IO_DPC_ROUTINE with its own signature, instead of calling it through a
// function pointer of another type as the WDK's inline version does.
VOID call_dpc_for_isr(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2) {
  auto* device = static_cast<PDEVICE_OBJECT>(DeferredContext);
  device->DpcForIsrRoutine(Dpc, device, static_cast<struct _IRP*>(SystemArgument1), SystemArgument2);
}

// The routine a report should name: the driver's, not the trampoline.
const void* driver_routine(const KDPC& dpc) {
  if (dpc.DeferredRoutine == &call_dpc_for_isr && dpc.DeferredContext != nullptr) {
    return reinterpret_cast<const void*>(static_cast<PDEVICE_OBJECT>(dpc.DeferredContext)->DpcForIsrRoutine);
  }
  return reinterpret_cast<const void*>(dpc.DeferredRoutine);
}

// Called by the core on the target processor at DISPATCH_LEVEL.
void run_dpc(void* object, void* argument1, void* argument2) {
  auto* dpc = static_cast<PKDPC>(object);
  if (dpc->DeferredRoutine == nullptr) {
    auto& context = irqsim::core::current_context();
    constexpr std::uint64_t kExecute = 8;
    wdk::bug_check(context, bugcheck::kDriverIrqlNotLessOrEqual, {0, context.irql(), kExecute, wdk::address(dpc)},
                   fmt::format("The DPC object at {:#x} was queued with a NULL DeferredRoutine, which the processor "
                               "then called at DISPATCH_LEVEL (2).",
                               wdk::address(dpc)));
  }
  // The arguments are not written back into the KDPC: the same DPC object may already be
  // running again on another processor, and the routine receives them anyway.
  dpc->DeferredRoutine(dpc, dpc->DeferredContext, argument1, argument2);
}

// Bug check 0xC7 TIMER_OR_DPC_INVALID for a DPC object (P1 = 1) no queue can take.
[[noreturn]] void invalid_dpc(core::ExecutionContext& context, std::string_view api, const KDPC* dpc,
                              std::string_view why) {
  constexpr std::uint64_t kDpcObject = 1;
  wdk::bug_check(context, bugcheck::kTimerOrDpcInvalid, {kDpcObject, wdk::address(dpc), 0, 0},
                 fmt::format("{} was given the DPC object at {:#x}, {}.", api, wdk::address(dpc), why));
}

bool inside_dpc_routine(const core::ExecutionContext& context) {
  const core::RunningRoutine* routine = context.running_routine();
  return routine != nullptr && routine->kind() == core::RoutineKind::DeferredProcedure;
}

// KeInsertQueueDpc's work. Reports name `api`, the routine the driver called.
BOOLEAN insert_queue_dpc(core::ExecutionContext& context, PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2,
                         std::string_view api) {
  if (Dpc->Type != kInitializedDpc) {
    invalid_dpc(context, api, Dpc, "which KeInitializeDpc (or IoInitializeDpcRequest) never initialised");
  }
  const std::optional<unsigned> current = context.processor_number();
  // A thread that is not a simulated processor counts as processor 0 (as for
  // KeGetCurrentProcessorNumber) but is never "the current processor" of the queue.
  const unsigned target = Dpc->Number == kCurrentProcessor ? current.value_or(0) : Dpc->Number - 1u;
  if (target >= context.machine().processor_count()) {
    // Only a KDPC targeted on another machine (an earlier test's, with more processors) gets here.
    invalid_dpc(context, api, Dpc,
                fmt::format("targeted at processor {}, which this machine does not have (it was targeted on another "
                            "machine)",
                            target));
  }
  const bool for_this_processor = current == target;
  bool request_processing = false;
  switch (Dpc->Importance) {
    case LowImportance: break;
    case MediumImportance: request_processing = for_this_processor; break;
    default: request_processing = true; break;  // MediumHigh and High
  }
  const core::Dpc queued{Dpc, &run_dpc, driver_routine(*Dpc), SystemArgument1, SystemArgument2};
  const auto placement = Dpc->Importance == HighImportance ? core::DpcPlacement::Head : core::DpcPlacement::Tail;
  if (!context.machine().dpcs().insert(target, queued, placement, request_processing)) return FALSE;
  // Below DISPATCH_LEVEL the software interrupt a request raises is taken at once: the DPC has
  // run when the insert returns, as on Windows.
  context.preemption_point();
  return TRUE;
}

}  // namespace

extern "C" {

VOID KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, Dpc, "KeInitializeDpc", "DPC object");
  *Dpc = KDPC{};
  Dpc->Type = kInitializedDpc;
  Dpc->Importance = MediumImportance;
  Dpc->Number = kCurrentProcessor;
  Dpc->DeferredRoutine = DeferredRoutine;
  Dpc->DeferredContext = DeferredContext;
}

BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2) {
  constexpr std::string_view api = "KeInsertQueueDpc";
  auto& context = wdk::enter();
  wdk::require_pointer(context, Dpc, api, "DPC object");
  return insert_queue_dpc(context, Dpc, SystemArgument1, SystemArgument2, api);
}

BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, Dpc, "KeRemoveQueueDpc", "DPC object");
  return context.machine().dpcs().remove(Dpc) ? TRUE : FALSE;
}

VOID KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, Dpc, "KeSetImportanceDpc", "DPC object");
  Dpc->Importance = static_cast<UCHAR>(Importance);
}

VOID KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, Dpc, "KeSetTargetProcessorDpc", "DPC object");
  const int number = Number;
  if (number < 0) return;
  if (auto index = context.machine().topology().index_of(0, static_cast<unsigned>(number))) {
    Dpc->Number = static_cast<USHORT>(*index + 1);
  }
}

NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, Dpc, "KeSetTargetProcessorDpcEx", "DPC object");
  wdk::require_pointer(context, ProcNumber, "KeSetTargetProcessorDpcEx", "processor number");
  const auto index = context.machine().topology().index_of(ProcNumber->Group, ProcNumber->Number);
  if (!index || ProcNumber->Reserved != 0) return STATUS_INVALID_PARAMETER;
  Dpc->Number = static_cast<USHORT>(*index + 1);
  return STATUS_SUCCESS;
}

VOID KeFlushQueuedDpcs(void) {
  auto& context = wdk::enter();
  if (inside_dpc_routine(context)) {
    wdk::bug_check(context, bugcheck::kAttemptedSwitchFromDpc, {0, 0, 0, 0},
                   "KeFlushQueuedDpcs was called from a DPC routine; it waits for DPCs to finish, and a DPC routine "
                   "must never wait.");
  }
  if (const Irql current = context.irql(); current > PASSIVE_LEVEL) {
    wdk::bug_check(context, bugcheck::kIrqlNotLessOrEqual,
                   {wdk::address(reinterpret_cast<const void*>(&KeFlushQueuedDpcs)), current, 0, 0},
                   fmt::format("KeFlushQueuedDpcs was called at IRQL {}, but it waits and may be called only at "
                               "PASSIVE_LEVEL (0).",
                               wdk::irql_name(current)));
  }
  context.machine().dpcs().flush(context);
}

VOID IoInitializeDpcRequest(PDEVICE_OBJECT DeviceObject, PIO_DPC_ROUTINE DpcRoutine) {
  auto& context = wdk::enter();
  wdk::require_pointer(context, DeviceObject, "IoInitializeDpcRequest", "device object");
  DeviceObject->DpcForIsrRoutine = DpcRoutine;
  // A NULL routine stays NULL, so running the DPC is the same 0xD1 as for KeInitializeDpc.
  KeInitializeDpc(&DeviceObject->Dpc, DpcRoutine != nullptr ? &call_dpc_for_isr : nullptr, DeviceObject);
}

VOID IoRequestDpc(PDEVICE_OBJECT DeviceObject, struct _IRP* Irp, PVOID Context) {
  constexpr std::string_view api = "IoRequestDpc";
  auto& context = wdk::enter();
  wdk::require_pointer(context, DeviceObject, api, "device object");
  insert_queue_dpc(context, &DeviceObject->Dpc, Irp, Context, api);
}

}  // extern "C"
