#include "nic_driver.h"

static KSERVICE_ROUTINE NicInterruptService;
static KSYNCHRONIZE_ROUTINE NicCopyStatistics;

typedef struct _NIC_COPY_STATISTICS {
  PNIC_EXTENSION Nic;
  PNIC_STATISTICS Statistics;
} NIC_COPY_STATISTICS;

NTSTATUS NicStartDevice(PNIC_EXTENSION Nic, PCM_RESOURCE_LIST TranslatedResources) {
  RtlZeroMemory(Nic, sizeof(*Nic));
  return LineDeviceStart(&Nic->Line, TranslatedResources, NicInterruptService, Nic);
}

VOID NicStopDevice(PNIC_EXTENSION Nic) { LineDeviceStop(&Nic->Line); }

static BOOLEAN NicInterruptService(PKINTERRUPT Interrupt, PVOID ServiceContext) {
  PNIC_EXTENSION nic = (PNIC_EXTENSION)ServiceContext;
  ULONG causes;
  UNREFERENCED_PARAMETER(Interrupt);

  /* The line is shared: if the card has no cause pending, another device raised it, and
   * returning FALSE lets the next ISR on the line look. */
  causes = LineDeviceReadRegister(&nic->Line, NIC_STATUS) & (NIC_STATUS_RX_PACKETS | NIC_STATUS_LINK_CHANGE);
  if (causes == 0) {
    return FALSE;
  }
  /* Acknowledge before servicing. A packet that arrives after the acknowledgement raises the
   * cause again, and the line with it; acknowledged after reading RX_COUNT, it would wait
   * unreported in RX_COUNT until some later packet. */
  LineDeviceWriteRegister(&nic->Line, NIC_STATUS, causes);
  if ((causes & NIC_STATUS_RX_PACKETS) != 0) {
    nic->Statistics.PacketsReceived += LineDeviceReadRegister(&nic->Line, NIC_RX_COUNT);
  }
  if ((causes & NIC_STATUS_LINK_CHANGE) != 0) {
    nic->Statistics.LinkChanges += 1;
    nic->Statistics.LinkUp = (LineDeviceReadRegister(&nic->Line, NIC_LINK_STATE) & NIC_LINK_UP) != 0 ? TRUE : FALSE;
  }
  nic->Statistics.InterruptsClaimed += 1;
  nic->Statistics.IsrIrql = KeGetCurrentIrql();
  nic->Statistics.IsrProcessor = KeGetCurrentProcessorNumber();
  return TRUE;
}

static BOOLEAN NicCopyStatistics(PVOID SynchronizeContext) {
  NIC_COPY_STATISTICS *copy = (NIC_COPY_STATISTICS *)SynchronizeContext;
  *copy->Statistics = copy->Nic->Statistics;
  return TRUE;
}

VOID NicQueryStatistics(PNIC_EXTENSION Nic, PNIC_STATISTICS Statistics) {
  NIC_COPY_STATISTICS copy;
  copy.Nic = Nic;
  copy.Statistics = Statistics;
  KeSynchronizeExecution(Nic->Line.Interrupt, NicCopyStatistics, &copy);
}
