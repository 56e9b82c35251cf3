/* A network card driver's interrupt path (WDM, plain C). The card shares a level-triggered PCI
 * line with other devices, so its ISR first asks the card whether it is the one interrupting,
 * then acknowledges exactly the causes it services. */
#ifndef NIC_DRIVER_H
#define NIC_DRIVER_H

#include <wdm.h>

#include "line_device.h"
#include "nic_registers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the ISR has counted. */
typedef struct _NIC_STATISTICS {
  ULONG PacketsReceived;
  ULONG LinkChanges;
  BOOLEAN LinkUp; /* the link as the last link-change interrupt found it; FALSE before one */
  ULONG InterruptsClaimed;
  KIRQL IsrIrql;     /* the IRQL the ISR last ran at */
  ULONG IsrProcessor; /* the processor it last ran on */
} NIC_STATISTICS, *PNIC_STATISTICS;

typedef struct _NIC_EXTENSION {
  LINE_DEVICE Line;
  /* Written by the ISR; anything else reads it only inside the interrupt's critical section. */
  NIC_STATISTICS Statistics;
} NIC_EXTENSION, *PNIC_EXTENSION;

/* IRP_MN_START_DEVICE: map the registers and connect the ISR from the translated resources
 * (see LineDeviceStart for the failures). */
NTSTATUS NicStartDevice(PNIC_EXTENSION Nic, PCM_RESOURCE_LIST TranslatedResources);
/* IRP_MN_STOP_DEVICE / IRP_MN_REMOVE_DEVICE: disconnect the ISR, unmap the registers. */
VOID NicStopDevice(PNIC_EXTENSION Nic);
/* A consistent copy of the counters, taken under KeSynchronizeExecution. While started, at an
 * IRQL no higher than the line's DIRQL. */
VOID NicQueryStatistics(PNIC_EXTENSION Nic, PNIC_STATISTICS Statistics);

#ifdef __cplusplus
}
#endif

#endif
