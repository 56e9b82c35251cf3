/* The packet receiver's register block: the contract between the driver (rx_driver.c) and the
 * simulated device (rx_device.cpp). Offsets are in bytes from the start of the memory resource;
 * every register is 32 bits.
 *
 * The device writes each frame it takes off the wire into a slot of its receive ring, counts it
 * in RX_ARRIVED and raises RX_STATUS_FRAMES_ARRIVED. The driver learns how many frames arrived
 * only from RX_ARRIVED, which is read-to-clear: a count the driver reads and then forgets is never
 * announced again, and those frames stay in the ring, never passed up. */
#ifndef RX_REGISTERS_H
#define RX_REGISTERS_H

#define RX_REGISTER_BYTES 0x100

/* Interrupt causes, write-1-to-clear. The device drives its interrupt line while any is set. */
#define RX_STATUS 0x00
#define RX_STATUS_FRAMES_ARRIVED 0x1u /* frames were written into the receive ring */

/* Read-to-clear: frames written into the ring since the register was last read. */
#define RX_ARRIVED 0x04

/* Read: the length in bytes of the oldest frame in the ring, 0 when the ring is empty. */
#define RX_HEAD_LENGTH 0x08

/* Write 1: the driver is done with the oldest frame; its slot goes back to the device. */
#define RX_RELEASE 0x0C

/* Slots in the receive ring. A frame that arrives while every slot is taken is dropped. */
#define RX_RING_SLOTS 64

#endif
