/**
 * @file
 * @brief `<ntddk.h>`: a superset of `<wdm.h>` in the WDK; here it adds nothing yet.
 */
#ifndef IRQSIM_WDK_NTDDK_H
#define IRQSIM_WDK_NTDDK_H
#include "wdm.h"
#endif
