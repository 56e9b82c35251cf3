/*
 * A small plain-C driver, compiled as C11 with the project's warnings, that uses the WDK types
 * for device resources and IoConnectInterruptEx the way a WDM driver's start-device code does:
 * it walks the translated CM_RESOURCE_LIST, remembers its register range, and fills an
 * IO_CONNECT_INTERRUPT_PARAMETERS block (fully specified for a line-based interrupt, message
 * based for MSI). wdk_types_test.cpp drives it.
 */
#include <wdm.h>
#include <ntddk.h>
#include <iointex.h>

#include <stddef.h>

#include "c_driver.h"

typedef struct _C_DRIVER_EXTENSION {
  PDEVICE_OBJECT PhysicalDeviceObject;
  /* Where IoConnectInterruptEx stores its connection context, whichever kind it is. */
  union {
    PVOID Generic;
    PKINTERRUPT InterruptObject;
    PIO_INTERRUPT_MESSAGE_INFO InterruptMessageTable;
  } Connection;
  PHYSICAL_ADDRESS RegistersStart;
  ULONG RegistersLength;
  ULONG RegistersProtect;
  ULONG InterruptCount;
  ULONG LastMessageId;
  ULONG DpcCount;
  PVOID LastDpcContext;
  KIRQL DpcIrql;
} C_DRIVER_EXTENSION, *PC_DRIVER_EXTENSION;

static KSERVICE_ROUTINE CDriverInterruptService;
static IO_DPC_ROUTINE CDriverDpcForIsr;
static KMESSAGE_SERVICE_ROUTINE CDriverMessageService;

_Use_decl_annotations_ static BOOLEAN CDriverInterruptService(PKINTERRUPT Interrupt, PVOID ServiceContext) {
  PDEVICE_OBJECT deviceObject = (PDEVICE_OBJECT)ServiceContext;
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)deviceObject->DeviceExtension;
  UNREFERENCED_PARAMETER(Interrupt);
  extension->InterruptCount += 1;
  return TRUE;
}

_Use_decl_annotations_ static BOOLEAN CDriverMessageService(PKINTERRUPT Interrupt, PVOID ServiceContext,
                                                            ULONG MessageID) {
  PDEVICE_OBJECT deviceObject = (PDEVICE_OBJECT)ServiceContext;
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)deviceObject->DeviceExtension;
  UNREFERENCED_PARAMETER(Interrupt);
  extension->InterruptCount += 1;
  extension->LastMessageId = MessageID;
  return TRUE;
}

/* Calls Visit on every partial descriptor of every full descriptor, in order, until it returns
 * FALSE; returns the index of that descriptor, or -1. Full descriptors follow one another: the
 * next one starts right after the last partial descriptor of the previous one. */
typedef BOOLEAN VISIT_DESCRIPTOR(const CM_PARTIAL_RESOURCE_DESCRIPTOR *Descriptor, PVOID Context);

static int CDriverWalkResources(const CM_RESOURCE_LIST *Resources, VISIT_DESCRIPTOR *Visit, PVOID Context) {
  const CM_FULL_RESOURCE_DESCRIPTOR *full = &Resources->List[0];
  int index = 0;
  ULONG f;
  for (f = 0; f < Resources->Count; ++f) {
    const CM_PARTIAL_RESOURCE_LIST *partial = &full->PartialResourceList;
    ULONG i;
    for (i = 0; i < partial->Count; ++i, ++index) {
      if (!Visit(&partial->PartialDescriptors[i], Context)) {
        return index;
      }
    }
    full = (const CM_FULL_RESOURCE_DESCRIPTOR *)(const void *)&partial->PartialDescriptors[partial->Count];
  }
  return -1;
}

static BOOLEAN CDriverIsNotInterrupt(const CM_PARTIAL_RESOURCE_DESCRIPTOR *Descriptor, PVOID Context) {
  UNREFERENCED_PARAMETER(Context);
  return Descriptor->Type != CmResourceTypeInterrupt;
}

int c_driver_find_interrupt(const CM_RESOURCE_LIST *Resources) {
  return CDriverWalkResources(Resources, CDriverIsNotInterrupt, NULL);
}

size_t c_driver_extension_size(void) { return sizeof(C_DRIVER_EXTENSION); }

typedef struct _START_CONTEXT {
  PC_DRIVER_EXTENSION Extension;
  const CM_PARTIAL_RESOURCE_DESCRIPTOR *Interrupt;
} START_CONTEXT;

static BOOLEAN CDriverTakeResource(const CM_PARTIAL_RESOURCE_DESCRIPTOR *Descriptor, PVOID Context) {
  START_CONTEXT *start = (START_CONTEXT *)Context;
  switch (Descriptor->Type) {
    case CmResourceTypeMemory:
      if (start->Extension->RegistersLength == 0) {
        start->Extension->RegistersStart = Descriptor->u.Memory.Start;
        start->Extension->RegistersLength = Descriptor->u.Memory.Length;
        /* What the driver would pass to MmMapIoSpaceEx: registers are never cached. */
        start->Extension->RegistersProtect =
            (Descriptor->Flags & CM_RESOURCE_MEMORY_READ_ONLY) ? PAGE_READONLY | PAGE_NOCACHE
                                                               : PAGE_READWRITE | PAGE_NOCACHE;
      }
      break;
    case CmResourceTypeInterrupt:
      if (start->Interrupt == NULL) {
        start->Interrupt = Descriptor;
      }
      break;
    case CmResourceTypePort:
    case CmResourceTypeDevicePrivate:
    default:
      break;
  }
  return TRUE;
}

_Use_decl_annotations_ NTSTATUS c_driver_prepare_connect(PDEVICE_OBJECT DeviceObject,
                                                         PDEVICE_OBJECT PhysicalDeviceObject,
                                                         const CM_RESOURCE_LIST *TranslatedResources,
                                                         PIO_CONNECT_INTERRUPT_PARAMETERS Parameters) {
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension;
  START_CONTEXT start;
  const CM_PARTIAL_RESOURCE_DESCRIPTOR *interrupt;

  extension->PhysicalDeviceObject = PhysicalDeviceObject;
  extension->Connection.Generic = NULL;
  extension->RegistersStart.QuadPart = 0;
  extension->RegistersLength = 0;
  extension->RegistersProtect = 0;
  extension->InterruptCount = 0;
  extension->LastMessageId = 0;

  start.Extension = extension;
  start.Interrupt = NULL;
  (void)CDriverWalkResources(TranslatedResources, CDriverTakeResource, &start);
  interrupt = start.Interrupt;
  if (interrupt == NULL) {
    return STATUS_NOT_FOUND;
  }

  if (interrupt->Flags & CM_RESOURCE_INTERRUPT_MESSAGE) {
    /* MSI: one message ISR for every message, one lock per message, a line ISR as fallback. */
    Parameters->Version = CONNECT_MESSAGE_BASED;
    Parameters->MessageBased.PhysicalDeviceObject = PhysicalDeviceObject;
    Parameters->MessageBased.ConnectionContext.InterruptMessageTable = &extension->Connection.InterruptMessageTable;
    Parameters->MessageBased.MessageServiceRoutine = CDriverMessageService;
    Parameters->MessageBased.ServiceContext = DeviceObject;
    Parameters->MessageBased.SpinLock = NULL;
    Parameters->MessageBased.SynchronizeIrql = PASSIVE_LEVEL;
    Parameters->MessageBased.FloatingSave = FALSE;
    Parameters->MessageBased.FallBackServiceRoutine = CDriverInterruptService;
  } else {
    /* A line-based interrupt, connected exactly as the translated resource describes it. */
    Parameters->Version = CONNECT_FULLY_SPECIFIED;
    Parameters->FullySpecified.PhysicalDeviceObject = PhysicalDeviceObject;
    Parameters->FullySpecified.InterruptObject = &extension->Connection.InterruptObject;
    Parameters->FullySpecified.ServiceRoutine = CDriverInterruptService;
    Parameters->FullySpecified.ServiceContext = DeviceObject;
    Parameters->FullySpecified.SpinLock = NULL;
    Parameters->FullySpecified.Irql = (KIRQL)interrupt->u.Interrupt.Level;
    Parameters->FullySpecified.SynchronizeIrql = Parameters->FullySpecified.Irql;
    Parameters->FullySpecified.FloatingSave = FALSE;
    Parameters->FullySpecified.ShareVector = (BOOLEAN)(interrupt->ShareDisposition == CmResourceShareShared);
    Parameters->FullySpecified.Vector = interrupt->u.Interrupt.Vector;
    Parameters->FullySpecified.InterruptMode =
        (interrupt->Flags & CM_RESOURCE_INTERRUPT_LATCHED) ? Latched : LevelSensitive;
    Parameters->FullySpecified.ProcessorEnableMask = interrupt->u.Interrupt.Affinity;
    Parameters->FullySpecified.Group = interrupt->u.Interrupt.Group;
    if (Parameters->FullySpecified.Group != 0) {
      Parameters->Version = CONNECT_FULLY_SPECIFIED_GROUP;
    }
  }
  return STATUS_SUCCESS;
}

_Use_decl_annotations_ void c_driver_prepare_disconnect(PDEVICE_OBJECT DeviceObject,
                                                        const IO_CONNECT_INTERRUPT_PARAMETERS *Connected,
                                                        PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters) {
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension;
  /* The Version the connection returned, and the context it stored. */
  Parameters->Version = Connected->Version;
  if (Connected->Version == CONNECT_MESSAGE_BASED) {
    Parameters->ConnectionContext.InterruptMessageTable = extension->Connection.InterruptMessageTable;
  } else {
    Parameters->ConnectionContext.InterruptObject = extension->Connection.InterruptObject;
  }
}

LONGLONG c_driver_registers(PDEVICE_OBJECT DeviceObject, PULONG Length, PULONG Protect) {
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension;
  *Length = extension->RegistersLength;
  *Protect = extension->RegistersProtect;
  return extension->RegistersStart.QuadPart;
}

ULONG c_driver_interrupt_count(PDEVICE_OBJECT DeviceObject) {
  return ((PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension)->InterruptCount;
}

ULONG c_driver_last_message(PDEVICE_OBJECT DeviceObject) {
  return ((PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension)->LastMessageId;
}

/* The DpcForIsr: what the ISR deferred, at DISPATCH_LEVEL. */
_Use_decl_annotations_ static VOID CDriverDpcForIsr(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, struct _IRP *Irp,
                                                    PVOID Context) {
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension;
  UNREFERENCED_PARAMETER(Dpc);
  UNREFERENCED_PARAMETER(Irp);
  extension->DpcCount += 1;
  extension->LastDpcContext = Context;
  extension->DpcIrql = KeGetCurrentIrql();
}

void c_driver_initialize_dpc(PDEVICE_OBJECT DeviceObject) {
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension;
  extension->DpcCount = 0;
  extension->LastDpcContext = NULL;
  IoInitializeDpcRequest(DeviceObject, CDriverDpcForIsr);
  KeSetImportanceDpc(&DeviceObject->Dpc, MediumHighImportance);
}

void c_driver_request_dpc(PDEVICE_OBJECT DeviceObject, PVOID Context) { IoRequestDpc(DeviceObject, NULL, Context); }

ULONG c_driver_dpc_count(PDEVICE_OBJECT DeviceObject, PVOID *LastContext, KIRQL *Irql) {
  PC_DRIVER_EXTENSION extension = (PC_DRIVER_EXTENSION)DeviceObject->DeviceExtension;
  *LastContext = extension->LastDpcContext;
  *Irql = extension->DpcIrql;
  return extension->DpcCount;
}

LONGLONG c_driver_physical_address(ULONG LowPart, LONG HighPart) {
  PHYSICAL_ADDRESS address;
  address.LowPart = LowPart;     /* the anonymous-struct form ... */
  address.u.HighPart = HighPart; /* ... and the named one alias the same bytes */
  return address.QuadPart;
}

ULONG c_driver_message_vector(const IO_INTERRUPT_MESSAGE_INFO *MessageTable, ULONG MessageId) {
  if (MessageId >= MessageTable->MessageCount) {
    return 0;
  }
  return MessageTable->MessageInfo[MessageId].Vector;
}
