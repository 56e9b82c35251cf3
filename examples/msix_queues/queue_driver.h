/* A multi-queue driver's interrupt path: one MSI-X message per queue. The message's ISR reads the
 * queue's read-to-clear completion register and hands the count to the queue's DPC, which does
 * the (here: counting) work at DISPATCH_LEVEL on the processor that took the message. */
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
  KDPC QueueDpc[QUEUE_COUNT];
  ULONG Pending[QUEUE_COUNT];       /* ISR -> DPC hand-off, guarded by the message's lock */
  ULONG Completed[QUEUE_COUNT];     /* DPC-owned */
  ULONG DpcProcessor[QUEUE_COUNT];  /* where the queue's DPC last ran */
  ULONG DpcRuns[QUEUE_COUNT];
} QUEUE_EXTENSION, *PQUEUE_EXTENSION;

/* IRP_MN_START_DEVICE: map the registers and connect one ISR to every message. */
NTSTATUS QueueStartDevice(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo, PCM_RESOURCE_LIST Translated);
/* IRP_MN_STOP_DEVICE: disconnect with the Version connect returned, unmap. */
VOID QueueStopDevice(PQUEUE_EXTENSION Extension);
/* Queue's completions its DPC has processed, with where and how often it ran. Call when the
 * machine is quiescent. */
ULONG QueueCompleted(PQUEUE_EXTENSION Extension, ULONG Queue, PULONG DpcProcessor, PULONG DpcRuns);

#ifdef __cplusplus
}
#endif

#endif
