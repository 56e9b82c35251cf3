#include "line_device.h"

NTSTATUS LineDeviceStart(PLINE_DEVICE Device, PCM_RESOURCE_LIST TranslatedResources,
                         PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext) {
  PCM_PARTIAL_RESOURCE_LIST resources = &TranslatedResources->List[0].PartialResourceList;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR memory = NULL;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR line = NULL;
  KINTERRUPT_MODE mode;
  BOOLEAN shared;
  KIRQL dirql;
  ULONG i;
  NTSTATUS status;

  RtlZeroMemory(Device, sizeof(*Device));
  for (i = 0; i < resources->Count; ++i) {
    PCM_PARTIAL_RESOURCE_DESCRIPTOR resource = &resources->PartialDescriptors[i];
    if (resource->Type == CmResourceTypeMemory && memory == NULL) {
      memory = resource;
    } else if (resource->Type == CmResourceTypeInterrupt && (resource->Flags & CM_RESOURCE_INTERRUPT_MESSAGE) == 0 &&
               line == NULL) {
      line = resource;
    }
  }
  /* A device whose interrupt pin was left unrouted, or whose register window was not assigned,
   * cannot be driven: fail the start rather than poll or guess. */
  if (memory == NULL || line == NULL) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }

  Device->RegisterBytes = memory->u.Memory.Length;
  Device->Registers = (volatile UCHAR *)MmMapIoSpaceEx(memory->u.Memory.Start, Device->RegisterBytes,
                                                       PAGE_READWRITE | PAGE_NOCACHE);
  if (Device->Registers == NULL) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }

  /* The translated descriptor says how the line is wired. A PCI INTx line is level-sensitive
   * and shared; connecting it as latched or exclusive would fail, or lose interrupts of the
   * other devices on it. The ISR runs at the line's own DIRQL. */
  mode = (line->Flags & CM_RESOURCE_INTERRUPT_LATCHED) != 0 ? Latched : LevelSensitive;
  shared = line->ShareDisposition == CmResourceShareShared ? TRUE : FALSE;
  dirql = (KIRQL)line->u.Interrupt.Level;
  status = IoConnectInterrupt(&Device->Interrupt, ServiceRoutine, ServiceContext, NULL, line->u.Interrupt.Vector,
                              dirql, dirql, mode, shared, line->u.Interrupt.Affinity, FALSE);
  if (!NT_SUCCESS(status)) {
    MmUnmapIoSpace((PVOID)Device->Registers, Device->RegisterBytes);
    Device->Registers = NULL;
  }
  return status;
}

VOID LineDeviceStop(PLINE_DEVICE Device) {
  if (Device->Interrupt != NULL) {
    IoDisconnectInterrupt(Device->Interrupt);
    Device->Interrupt = NULL;
  }
  /* Only now: until the disconnect returned, an ISR on another processor could still be
   * reading the registers. */
  if (Device->Registers != NULL) {
    MmUnmapIoSpace((PVOID)Device->Registers, Device->RegisterBytes);
    Device->Registers = NULL;
  }
}

ULONG LineDeviceReadRegister(PLINE_DEVICE Device, ULONG Offset) {
  return READ_REGISTER_ULONG((volatile ULONG *)(Device->Registers + Offset));
}

VOID LineDeviceWriteRegister(PLINE_DEVICE Device, ULONG Offset, ULONG Value) {
  WRITE_REGISTER_ULONG((volatile ULONG *)(Device->Registers + Offset), Value);
}
