#include "queue_card.hpp"

#include <array>
#include <mutex>
#include <utility>

// Everything behind one mutex: a completion, the driver's read that clears it and the line
// they both drive must not interleave, or the line could drop while a queue still has work.
// WDK routines (preemption points, where a higher message's ISR could come in and read a
// register of this card) are called only outside it.
struct QueueCard::State {
  State(irqsim::Device plugged, CardInterrupts signalling) : device(plugged), interrupts(signalling) {}

  // The line follows the cause bits while interrupts are enabled. Called with the mutex held.
  void update_line() {
    if (interrupts != CardInterrupts::LineOnly) return;
    if (enabled && cause() != 0) {
      device.assert_line();
    } else {
      device.deassert_line();
    }
  }

  [[nodiscard]] std::uint32_t cause() const {
    std::uint32_t bits = 0;
    for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
      if (unreported[queue] != 0) bits |= 1u << queue;
    }
    return bits;
  }

  irqsim::Device device;
  const CardInterrupts interrupts;
  mutable std::mutex mutex;
  bool enabled = false;
  std::array<std::uint32_t, QUEUE_COUNT> unreported{};
  std::array<std::uint64_t, QUEUE_COUNT> produced{};
  std::array<std::uint64_t, QUEUE_COUNT> doorbelled{};
  std::array<std::optional<RegisterAccess>, QUEUE_COUNT> last_read{};
  std::array<std::optional<RegisterAccess>, QUEUE_COUNT> last_doorbell{};
  std::uint64_t cause_reads = 0;
};

namespace {

RegisterAccess here() { return {KeGetCurrentProcessorNumberEx(nullptr), KeGetCurrentIrql()}; }

irqsim::DeviceConfig card_config(CardInterrupts interrupts, std::string name, unsigned processors) {
  irqsim::DeviceConfig config{.name = std::move(name), .register_bytes = QUEUE_REGISTER_BYTES};
  if (interrupts == CardInterrupts::MsiX) {
    config.message_kind = irqsim::MessageKind::MsiX;
    for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
      config.messages.push_back({.vector = QueueCard::kFirstMessageVector + queue,
                                 .irql = QueueCard::message_irql(queue),
                                 .affinity = std::uint64_t{1} << QueueCard::message_processor(queue, processors)});
    }
  } else {
    config.lines.push_back({.vector = QueueCard::kLineVector,
                            .irql = QueueCard::kLineIrql,
                            .trigger = irqsim::Trigger::Level,
                            .shareable = true});
  }
  return config;
}

}  // namespace

irqsim::Irql QueueCard::message_irql(unsigned queue) { return static_cast<irqsim::Irql>(7 + queue / 2); }

unsigned QueueCard::message_processor(unsigned queue, unsigned processors) { return queue % processors; }

QueueCard::QueueCard(irqsim::Machine& machine, CardInterrupts interrupts, std::string name)
    : state_(std::make_shared<State>(machine.plug(card_config(interrupts, std::move(name), machine.processor_count())),
                                     interrupts)) {
  // The handlers share the state, not this handle: they outlive it on the machine's device.
  irqsim::Device device = state_->device;
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    device.on_read(QUEUE_COMPLETIONS(queue), [state = state_, queue](std::uint64_t, unsigned) -> std::uint64_t {
      const RegisterAccess access = here();
      std::lock_guard lock(state->mutex);
      const std::uint32_t completions = std::exchange(state->unreported[queue], 0);
      state->last_read[queue] = access;
      state->update_line();
      return completions;
    });
    device.on_write(QUEUE_DOORBELL(queue), [state = state_, queue](std::uint64_t, unsigned, std::uint64_t value) {
      const RegisterAccess access = here();
      std::lock_guard lock(state->mutex);
      state->doorbelled[queue] += value;
      state->last_doorbell[queue] = access;
    });
  }
  device.on_read(QUEUE_INTERRUPT_CAUSE, [state = state_](std::uint64_t, unsigned) -> std::uint64_t {
    std::lock_guard lock(state->mutex);
    ++state->cause_reads;
    return state->cause();
  });
  device.on_write(QUEUE_INTERRUPT_ENABLE, [state = state_](std::uint64_t, unsigned, std::uint64_t value) {
    std::lock_guard lock(state->mutex);
    state->enabled = value != 0;
    // Completions counted while disabled are announced now rather than left waiting.
    if (state->enabled && state->interrupts == CardInterrupts::MsiX) {
      for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
        if (state->unreported[queue] != 0) state->device.signal_message(queue);
      }
    }
    state->update_line();
  });
}

void QueueCard::complete(unsigned queue, unsigned count) {
  std::lock_guard lock(state_->mutex);
  state_->unreported.at(queue) += count;
  state_->produced[queue] += count;
  if (!state_->enabled) return;
  if (state_->interrupts == CardInterrupts::MsiX) {
    state_->device.signal_message(queue);
  } else {
    state_->update_line();
  }
}

irqsim::Device QueueCard::device() const { return state_->device; }

CardInterrupts QueueCard::interrupts() const { return state_->interrupts; }

bool QueueCard::interrupts_enabled() const {
  std::lock_guard lock(state_->mutex);
  return state_->enabled;
}

std::uint64_t QueueCard::produced(unsigned queue) const {
  std::lock_guard lock(state_->mutex);
  return state_->produced.at(queue);
}

std::uint64_t QueueCard::doorbelled(unsigned queue) const {
  std::lock_guard lock(state_->mutex);
  return state_->doorbelled.at(queue);
}

std::optional<RegisterAccess> QueueCard::last_completions_read(unsigned queue) const {
  std::lock_guard lock(state_->mutex);
  return state_->last_read.at(queue);
}

std::optional<RegisterAccess> QueueCard::last_doorbell(unsigned queue) const {
  std::lock_guard lock(state_->mutex);
  return state_->last_doorbell.at(queue);
}

std::uint64_t QueueCard::cause_reads() const {
  std::lock_guard lock(state_->mutex);
  return state_->cause_reads;
}
