#include "uart_driver.h"

static KSERVICE_ROUTINE UartInterruptService;
static KSYNCHRONIZE_ROUTINE UartTakeReceived;
static KSYNCHRONIZE_ROUTINE UartCopyStatistics;

typedef struct _UART_TAKE_RECEIVED {
  PUART_EXTENSION Uart;
  PUCHAR Buffer;
  ULONG Length; /* in: room in Buffer; out: bytes taken */
} UART_TAKE_RECEIVED;

typedef struct _UART_COPY_STATISTICS {
  PUART_EXTENSION Uart;
  PUART_STATISTICS Statistics;
} UART_COPY_STATISTICS;

NTSTATUS UartStartDevice(PUART_EXTENSION Uart, PCM_RESOURCE_LIST TranslatedResources) {
  RtlZeroMemory(Uart, sizeof(*Uart));
  return LineDeviceStart(&Uart->Line, TranslatedResources, UartInterruptService, Uart);
}

VOID UartStopDevice(PUART_EXTENSION Uart) { LineDeviceStop(&Uart->Line); }

static VOID UartBufferByte(PUART_EXTENSION Uart, UCHAR Byte) {
  if (Uart->RxCount == UART_RX_BUFFER_SIZE) {
    Uart->Statistics.BufferOverflows += 1;
    return;
  }
  Uart->RxBuffer[(Uart->RxHead + Uart->RxCount) % UART_RX_BUFFER_SIZE] = Byte;
  Uart->RxCount += 1;
  Uart->Statistics.BytesReceived += 1;
}

static BOOLEAN UartInterruptService(PKINTERRUPT Interrupt, PVOID ServiceContext) {
  PUART_EXTENSION uart = (PUART_EXTENSION)ServiceContext;
  ULONG causes;
  ULONG waiting;
  UNREFERENCED_PARAMETER(Interrupt);

  /* The line is shared: no cause pending means another device raised it. */
  causes = LineDeviceReadRegister(&uart->Line, UART_STATUS) & (UART_STATUS_RX_AVAILABLE | UART_STATUS_RX_OVERRUN);
  if (causes == 0) {
    return FALSE;
  }
  /* Acknowledge before draining: a byte that arrives during the drain raises RX_AVAILABLE
   * again and is taken by the next interrupt instead of sitting unannounced in the FIFO. */
  LineDeviceWriteRegister(&uart->Line, UART_STATUS, causes);
  if ((causes & UART_STATUS_RX_OVERRUN) != 0) {
    uart->Statistics.OverrunErrors += 1;
  }
  for (waiting = LineDeviceReadRegister(&uart->Line, UART_RX_LEVEL); waiting > 0; --waiting) {
    UartBufferByte(uart, READ_REGISTER_UCHAR(uart->Line.Registers + UART_RX_DATA));
  }
  uart->Statistics.InterruptsClaimed += 1;
  uart->Statistics.IsrIrql = KeGetCurrentIrql();
  uart->Statistics.IsrProcessor = KeGetCurrentProcessorNumber();
  return TRUE;
}

static BOOLEAN UartTakeReceived(PVOID SynchronizeContext) {
  UART_TAKE_RECEIVED *take = (UART_TAKE_RECEIVED *)SynchronizeContext;
  PUART_EXTENSION uart = take->Uart;
  ULONG taken;
  for (taken = 0; taken < take->Length && uart->RxCount > 0; ++taken) {
    take->Buffer[taken] = uart->RxBuffer[uart->RxHead];
    uart->RxHead = (uart->RxHead + 1) % UART_RX_BUFFER_SIZE;
    uart->RxCount -= 1;
  }
  take->Length = taken;
  return TRUE;
}

ULONG UartRead(PUART_EXTENSION Uart, PUCHAR Buffer, ULONG Length) {
  UART_TAKE_RECEIVED take;
  take.Uart = Uart;
  take.Buffer = Buffer;
  take.Length = Length;
  KeSynchronizeExecution(Uart->Line.Interrupt, UartTakeReceived, &take);
  return take.Length;
}

static BOOLEAN UartCopyStatistics(PVOID SynchronizeContext) {
  UART_COPY_STATISTICS *copy = (UART_COPY_STATISTICS *)SynchronizeContext;
  *copy->Statistics = copy->Uart->Statistics;
  return TRUE;
}

VOID UartQueryStatistics(PUART_EXTENSION Uart, PUART_STATISTICS Statistics) {
  UART_COPY_STATISTICS copy;
  copy.Uart = Uart;
  copy.Statistics = Statistics;
  KeSynchronizeExecution(Uart->Line.Interrupt, UartCopyStatistics, &copy);
}
