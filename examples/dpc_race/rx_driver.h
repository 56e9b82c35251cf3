/* A packet receiver's interrupt path (WDM, plain C), with a race planted in it on purpose.
 *
 * The ISR acknowledges the device, reads how many frames arrived, adds them to PendingFrames and
 * queues the DPC. The DPC passes the pending frames to the stack, reading each frame's descriptor
 * register and handing its ring slot back, and takes them off PendingFrames.
 *
 * PendingFrames is shared with the ISR, which can run at any moment the DPC runs: on another
 * processor, or on the DPC's own, since DIRQL is above DISPATCH_LEVEL. RX_CONFIG decides how the
 * DPC takes frames off it: inside KeSynchronizeExecution (correct), or with an unsynchronized
 * read-modify-write that loses the ISR's update when the ISR runs in between (the planted bug). */
#ifndef RX_DRIVER_H
#define RX_DRIVER_H

#include <wdm.h>

#include "rx_registers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _RX_CONFIG {
  /* TRUE: the DPC takes frames off PendingFrames inside KeSynchronizeExecution, at the
   * interrupt's DIRQL under its spin lock, where no ISR can run meanwhile: what the WDK
   * prescribes for state shared with an ISR.
   * FALSE: THE PLANTED BUG. The DPC reads PendingFrames, passes that many frames up (register
   * accesses: the ISR may run meanwhile and add newly arrived frames) and then writes back the
   * count it read minus the frames it passed up. An ISR that ran in between has its frames
   * overwritten: they stay in the ring, announced by nothing, and are lost. */
  BOOLEAN UseSynchronizeExecution;
} RX_CONFIG, *PRX_CONFIG;

typedef struct _RX_STATISTICS {
  ULONG InterruptsClaimed;
  ULONG FramesAnnounced; /* the sum of the RX_ARRIVED counts the ISR read */
  ULONG FramesPassedUp;  /* frames the DPC handed to the stack */
  ULONG64 BytesPassedUp;
  ULONG DpcRuns;
  ULONG EmptyRingReads;  /* the DPC expected a frame and found the ring empty */
  ULONG PendingFrames;   /* announced frames no DPC has passed up yet */
} RX_STATISTICS, *PRX_STATISTICS;

typedef struct _RX_EXTENSION {
  RX_CONFIG Config;
  volatile UCHAR *Registers; /* the mapped register block; NULL while stopped */
  SIZE_T RegisterBytes;
  PKINTERRUPT Interrupt; /* NULL while stopped */
  KDPC Dpc;

  /* Shared with the ISR: written by it at DIRQL, so anything else touches them only inside the
   * interrupt's critical section (KeSynchronizeExecution) -- except the planted bug. */
  BOOLEAN Accepting; /* the ISR hands frames to the DPC only between start and stop */
  ULONG PendingFrames;
  ULONG FramesAnnounced;
  ULONG InterruptsClaimed;

  /* The DPC's own. The ISR can queue the DPC again on another processor while it still runs
   * here, so two runs may overlap: they take DpcLock. An executive spin lock keeps other DPCs
   * out, but not the ISR, which runs above DISPATCH_LEVEL and never takes it. */
  KSPIN_LOCK DpcLock;
  ULONG FramesPassedUp;
  ULONG64 BytesPassedUp;
  ULONG DpcRuns;
  ULONG EmptyRingReads;
} RX_EXTENSION, *PRX_EXTENSION;

/* IRP_MN_START_DEVICE: map the registers and connect the ISR to the line interrupt of the
 * translated resources. STATUS_INSUFFICIENT_RESOURCES without a memory and a line resource or
 * when the registers cannot be mapped; otherwise what IoConnectInterrupt returned. On failure
 * nothing stays mapped or connected. */
NTSTATUS RxStartDevice(PRX_EXTENSION Rx, const RX_CONFIG *Config, PCM_RESOURCE_LIST TranslatedResources);
/* IRP_MN_STOP_DEVICE: stop handing frames to the DPC, let queued DPCs finish, disconnect the ISR,
 * unmap the registers. When it returns no ISR or DPC of the receiver runs any more. Harmless for a
 * receiver that never started. */
VOID RxStopDevice(PRX_EXTENSION Rx);
/* A consistent copy of the counters, taken inside the interrupt's critical section and under the
 * DPC lock. At PASSIVE_LEVEL while started. */
VOID RxQueryStatistics(PRX_EXTENSION Rx, PRX_STATISTICS Statistics);

#ifdef __cplusplus
}
#endif

#endif
