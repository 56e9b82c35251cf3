#pragma once
// The simulated queue card (test-side C++). Four completion queues count finished requests in
// read-to-clear registers (queue_registers.h) and announce them with one MSI-X message per queue
// or, on a card the system gives no messages, with a level-triggered shared line. It also records
// what the driver did to it: where each register access came from and what the doorbells
// handed back, so tests and the scenario can check the driver from the hardware's side.

#include <irqsim/machine.hpp>
#include <wdm.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "queue_registers.h"

// How the card announces completions.
enum class CardInterrupts {
  // Message q (vector 0x70 + q) for queue q, each aimed at its own processor.
  MsiX,
  // Only the legacy line 0x53 (IRQL 5, level-triggered, shareable) for all queues.
  LineOnly,
};

// The processor and IRQL a register access ran at.
struct RegisterAccess {
  unsigned processor = 0;
  KIRQL irql = PASSIVE_LEVEL;
};

// A handle: copies refer to the same card. Its state lives as long as the machine's device
// holds its register handlers, so a scenario's card may go out of scope before the machine.
class QueueCard {
 public:
  static constexpr std::uint32_t kFirstMessageVector = 0x70;
  static constexpr std::uint32_t kLineVector = 0x53;
  static constexpr irqsim::Irql kLineIrql = 5;

  // Message q runs at IRQL 7 (queues 0, 1) or 8 (queues 2, 3).
  static irqsim::Irql message_irql(unsigned queue);
  // The processor message q is aimed at: queue q % processors, so every processor gets a queue.
  static unsigned message_processor(unsigned queue, unsigned processors);

  // Plugs a card into the machine, with its interrupts disabled until the driver enables them.
  QueueCard(irqsim::Machine& machine, CardInterrupts interrupts, std::string name);

  // The card finished `count` requests on `queue`: it counts them and, while its interrupts are
  // enabled, sends the queue's message or asserts its line.
  void complete(unsigned queue, unsigned count = 1);

  [[nodiscard]] irqsim::Device device() const;
  [[nodiscard]] CardInterrupts interrupts() const;
  [[nodiscard]] bool interrupts_enabled() const;
  // Completions the card produced on the queue, and how many the driver handed back through
  // the queue's doorbell.
  [[nodiscard]] std::uint64_t produced(unsigned queue) const;
  [[nodiscard]] std::uint64_t doorbelled(unsigned queue) const;
  // Where the driver last read the queue's completion register (its ISR) and last rang the
  // queue's doorbell (its DPC); nothing if it never did.
  [[nodiscard]] std::optional<RegisterAccess> last_completions_read(unsigned queue) const;
  [[nodiscard]] std::optional<RegisterAccess> last_doorbell(unsigned queue) const;
  // Reads of the cause register: how often a line ISR asked whether the card raised the line.
  [[nodiscard]] std::uint64_t cause_reads() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};
