/* A serial port driver's receive path (WDM, plain C). The port shares a level-triggered line
 * with other devices. Its ISR drains the port's small hardware FIFO into a larger receive
 * buffer, which the read path (what IRP_MJ_READ would do) empties under the interrupt lock. */
#ifndef UART_DRIVER_H
#define UART_DRIVER_H

#include <wdm.h>

#include "line_device.h"
#include "uart_registers.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UART_RX_BUFFER_SIZE 256

/* What the ISR has counted. */
typedef struct _UART_STATISTICS {
  ULONG BytesReceived;     /* taken out of the FIFO into the receive buffer */
  ULONG OverrunErrors;     /* times the port reported bytes lost to a full FIFO */
  ULONG BufferOverflows;   /* bytes dropped because the receive buffer was full */
  ULONG InterruptsClaimed;
  KIRQL IsrIrql;      /* the IRQL the ISR last ran at */
  ULONG IsrProcessor; /* the processor it last ran on */
} UART_STATISTICS, *PUART_STATISTICS;

typedef struct _UART_EXTENSION {
  LINE_DEVICE Line;
  /* Everything below is written by the ISR and used elsewhere only inside the interrupt's
   * critical section. */
  UART_STATISTICS Statistics;
  UCHAR RxBuffer[UART_RX_BUFFER_SIZE]; /* a ring: RxCount bytes from RxHead on */
  ULONG RxHead;
  ULONG RxCount;
} UART_EXTENSION, *PUART_EXTENSION;

/* IRP_MN_START_DEVICE: map the registers and connect the ISR from the translated resources
 * (see LineDeviceStart for the failures). */
NTSTATUS UartStartDevice(PUART_EXTENSION Uart, PCM_RESOURCE_LIST TranslatedResources);
/* IRP_MN_STOP_DEVICE / IRP_MN_REMOVE_DEVICE: disconnect the ISR, unmap the registers. */
VOID UartStopDevice(PUART_EXTENSION Uart);
/* Moves up to Length received bytes, oldest first, into Buffer and returns how many. While
 * started, at an IRQL no higher than the line's DIRQL. */
ULONG UartRead(PUART_EXTENSION Uart, PUCHAR Buffer, ULONG Length);
/* A consistent copy of the counters, taken under KeSynchronizeExecution. */
VOID UartQueryStatistics(PUART_EXTENSION Uart, PUART_STATISTICS Statistics);

#ifdef __cplusplus
}
#endif

#endif
