/* The device side of the demo: what the driver sees of a network card is one read-to-clear
 * status register. Reading it is how the ISR asks "did my card interrupt?". */
#ifndef NIC_HARDWARE_H
#define NIC_HARDWARE_H

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _NIC_HARDWARE NIC_HARDWARE;

/* Number of packets received since the last read; reading clears it. When no card on the
 * line has anything left to report, the card stops driving the shared line. */
ULONG NicReadAndClearStatus(NIC_HARDWARE *Hardware);

#ifdef __cplusplus
}
#endif

#endif
