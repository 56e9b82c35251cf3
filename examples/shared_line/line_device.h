/* What both drivers on the shared line do with the translated resources of
 * IRP_MN_START_DEVICE: map their register block and connect their ISR to their line interrupt,
 * with exactly the vector, DIRQL, trigger, sharing and processors the PnP manager assigned. */
#ifndef LINE_DEVICE_H
#define LINE_DEVICE_H

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _LINE_DEVICE {
  volatile UCHAR *Registers; /* the mapped register block; NULL while stopped */
  SIZE_T RegisterBytes;
  PKINTERRUPT Interrupt; /* NULL while stopped */
} LINE_DEVICE, *PLINE_DEVICE;

/* Maps the CmResourceTypeMemory resource and connects ServiceRoutine to the line-based
 * CmResourceTypeInterrupt resource. The ISR may run before this returns.
 * STATUS_INSUFFICIENT_RESOURCES: the list lacks either resource, or the registers cannot be
 * mapped; otherwise what IoConnectInterrupt returned. On failure nothing stays mapped or
 * connected. */
NTSTATUS LineDeviceStart(PLINE_DEVICE Device, PCM_RESOURCE_LIST TranslatedResources,
                         PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext);

/* Disconnects the ISR (once this returns it runs nowhere) and unmaps the registers. */
VOID LineDeviceStop(PLINE_DEVICE Device);

/* The 32-bit register at Offset of the started device's register block. */
ULONG LineDeviceReadRegister(PLINE_DEVICE Device, ULONG Offset);
VOID LineDeviceWriteRegister(PLINE_DEVICE Device, ULONG Offset, ULONG Value);

#ifdef __cplusplus
}
#endif

#endif
