/* A multi-queue driver's interrupt path. With MSI-X every queue has its own message: the
 * message's ISR reads the queue's read-to-clear completion register and hands the count to the
 * queue's DPC, which processes the completions at DISPATCH_LEVEL on the processor that took the
 * message. A card the system gives no messages gets the same driver on its line interrupt
 * instead: IoConnectInterruptEx falls back to the driver's line ISR, which reads the card's cause
 * register and feeds every queue that has completions. */
#ifndef QUEUE_DRIVER_H
#define QUEUE_DRIVER_H

#include <wdm.h>

#include "queue_registers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _COMPLETION_QUEUE {
  /* The interrupt whose lock guards Accepting and Pending: the queue's own message, or after the
   * fallback the card's one line, shared by all queues. */
  PKINTERRUPT Interrupt;
  BOOLEAN Accepting; /* ISRs hand completions to the DPC only between start and stop */
  ULONG Pending;     /* completions an ISR read that the DPC has not taken yet */
  KDPC Dpc;
  /* A line interrupt can move between processors, and a DPC that is running can be queued again
   * elsewhere: two runs of one queue's DPC may overlap, so the fields below need a lock. */
  KSPIN_LOCK DpcLock;
  ULONG Completed;
  ULONG DpcRuns;
  ULONG DpcProcessor; /* where the DPC last ran */
} COMPLETION_QUEUE, *PCOMPLETION_QUEUE;

typedef struct _QUEUE_EXTENSION {
  PUCHAR Registers;
  SIZE_T RegisterBytes;
  /* What IoConnectInterruptEx returned: CONNECT_MESSAGE_BASED, or CONNECT_LINE_BASED after the
   * fallback. The disconnect must pass it back with the matching context. */
  ULONG ConnectVersion;
  union {
    PVOID Generic;
    PIO_INTERRUPT_MESSAGE_INFO InterruptMessageTable; /* CONNECT_MESSAGE_BASED */
    PKINTERRUPT InterruptObject;                      /* CONNECT_LINE_BASED */
  } Connection;
  COMPLETION_QUEUE Queue[QUEUE_COUNT];
} QUEUE_EXTENSION, *PQUEUE_EXTENSION;

/* IRP_MN_START_DEVICE: map the registers, connect one ISR per message (or the line ISR when the
 * card has no messages), then let the card interrupt.
 * STATUS_INSUFFICIENT_RESOURCES: no register block, or not one message per queue;
 * otherwise IoConnectInterruptEx's status (STATUS_NOT_FOUND: neither messages nor a line). */
NTSTATUS QueueStartDevice(PQUEUE_EXTENSION Extension, PDEVICE_OBJECT Pdo, PCM_RESOURCE_LIST Translated);
/* IRP_MN_STOP_DEVICE: silence the card, let queued DPCs finish, disconnect, unmap. When it
 * returns no ISR or DPC of the device runs any more. */
VOID QueueStopDevice(PQUEUE_EXTENSION Extension);
/* Completions the queue's DPC has processed, with where it last ran and how often. Call when
 * the machine is quiescent. */
ULONG QueueCompleted(PQUEUE_EXTENSION Extension, ULONG Queue, PULONG DpcProcessor, PULONG DpcRuns);

#ifdef __cplusplus
}
#endif

#endif
