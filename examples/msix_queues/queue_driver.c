#include "queue_driver.h"

static KMESSAGE_SERVICE_ROUTINE QueueMessageService;
static KSYNCHRONIZE_ROUTINE QueueReadCompleted;

typedef struct _READ_COMPLETED {
  PQUEUE_EXTENSION Extension;
  ULONG Queue;
  ULONG Completed;
  ULONG LastProcessor;
} READ_COMPLETED;

NTSTATUS QueueStartDevice(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo, PCM_RESOURCE_LIST Translated) {
  IO_CONNECT_INTERRUPT_PARAMETERS parameters;
  PCM_PARTIAL_RESOURCE_LIST resources = &Translated->List[0].PartialResourceList;
  ULONG i;
  NTSTATUS status;

  RtlZeroMemory(Extension, sizeof(*Extension));
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
  extension->Completed[MessageID] += completed;
  extension->LastProcessor[MessageID] = KeGetCurrentProcessorNumberEx(NULL);
  return TRUE;
}

static BOOLEAN QueueReadCompleted(PVOID SynchronizeContext) {
  READ_COMPLETED *read = (READ_COMPLETED *)SynchronizeContext;
  read->Completed = read->Extension->Completed[read->Queue];
  read->LastProcessor = read->Extension->LastProcessor[read->Queue];
  return TRUE;
}

ULONG QueueCompleted(PQUEUE_EXTENSION Extension, ULONG Queue, PULONG LastProcessor) {
  READ_COMPLETED read;
  read.Extension = Extension;
  read.Queue = Queue;
  read.Completed = 0;
  read.LastProcessor = 0;
  KeSynchronizeExecution(Extension->Messages->MessageInfo[Queue].InterruptObject, QueueReadCompleted, &read);
  *LastProcessor = read.LastProcessor;
  return read.Completed;
}
