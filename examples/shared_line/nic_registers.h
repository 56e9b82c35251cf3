/* The network card's register block, as its data sheet would give it: the one contract the
 * driver (nic_driver.c) and the simulated card (nic_device.cpp) share. Offsets are in bytes
 * from the start of the memory resource; every register is 32 bits wide. */
#ifndef NIC_REGISTERS_H
#define NIC_REGISTERS_H

#define NIC_REGISTER_BYTES 0x1000

/* Interrupt causes. Write-1-to-clear: writing a bit clears that cause, and the card stops
 * driving its interrupt line once no cause is left. */
#define NIC_STATUS 0x00
#define NIC_STATUS_RX_PACKETS 0x1u  /* packets were received since the last acknowledgement */
#define NIC_STATUS_LINK_CHANGE 0x2u /* the link went up or down */

/* Packets received since the last read; reading clears it. */
#define NIC_RX_COUNT 0x04

/* The link as it is now. */
#define NIC_LINK_STATE 0x08
#define NIC_LINK_UP 0x1u

#endif
