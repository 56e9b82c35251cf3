/* The serial port's register block: the contract between the driver (uart_driver.c) and the
 * simulated port (uart_device.cpp). Offsets are in bytes from the start of the memory
 * resource; STATUS and RX_LEVEL are 32-bit registers, RX_DATA an 8-bit one. */
#ifndef UART_REGISTERS_H
#define UART_REGISTERS_H

#define UART_REGISTER_BYTES 0x1000

/* Interrupt causes. Write-1-to-clear, like the network card's: the port stops driving its
 * interrupt line once no cause is left. */
#define UART_STATUS 0x00
#define UART_STATUS_RX_AVAILABLE 0x1u /* bytes arrived in the receive FIFO */
#define UART_STATUS_RX_OVERRUN 0x2u   /* a byte arrived while the FIFO was full and was lost */

/* Bytes waiting in the receive FIFO. */
#define UART_RX_LEVEL 0x04

/* Reading takes the oldest byte out of the receive FIFO. */
#define UART_RX_DATA 0x08

#define UART_RX_FIFO_DEPTH 16

#endif
