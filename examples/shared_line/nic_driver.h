/* A minimal WDM network-card driver's interrupt path, written as a real driver would be. */
#ifndef NIC_DRIVER_H
#define NIC_DRIVER_H

#include <wdm.h>

#include "nic_hardware.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device extension. Everything the ISR updates is read elsewhere only under
 * KeSynchronizeExecution. */
typedef struct _NIC_EXTENSION {
  NIC_HARDWARE *Hardware;
  PKINTERRUPT Interrupt;
  ULONG PacketsReceived;
  ULONG InterruptsClaimed;
  ULONG InterruptsPerProcessor[MAXIMUM_PROCESSORS];
  KIRQL IsrIrql;
} NIC_EXTENSION, *PNIC_EXTENSION;

/* Connects the ISR (what IRP_MN_START_DEVICE would do with the translated resources). */
NTSTATUS NicStartDevice(PNIC_EXTENSION Extension, NIC_HARDWARE *Hardware, ULONG Vector, KIRQL Irql,
                        KAFFINITY Affinity);
/* Disconnects the ISR (IRP_MN_STOP_DEVICE / IRP_MN_REMOVE_DEVICE). */
VOID NicStopDevice(PNIC_EXTENSION Extension);

/* Counters copied out under the interrupt's critical section. */
typedef struct _NIC_STATISTICS {
  ULONG PacketsReceived;
  ULONG InterruptsClaimed;
  ULONG InterruptsPerProcessor[MAXIMUM_PROCESSORS];
  KIRQL IsrIrql;
} NIC_STATISTICS;
VOID NicQueryStatistics(PNIC_EXTENSION Extension, NIC_STATISTICS *Statistics);

#ifdef __cplusplus
}
#endif

#endif
