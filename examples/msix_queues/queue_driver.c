#include "queue_driver.h"

static KMESSAGE_SERVICE_ROUTINE QueueMessageService;
static KSERVICE_ROUTINE QueueLineService;
static KDEFERRED_ROUTINE QueueDpcRoutine;
static KSYNCHRONIZE_ROUTINE QueueSetAccepting;
static KSYNCHRONIZE_ROUTINE QueueTakePending;

typedef struct _SET_ACCEPTING {
  PCOMPLETION_QUEUE Queue;
  BOOLEAN Accepting;
} SET_ACCEPTING;

typedef struct _TAKE_PENDING {
  PCOMPLETION_QUEUE Queue;
  ULONG Taken;
} TAKE_PENDING;

static ULONG QueueReadRegister(PQUEUE_EXTENSION Extension, ULONG Offset) {
  return READ_REGISTER_ULONG((volatile ULONG *)(Extension->Registers + Offset));
}

static VOID QueueWriteRegister(PQUEUE_EXTENSION Extension, ULONG Offset, ULONG Value) {
  WRITE_REGISTER_ULONG((volatile ULONG *)(Extension->Registers + Offset), Value);
}

static NTSTATUS QueueMapRegisters(PQUEUE_EXTENSION Extension, PCM_RESOURCE_LIST Translated) {
  PCM_PARTIAL_RESOURCE_LIST resources = &Translated->List[0].PartialResourceList;
  ULONG i;
  for (i = 0; i < resources->Count && Extension->Registers == NULL; ++i) {
    PCM_PARTIAL_RESOURCE_DESCRIPTOR resource = &resources->PartialDescriptors[i];
    if (resource->Type == CmResourceTypeMemory && resource->u.Memory.Length >= QUEUE_REGISTER_BYTES) {
      Extension->RegisterBytes = resource->u.Memory.Length;
      Extension->Registers =
          (PUCHAR)MmMapIoSpaceEx(resource->u.Memory.Start, resource->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    }
  }
  return Extension->Registers != NULL ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static VOID QueueUnmapRegisters(PQUEUE_EXTENSION Extension) {
  MmUnmapIoSpace(Extension->Registers, Extension->RegisterBytes);
  Extension->Registers = NULL;
}

static VOID QueueDisconnect(PQUEUE_EXTENSION Extension) {
  IO_DISCONNECT_INTERRUPT_PARAMETERS parameters;
  RtlZeroMemory(&parameters, sizeof(parameters));
  /* The Version connect returned selects what the context is: a message table, or after the
   * fallback the line's interrupt object. */
  parameters.Version = Extension->ConnectVersion;
  parameters.ConnectionContext.Generic = Extension->Connection.Generic;
  IoDisconnectInterruptEx(&parameters);
}

static NTSTATUS QueueConnect(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo) {
  IO_CONNECT_INTERRUPT_PARAMETERS parameters;
  PIO_INTERRUPT_MESSAGE_INFO messages;
  ULONG i;
  NTSTATUS status;

  /* The messages are found from the PDO; each one gets its own lock and runs at its own IRQL. */
  RtlZeroMemory(&parameters, sizeof(parameters));
  parameters.Version = CONNECT_MESSAGE_BASED;
  parameters.MessageBased.PhysicalDeviceObject = Pdo;
  parameters.MessageBased.ConnectionContext.Generic = &Extension->Connection.Generic;
  parameters.MessageBased.MessageServiceRoutine = QueueMessageService;
  parameters.MessageBased.ServiceContext = Extension;
  /* A card granted no messages (MSI-X disabled, or a system that has none left) is connected
   * line-based to this routine instead, and Version comes back as CONNECT_LINE_BASED. */
  parameters.MessageBased.FallBackServiceRoutine = QueueLineService;
  status = IoConnectInterruptEx(&parameters);
  if (!NT_SUCCESS(status)) {
    return status;
  }
  Extension->ConnectVersion = parameters.Version;

  if (parameters.Version == CONNECT_LINE_BASED) {
    for (i = 0; i < QUEUE_COUNT; ++i) {
      Extension->Queue[i].Interrupt = Extension->Connection.InterruptObject;
    }
    return STATUS_SUCCESS;
  }
  /* Queue q's completions are announced by message q. The system may grant fewer messages than
   * the card asks for, and this driver does not share a message between queues. (The card stays
   * silent until it is enabled, so no message ISR has run yet.) */
  messages = Extension->Connection.InterruptMessageTable;
  if (messages->MessageCount != QUEUE_COUNT) {
    QueueDisconnect(Extension);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  for (i = 0; i < QUEUE_COUNT; ++i) {
    Extension->Queue[i].Interrupt = messages->MessageInfo[i].InterruptObject;
  }
  return STATUS_SUCCESS;
}

/* Each queue's flag is changed inside its interrupt's critical section: an ISR running there
 * finishes first, and every later one sees the new value. */
static VOID QueueSetAcceptingAll(PQUEUE_EXTENSION Extension, BOOLEAN Accepting) {
  SET_ACCEPTING set;
  ULONG i;
  set.Accepting = Accepting;
  for (i = 0; i < QUEUE_COUNT; ++i) {
    set.Queue = &Extension->Queue[i];
    KeSynchronizeExecution(set.Queue->Interrupt, QueueSetAccepting, &set);
  }
}

NTSTATUS QueueStartDevice(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo, PCM_RESOURCE_LIST Translated) {
  ULONG i;
  NTSTATUS status;

  /* Everything an ISR touches is ready before connecting: with a shared line, the ISR can run
   * for another device's interrupt before IoConnectInterruptEx returns. */
  RtlZeroMemory(Extension, sizeof(*Extension));
  for (i = 0; i < QUEUE_COUNT; ++i) {
    /* No target processor: the DPC runs where the ISR that queued it ran, so with MSI-X a
     * queue's work stays on the processor its message is aimed at. */
    KeInitializeDpc(&Extension->Queue[i].Dpc, QueueDpcRoutine, Extension);
    KeInitializeSpinLock(&Extension->Queue[i].DpcLock);
  }
  status = QueueMapRegisters(Extension, Translated);
  if (!NT_SUCCESS(status)) {
    return status;
  }
  status = QueueConnect(Extension, Pdo);
  if (!NT_SUCCESS(status)) {
    QueueUnmapRegisters(Extension);
    return status;
  }
  QueueSetAcceptingAll(Extension, TRUE);
  QueueWriteRegister(Extension, QUEUE_INTERRUPT_ENABLE, 1);
  return STATUS_SUCCESS;
}

VOID QueueStopDevice(PQUEUE_EXTENSION Extension) {
  /* First the card stops sending messages and releases its line. */
  QueueWriteRegister(Extension, QUEUE_INTERRUPT_ENABLE, 0);
  /* An interrupt already on its way still runs its ISR; once the queues are closed, no ISR
   * queues a DPC any more. */
  QueueSetAcceptingAll(Extension, FALSE);
  /* The DPCs still queued synchronize with the interrupt objects and ring the doorbells: they
   * must finish before the disconnect frees the objects and the unmap removes the registers. */
  KeFlushQueuedDpcs();
  QueueDisconnect(Extension);
  QueueUnmapRegisters(Extension);
}

/* Runs in queue Index's interrupt critical section. TRUE if the queue had completions. */
static BOOLEAN QueueCollect(PQUEUE_EXTENSION Extension, ULONG Index) {
  PCOMPLETION_QUEUE queue = &Extension->Queue[Index];
  ULONG completed;

  if (!queue->Accepting) {
    return FALSE;
  }
  /* Read-to-clear: every completion since the last read, however many interrupts merged. */
  completed = QueueReadRegister(Extension, QUEUE_COMPLETIONS(Index));
  if (completed == 0) {
    return FALSE;
  }
  /* Save the work for the DPC, then queue it last: it may start at once. While it is still
   * queued, this insert merges with it and its run takes both counts. */
  queue->Pending += completed;
  KeInsertQueueDpc(&queue->Dpc, (PVOID)(ULONG_PTR)Index, NULL);
  return TRUE;
}

static BOOLEAN QueueMessageService(PKINTERRUPT Interrupt, PVOID ServiceContext, ULONG MessageID) {
  UNREFERENCED_PARAMETER(Interrupt);
  QueueCollect((PQUEUE_EXTENSION)ServiceContext, MessageID);
  /* A message is never shared: it is this card's even when an earlier run of the ISR already
   * took the completions it announced. */
  return TRUE;
}

/* The fallback: one level-triggered, possibly shared line for all queues. */
static BOOLEAN QueueLineService(PKINTERRUPT Interrupt, PVOID ServiceContext) {
  PQUEUE_EXTENSION extension = (PQUEUE_EXTENSION)ServiceContext;
  ULONG cause;
  ULONG i;
  BOOLEAN serviced = FALSE;
  UNREFERENCED_PARAMETER(Interrupt);

  /* No cause bit: another device on the line raised it, and its ISR must get the chance. */
  cause = QueueReadRegister(extension, QUEUE_INTERRUPT_CAUSE);
  for (i = 0; i < QUEUE_COUNT; ++i) {
    /* Reading a flagged queue's register clears its cause bit; the card releases the line once
     * no bit is left. */
    if ((cause & (1u << i)) != 0 && QueueCollect(extension, i)) {
      serviced = TRUE;
    }
  }
  return serviced;
}

static BOOLEAN QueueSetAccepting(PVOID SynchronizeContext) {
  SET_ACCEPTING *set = (SET_ACCEPTING *)SynchronizeContext;
  set->Queue->Accepting = set->Accepting;
  return TRUE;
}

/* Runs in the queue's interrupt critical section: no ISR can add to Pending meanwhile. */
static BOOLEAN QueueTakePending(PVOID SynchronizeContext) {
  TAKE_PENDING *take = (TAKE_PENDING *)SynchronizeContext;
  take->Taken = take->Queue->Pending;
  take->Queue->Pending = 0;
  return TRUE;
}

static VOID QueueDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2) {
  PQUEUE_EXTENSION extension = (PQUEUE_EXTENSION)DeferredContext;
  ULONG index = (ULONG)(ULONG_PTR)SystemArgument1;
  TAKE_PENDING take;
  UNREFERENCED_PARAMETER(Dpc);
  UNREFERENCED_PARAMETER(SystemArgument2);

  take.Queue = &extension->Queue[index];
  take.Taken = 0;
  KeAcquireSpinLockAtDpcLevel(&take.Queue->DpcLock);
  KeSynchronizeExecution(take.Queue->Interrupt, QueueTakePending, &take);
  if (take.Taken != 0) {
    /* Processing the completions is counting them here; then their ring slots go back. */
    take.Queue->Completed += take.Taken;
    QueueWriteRegister(extension, QUEUE_DOORBELL(index), take.Taken);
  }
  take.Queue->DpcProcessor = KeGetCurrentProcessorNumberEx(NULL);
  take.Queue->DpcRuns += 1;
  KeReleaseSpinLockFromDpcLevel(&take.Queue->DpcLock);
}

ULONG QueueCompleted(PQUEUE_EXTENSION Extension, ULONG Queue, PULONG DpcProcessor, PULONG DpcRuns) {
  *DpcProcessor = Extension->Queue[Queue].DpcProcessor;
  *DpcRuns = Extension->Queue[Queue].DpcRuns;
  return Extension->Queue[Queue].Completed;
}
