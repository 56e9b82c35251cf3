// The Wdmlib* names of <iointex.h>: the same routines under their library names.

#include "iointex.h"

extern "C" {

NTSTATUS WdmlibIoConnectInterruptEx(PIO_CONNECT_INTERRUPT_PARAMETERS Parameters) {
  return IoConnectInterruptEx(Parameters);
}

VOID WdmlibIoDisconnectInterruptEx(PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters) {
  IoDisconnectInterruptEx(Parameters);
}

NTSTATUS WdmlibIoGetAffinityInterrupt(PKINTERRUPT InterruptObject, PGROUP_AFFINITY GroupAffinity) {
  return IoGetAffinityInterrupt(InterruptObject, GroupAffinity);
}

}  // extern "C"
