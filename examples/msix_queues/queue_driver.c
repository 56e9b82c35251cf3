#include "queue_driver.h"

static KMESSAGE_SERVICE_ROUTINE QueueMessageService;
static KDEFERRED_ROUTINE QueueDpcRoutine;
static KSYNCHRONIZE_ROUTINE QueueTakePending;

typedef struct _TAKE_PENDING {
  PQUEUE_EXTENSION Extension;
  ULONG Queue;
  ULONG Taken;
} TAKE_PENDING;

NTSTATUS QueueStartDevice(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo, PCM_RESOURCE_LIST Translated) {
  IO_CONNECT_INTERRUPT_PARAMETERS parameters;
  PCM_PARTIAL_RESOURCE_LIST resources = &Translated->List[0].PartialResourceList;
  ULONG i;
  NTSTATUS status;

  RtlZeroMemory(Extension, sizeof(*Extension));
  for (i = 0; i < QUEUE_COUNT; ++i) {
    /* No target processor: a DPC runs on the processor whose ISR queued it. */
    KeInitializeDpc(&Extension->QueueDpc[i], QueueDpcRoutine, Extension);
  }
  for (i = 0; i < resources->Count; ++i) {
    PCM_PARTIAL_RESOURCE_DESCRIPTOR resource = &resources->PartialDescriptors[i];
    if (resource->Type == CmResourceTypeMemory) {
      Extension->RegisterBytes = resource->u.Memory.Length;
      Extension->Registers = (volatile ULONG *)MmMapIoSpaceEx(resource->u.Memory.Start, resource->u.Memory.Length,
                                                              PAGE_READWRITE | PAGE_NOCACHE);
    }
  }
  if (Extension->Registers == NULL) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }

  /* The messages are found from the PDO; each one gets its own lock and runs at its own IRQL. */
  RtlZeroMemory(&parameters, sizeof(parameters));
  parameters.Version = CONNECT_MESSAGE_BASED;
  parameters.MessageBased.PhysicalDeviceObject = Pdo;
  parameters.MessageBased.ConnectionContext.InterruptMessageTable = &Extension->Messages;
  parameters.MessageBased.MessageServiceRoutine = QueueMessageService;
  parameters.MessageBased.ServiceContext = Extension;
  status = IoConnectInterruptEx(&parameters);
  Extension->ConnectVersion = parameters.Version;
  if (!NT_SUCCESS(status)) {
    MmUnmapIoSpace((PVOID)Extension->Registers, Extension->RegisterBytes);
    Extension->Registers = NULL;
  }
  return status;
}

VOID QueueStopDevice(PQUEUE_EXTENSION Extension) {
  IO_DISCONNECT_INTERRUPT_PARAMETERS parameters;
  RtlZeroMemory(&parameters, sizeof(parameters));
  parameters.Version = Extension->ConnectVersion;
  parameters.ConnectionContext.InterruptMessageTable = Extension->Messages;
  IoDisconnectInterruptEx(&parameters);
  /* No ISR can queue a DPC any more; let the ones already queued finish before unmapping. */
  KeFlushQueuedDpcs();
  MmUnmapIoSpace((PVOID)Extension->Registers, Extension->RegisterBytes);
}

static BOOLEAN QueueMessageService(PKINTERRUPT Interrupt, PVOID ServiceContext, ULONG MessageID) {
  PQUEUE_EXTENSION extension = (PQUEUE_EXTENSION)ServiceContext;
  ULONG completed;
  UNREFERENCED_PARAMETER(Interrupt);

  if (MessageID >= QUEUE_COUNT) {
    return FALSE;
  }
  /* Read-to-clear: the completions since the last message, however many messages merged. */
  completed = READ_REGISTER_ULONG(extension->Registers + MessageID * QUEUE_REGISTER_STRIDE / sizeof(ULONG));
  if (completed == 0) {
    return FALSE;
  }
  /* Save the work for the DPC, then queue it last: it may start at once. While it is still
   * queued, this insert merges with it and the DPC takes both counts. */
  extension->Pending[MessageID] += completed;
  KeInsertQueueDpc(&extension->QueueDpc[MessageID], (PVOID)(ULONG_PTR)MessageID, NULL);
  return TRUE;
}

/* Runs in the message's critical section: the ISR cannot add to Pending meanwhile. */
static BOOLEAN QueueTakePending(PVOID SynchronizeContext) {
  TAKE_PENDING *take = (TAKE_PENDING *)SynchronizeContext;
  take->Taken = take->Extension->Pending[take->Queue];
  take->Extension->Pending[take->Queue] = 0;
  return TRUE;
}

static VOID QueueDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2) {
  TAKE_PENDING take;
  UNREFERENCED_PARAMETER(Dpc);
  UNREFERENCED_PARAMETER(SystemArgument2);
  take.Extension = (PQUEUE_EXTENSION)DeferredContext;
  take.Queue = (ULONG)(ULONG_PTR)SystemArgument1;
  take.Taken = 0;
  KeSynchronizeExecution(take.Extension->Messages->MessageInfo[take.Queue].InterruptObject, QueueTakePending, &take);
  take.Extension->Completed[take.Queue] += take.Taken;
  take.Extension->DpcProcessor[take.Queue] = KeGetCurrentProcessorNumberEx(NULL);
  take.Extension->DpcRuns[take.Queue] += 1;
}

ULONG QueueCompleted(PQUEUE_EXTENSION Extension, ULONG Queue, PULONG DpcProcessor, PULONG DpcRuns) {
  *DpcProcessor = Extension->DpcProcessor[Queue];
  *DpcRuns = Extension->DpcRuns[Queue];
  return Extension->Completed[Queue];
}
