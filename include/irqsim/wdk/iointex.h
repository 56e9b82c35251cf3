/**
 * @file
 * @brief `<iointex.h>`: in the WDK, the Wdmlib* forms of the IoConnectInterruptEx family for
 *        drivers that include it right after `<wdm.h>` or `<ntddk.h>`.
 *
 * Here it only includes `<wdm.h>`, which holds the parameter types. WdmlibIoConnectInterruptEx,
 * WdmlibIoDisconnectInterruptEx and WdmlibIoGetAffinityInterrupt will be declared here together
 * with the routines they stand for, when irqsim implements them.
 */
#ifndef IRQSIM_WDK_IOINTEX_H
#define IRQSIM_WDK_IOINTEX_H
#include "wdm.h"
#endif
