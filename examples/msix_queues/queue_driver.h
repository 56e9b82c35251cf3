/* A multi-queue driver's interrupt path: one MSI-X message per queue, each queue's completion
 * count read from a read-to-clear register by the message's ISR. */
#ifndef QUEUE_DRIVER_H
#define QUEUE_DRIVER_H

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUEUE_COUNT 4
/* Register i * QUEUE_REGISTER_STRIDE holds queue i's completions not yet reported. */
#define QUEUE_REGISTER_STRIDE 0x10

typedef struct _QUEUE_EXTENSION {
  volatile ULONG *Registers;
  ULONG RegisterBytes;
  ULONG ConnectVersion; /* what IoConnectInterruptEx returned: needed to disconnect */
  PIO_INTERRUPT_MESSAGE_INFO Messages;
  ULONG Completed[QUEUE_COUNT];
  ULONG LastProcessor[QUEUE_COUNT];
} QUEUE_EXTENSION, *PQUEUE_EXTENSION;

/* IRP_MN_START_DEVICE: map the registers and connect one ISR to every message. */
NTSTATUS QueueStartDevice(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo, PCM_RESOURCE_LIST Translated);
/* IRP_MN_STOP_DEVICE: disconnect with the Version connect returned, unmap. */
VOID QueueStopDevice(PQUEUE_EXTENSION Extension);
/* Queue's completions so far, read inside that message's critical section. */
ULONG QueueCompleted(PQUEUE_EXTENSION Extension, ULONG Queue, PULONG LastProcessor);

#ifdef __cplusplus
}
#endif

#endif
