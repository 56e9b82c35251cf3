#include "nic_driver.h"

#include <string.h>

static KSERVICE_ROUTINE NicInterruptService;
static KSYNCHRONIZE_ROUTINE NicCopyStatistics;

typedef struct _COPY_STATISTICS_CONTEXT {
  PNIC_EXTENSION Extension;
  NIC_STATISTICS *Statistics;
} COPY_STATISTICS_CONTEXT;

NTSTATUS NicStartDevice(PNIC_EXTENSION Extension, NIC_HARDWARE *Hardware, ULONG Vector, KIRQL Irql,
                        KAFFINITY Affinity) {
  memset(Extension, 0, sizeof(*Extension));
  Extension->Hardware = Hardware;
  /* A shared PCI line: level-triggered and shareable, one ISR at its own DIRQL. */
  return IoConnectInterrupt(&Extension->Interrupt, NicInterruptService, Extension, NULL, Vector, Irql, Irql,
                            LevelSensitive, TRUE, Affinity, FALSE);
}

VOID NicStopDevice(PNIC_EXTENSION Extension) {
  if (Extension->Interrupt != NULL) {
    IoDisconnectInterrupt(Extension->Interrupt);
    Extension->Interrupt = NULL;
  }
}

static BOOLEAN NicInterruptService(PKINTERRUPT Interrupt, PVOID ServiceContext) {
  PNIC_EXTENSION extension = (PNIC_EXTENSION)ServiceContext;
  ULONG packets;
  UNREFERENCED_PARAMETER(Interrupt);

  /* On a shared line, first ask the card whether it is the one interrupting. */
  packets = NicReadAndClearStatus(extension->Hardware);
  if (packets == 0) {
    return FALSE;
  }
  extension->PacketsReceived += packets;
  extension->InterruptsClaimed += 1;
  extension->InterruptsPerProcessor[KeGetCurrentProcessorNumber()] += 1;
  extension->IsrIrql = KeGetCurrentIrql();
  return TRUE;
}

static BOOLEAN NicCopyStatistics(PVOID SynchronizeContext) {
  COPY_STATISTICS_CONTEXT *context = (COPY_STATISTICS_CONTEXT *)SynchronizeContext;
  context->Statistics->PacketsReceived = context->Extension->PacketsReceived;
  context->Statistics->InterruptsClaimed = context->Extension->InterruptsClaimed;
  memcpy(context->Statistics->InterruptsPerProcessor, context->Extension->InterruptsPerProcessor,
         sizeof(context->Statistics->InterruptsPerProcessor));
  context->Statistics->IsrIrql = context->Extension->IsrIrql;
  return TRUE;
}

VOID NicQueryStatistics(PNIC_EXTENSION Extension, NIC_STATISTICS *Statistics) {
  COPY_STATISTICS_CONTEXT context;
  context.Extension = Extension;
  context.Statistics = Statistics;
  KeSynchronizeExecution(Extension->Interrupt, NicCopyStatistics, &context);
}
