#include "rx_driver.h"

static KSERVICE_ROUTINE RxInterruptService;
static KDEFERRED_ROUTINE RxDpcRoutine;
static KSYNCHRONIZE_ROUTINE RxSetAccepting;
static KSYNCHRONIZE_ROUTINE RxTakePending;
static KSYNCHRONIZE_ROUTINE RxCopyShared;

typedef struct _RX_SET_ACCEPTING {
  PRX_EXTENSION Rx;
  BOOLEAN Accepting;
} RX_SET_ACCEPTING;

typedef struct _RX_TAKE_PENDING {
  PRX_EXTENSION Rx;
  ULONG Taken;
} RX_TAKE_PENDING;

typedef struct _RX_COPY_SHARED {
  PRX_EXTENSION Rx;
  PRX_STATISTICS Statistics;
} RX_COPY_SHARED;

/* The planted race is a data race as well: the racy DPC reads and writes PendingFrames outside
 * the interrupt lock the ISR writes it under. ThreadSanitizer, which the project's tsan preset
 * runs every test under, reports it whenever a free-running run happens to leave the two
 * unordered -- rightly, but that suite must stay clean, and what this example shows is the lost
 * frame. So those two accesses, and only they, are not instrumented. (A deterministic machine
 * orders everything its processors do by handing the turn over, so ThreadSanitizer would see
 * no race there anyway.) */
#if defined(__SANITIZE_THREAD__)
#define RX_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RX_THREAD_SANITIZER 1
#endif
#endif
/* Kept out of line, and the accesses volatile, so that no compiler moves them into the
 * instrumented caller (gcc's IPA-SRA and clang's argument promotion would, for a plain load). */
#if defined(RX_THREAD_SANITIZER) && defined(__clang__)
#define RX_PLANTED_RACE __attribute__((no_sanitize("thread"), noinline))
#elif defined(RX_THREAD_SANITIZER)
#define RX_PLANTED_RACE __attribute__((no_sanitize("thread"), noipa))
#else
#define RX_PLANTED_RACE
#endif

static RX_PLANTED_RACE ULONG RxReadPendingUnsynchronized(PRX_EXTENSION Rx) {
  return *(volatile ULONG *)&Rx->PendingFrames;
}

static RX_PLANTED_RACE VOID RxWritePendingUnsynchronized(PRX_EXTENSION Rx, ULONG Pending) {
  *(volatile ULONG *)&Rx->PendingFrames = Pending;
}

static ULONG RxReadRegister(PRX_EXTENSION Rx, ULONG Offset) {
  return READ_REGISTER_ULONG((volatile ULONG *)(Rx->Registers + Offset));
}

static VOID RxWriteRegister(PRX_EXTENSION Rx, ULONG Offset, ULONG Value) {
  WRITE_REGISTER_ULONG((volatile ULONG *)(Rx->Registers + Offset), Value);
}

static NTSTATUS RxConnect(PRX_EXTENSION Rx, PCM_RESOURCE_LIST TranslatedResources) {
  PCM_PARTIAL_RESOURCE_LIST resources = &TranslatedResources->List[0].PartialResourceList;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR memory = NULL;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR line = NULL;
  KIRQL dirql;
  NTSTATUS status;
  ULONG i;

  for (i = 0; i < resources->Count; ++i) {
    PCM_PARTIAL_RESOURCE_DESCRIPTOR resource = &resources->PartialDescriptors[i];
    if (resource->Type == CmResourceTypeMemory && memory == NULL && resource->u.Memory.Length >= RX_REGISTER_BYTES) {
      memory = resource;
    } else if (resource->Type == CmResourceTypeInterrupt && (resource->Flags & CM_RESOURCE_INTERRUPT_MESSAGE) == 0 &&
               line == NULL) {
      line = resource;
    }
  }
  if (memory == NULL || line == NULL) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  Rx->RegisterBytes = memory->u.Memory.Length;
  Rx->Registers =
      (volatile UCHAR *)MmMapIoSpaceEx(memory->u.Memory.Start, Rx->RegisterBytes, PAGE_READWRITE | PAGE_NOCACHE);
  if (Rx->Registers == NULL) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  /* Connected exactly as the PnP manager assigned the line: its trigger, its sharing, its DIRQL
   * (which is also the IRQL of every KeSynchronizeExecution below). */
  dirql = (KIRQL)line->u.Interrupt.Level;
  status = IoConnectInterrupt(&Rx->Interrupt, RxInterruptService, Rx, NULL, line->u.Interrupt.Vector, dirql, dirql,
                              (line->Flags & CM_RESOURCE_INTERRUPT_LATCHED) != 0 ? Latched : LevelSensitive,
                              line->ShareDisposition == CmResourceShareShared ? TRUE : FALSE,
                              line->u.Interrupt.Affinity, FALSE);
  if (!NT_SUCCESS(status)) {
    Rx->Interrupt = NULL;
    MmUnmapIoSpace((PVOID)Rx->Registers, Rx->RegisterBytes);
    Rx->Registers = NULL;
  }
  return status;
}

NTSTATUS RxStartDevice(PRX_EXTENSION Rx, const RX_CONFIG *Config, PCM_RESOURCE_LIST TranslatedResources) {
  RX_SET_ACCEPTING set;
  NTSTATUS status;

  /* Everything the ISR and the DPC touch is ready before the ISR is connected. No target
   * processor: the DPC runs where the ISR that queued it ran. */
  RtlZeroMemory(Rx, sizeof(*Rx));
  Rx->Config = *Config;
  KeInitializeDpc(&Rx->Dpc, RxDpcRoutine, Rx);
  KeInitializeSpinLock(&Rx->DpcLock);
  status = RxConnect(Rx, TranslatedResources);
  if (!NT_SUCCESS(status)) {
    return status;
  }
  set.Rx = Rx;
  set.Accepting = TRUE;
  KeSynchronizeExecution(Rx->Interrupt, RxSetAccepting, &set);
  return STATUS_SUCCESS;
}

VOID RxStopDevice(PRX_EXTENSION Rx) {
  RX_SET_ACCEPTING set;
  if (Rx->Interrupt != NULL) {
    /* From here on no ISR queues the DPC; the DPCs already queued may use the interrupt object
     * (KeSynchronizeExecution) and the registers, so they finish before either goes. */
    set.Rx = Rx;
    set.Accepting = FALSE;
    KeSynchronizeExecution(Rx->Interrupt, RxSetAccepting, &set);
    KeFlushQueuedDpcs();
    IoDisconnectInterrupt(Rx->Interrupt);
    Rx->Interrupt = NULL;
  }
  if (Rx->Registers != NULL) {
    MmUnmapIoSpace((PVOID)Rx->Registers, Rx->RegisterBytes);
    Rx->Registers = NULL;
  }
}

static BOOLEAN RxInterruptService(PKINTERRUPT Interrupt, PVOID ServiceContext) {
  PRX_EXTENSION rx = (PRX_EXTENSION)ServiceContext;
  ULONG causes;
  ULONG arrived;
  UNREFERENCED_PARAMETER(Interrupt);

  causes = RxReadRegister(rx, RX_STATUS) & RX_STATUS_FRAMES_ARRIVED;
  if (causes == 0) {
    return FALSE; /* another device on a shared line */
  }
  /* Acknowledge before reading the count: a frame that arrives after this write raises the
   * cause again, so it is either in the count read below or announced by the next interrupt. */
  RxWriteRegister(rx, RX_STATUS, causes);
  arrived = RxReadRegister(rx, RX_ARRIVED); /* read-to-clear: this ISR alone now knows of them */
  rx->InterruptsClaimed += 1;
  if (arrived != 0 && rx->Accepting) {
    /* Recorded for the DPC, then the DPC queued last: it may start at once on another
     * processor. While it is still queued, this insert merges with it. */
    rx->PendingFrames += arrived;
    rx->FramesAnnounced += arrived;
    KeInsertQueueDpc(&rx->Dpc, NULL, NULL);
  }
  return TRUE;
}

/* Passes up to Count frames from the head of the ring to the stack (here: counts them) and hands
 * their slots back. Every access is a register access, during which the ISR may run. Returns the
 * frames passed up, fewer than Count only if the ring held fewer. Under DpcLock. */
static ULONG RxPassUpFrames(PRX_EXTENSION rx, ULONG Count) {
  ULONG passed;
  for (passed = 0; passed < Count; ++passed) {
    ULONG length = RxReadRegister(rx, RX_HEAD_LENGTH);
    if (length == 0) {
      rx->EmptyRingReads += 1;
      break;
    }
    rx->FramesPassedUp += 1;
    rx->BytesPassedUp += length;
    RxWriteRegister(rx, RX_RELEASE, 1);
  }
  return passed;
}

/* Inside the interrupt's critical section: no ISR runs on any processor meanwhile, so the count
 * taken and the zero left behind are one step as far as the ISR can tell. */
static BOOLEAN RxTakePending(PVOID SynchronizeContext) {
  RX_TAKE_PENDING *take = (RX_TAKE_PENDING *)SynchronizeContext;
  take->Taken = take->Rx->PendingFrames;
  take->Rx->PendingFrames = 0;
  return TRUE;
}

static VOID RxDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2) {
  PRX_EXTENSION rx = (PRX_EXTENSION)DeferredContext;
  UNREFERENCED_PARAMETER(Dpc);
  UNREFERENCED_PARAMETER(SystemArgument1);
  UNREFERENCED_PARAMETER(SystemArgument2);

  KeAcquireSpinLockAtDpcLevel(&rx->DpcLock);
  rx->DpcRuns += 1;
  if (rx->Config.UseSynchronizeExecution) {
    /* The fix: the frames are taken off PendingFrames at DIRQL under the interrupt lock, and
     * passed up afterwards at DISPATCH_LEVEL. Frames an ISR adds meanwhile stay pending, and the
     * DPC that ISR queued passes them up. */
    RX_TAKE_PENDING take;
    take.Rx = rx;
    take.Taken = 0;
    KeSynchronizeExecution(rx->Interrupt, RxTakePending, &take);
    RxPassUpFrames(rx, take.Taken);
  } else {
    /* THE PLANTED BUG, deliberate: this example exists to show the deterministic mode finding
     * it. PendingFrames is read, the frames are passed up (register accesses, during which the
     * ISR can run on another processor, or interrupt this DPC on its own), and then the count
     * read minus the frames passed up is written back. DpcLock does not help: the ISR never
     * takes it. If an ISR added frames in between, the write-back erases them: they stay in the
     * ring, RX_ARRIVED has already been cleared, and no DPC ever passes them up. */
    ULONG pending = RxReadPendingUnsynchronized(rx);
    ULONG passed = RxPassUpFrames(rx, pending);
    RxWritePendingUnsynchronized(rx, pending - passed); /* frames the ring did not hold stay pending */
  }
  KeReleaseSpinLockFromDpcLevel(&rx->DpcLock);
}

static BOOLEAN RxSetAccepting(PVOID SynchronizeContext) {
  RX_SET_ACCEPTING *set = (RX_SET_ACCEPTING *)SynchronizeContext;
  set->Rx->Accepting = set->Accepting;
  return TRUE;
}

static BOOLEAN RxCopyShared(PVOID SynchronizeContext) {
  RX_COPY_SHARED *copy = (RX_COPY_SHARED *)SynchronizeContext;
  copy->Statistics->InterruptsClaimed = copy->Rx->InterruptsClaimed;
  copy->Statistics->FramesAnnounced = copy->Rx->FramesAnnounced;
  copy->Statistics->PendingFrames = copy->Rx->PendingFrames;
  return TRUE;
}

VOID RxQueryStatistics(PRX_EXTENSION Rx, PRX_STATISTICS Statistics) {
  RX_COPY_SHARED copy;
  KIRQL irql;
  /* The DPC's counters under its lock, the ISR's inside the interrupt's critical section (which
   * may be entered holding the DPC lock: DISPATCH_LEVEL is below DIRQL). */
  KeAcquireSpinLock(&Rx->DpcLock, &irql);
  Statistics->FramesPassedUp = Rx->FramesPassedUp;
  Statistics->BytesPassedUp = Rx->BytesPassedUp;
  Statistics->DpcRuns = Rx->DpcRuns;
  Statistics->EmptyRingReads = Rx->EmptyRingReads;
  copy.Rx = Rx;
  copy.Statistics = Statistics;
  KeSynchronizeExecution(Rx->Interrupt, RxCopyShared, &copy);
  KeReleaseSpinLock(&Rx->DpcLock, irql);
}
