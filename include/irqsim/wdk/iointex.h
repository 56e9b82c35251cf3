/**
 * @file
 * @brief `<iointex.h>`: the Wdmlib* forms of the IoConnectInterruptEx family, for drivers that
 *        must also run on Windows versions before Vista and include this right after `<wdm.h>`
 *        or `<ntddk.h>`. Each behaves exactly as the routine it stands for.
 */
#ifndef IRQSIM_WDK_IOINTEX_H
#define IRQSIM_WDK_IOINTEX_H
#include "wdm.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief IoConnectInterruptEx under its library name. */
NTSTATUS WdmlibIoConnectInterruptEx(PIO_CONNECT_INTERRUPT_PARAMETERS Parameters);
/** @brief IoDisconnectInterruptEx under its library name. */
VOID WdmlibIoDisconnectInterruptEx(PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters);
/** @brief IoGetAffinityInterrupt under its library name. */
NTSTATUS WdmlibIoGetAffinityInterrupt(PKINTERRUPT InterruptObject, PGROUP_AFFINITY GroupAffinity);

#ifdef __cplusplus
}
#endif

#endif /* IRQSIM_WDK_IOINTEX_H */
