/* The queue card's register block, as its datasheet would give it. The driver and the simulated
 * card both include this, so they cannot disagree about an offset. Every register is 32 bits. */
#ifndef QUEUE_REGISTERS_H
#define QUEUE_REGISTERS_H

/* Completion queues on the card; with MSI-X, message q belongs to queue q. */
#define QUEUE_COUNT 4

/* Queue q's registers start at q * QUEUE_REGISTER_STRIDE. */
#define QUEUE_REGISTER_STRIDE 0x10
/* Read-to-clear: how many requests queue q completed since the register was last read. */
#define QUEUE_COMPLETIONS(q) ((q) * QUEUE_REGISTER_STRIDE + 0x0)
/* Write: the driver has processed this many of queue q's completions, so the card may reuse
 * their ring slots. */
#define QUEUE_DOORBELL(q) ((q) * QUEUE_REGISTER_STRIDE + 0x4)

/* Read-only: bit q is set while queue q has completions its register has not reported yet. A
 * line-interrupt ISR reads it to learn whether the card (and which queues) raised the line. */
#define QUEUE_INTERRUPT_CAUSE 0x40
/* 1: the card signals completions (queue q's message, or its line while any cause bit is set);
 * 0: it only counts them, and its line is released. */
#define QUEUE_INTERRUPT_ENABLE 0x44

#define QUEUE_REGISTER_BYTES 0x100

#endif
