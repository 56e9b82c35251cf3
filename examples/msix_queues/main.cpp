// msix_queues_demo: a device with four queues, one MSI-X message per queue, each message
// aimed at its own processor. The C driver in queue_driver.c connects one message ISR with
// IoConnectInterruptEx; each ISR reads its queue's read-to-clear completion register and queues
// the queue's DPC, which processes the completions on the same processor.

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <random>

#include "queue_driver.h"

namespace {

constexpr unsigned kProcessors = 4;
constexpr unsigned kCompletions = 4000;

irqsim::DeviceConfig queue_device() {
  irqsim::DeviceConfig config{.name = "queues", .message_kind = irqsim::MessageKind::MsiX, .register_bytes = 0x100};
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    config.messages.push_back({.vector = 0x60 + queue,
                               .irql = static_cast<irqsim::Irql>(5 + queue),
                               .affinity = std::uint64_t{1} << (queue % kProcessors)});
  }
  return config;
}

}  // namespace

int main() {
  irqsim::Machine machine({.processors = kProcessors});
  irqsim::Device device = machine.plug(queue_device());

  // The hardware: per-queue counters of completions not yet reported, cleared by a read.
  std::array<std::atomic<unsigned>, QUEUE_COUNT> unreported{};
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    device.on_read(queue * QUEUE_REGISTER_STRIDE,
                   [&unreported, queue](std::uint64_t, unsigned) -> std::uint64_t { return unreported[queue].exchange(0); });
  }

  QUEUE_EXTENSION extension;
  if (!NT_SUCCESS(QueueStartDevice(&extension, device.pdo(), device.translated_resources()))) {
    fmt::print(stderr, "start device failed\n");
    return EXIT_FAILURE;
  }
  fmt::print("IoConnectInterruptEx connected {} messages (UnifiedIrql {}):\n", extension.Messages->MessageCount,
             extension.Messages->UnifiedIrql);
  for (ULONG id = 0; id < extension.Messages->MessageCount; ++id) {
    const IO_INTERRUPT_MESSAGE_INFO_ENTRY& entry = extension.Messages->MessageInfo[id];
    fmt::print("  message {}: vector {:#x}, IRQL {}, processors {:#x}\n", id, entry.Vector, entry.Irql,
               entry.TargetProcessorSet);
  }

  std::mt19937 traffic(7);
  std::array<unsigned, QUEUE_COUNT> sent{};
  for (unsigned i = 0; i < kCompletions; ++i) {
    const auto queue = static_cast<unsigned>(traffic() % QUEUE_COUNT);
    ++unreported[queue];
    ++sent[queue];
    device.signal_message(queue);
  }
  machine.wait_until_quiescent();

  bool all = true;
  for (ULONG queue = 0; queue < QUEUE_COUNT; ++queue) {
    ULONG processor = 0;
    ULONG dpc_runs = 0;
    const ULONG completed = QueueCompleted(&extension, queue, &processor, &dpc_runs);
    fmt::print("  queue {}: {} of {} completions, {} ISR calls, {} DPC runs on processor {}\n", queue, completed,
               sent[queue], machine.stats(0x60 + queue).claimed, dpc_runs, processor);
    all = all && completed == sent[queue];
  }
  fmt::print("Messages that arrived before the last one was taken merged with it, and ISR calls before the\n"
             "queue's DPC ran merged into one DPC run: the counts still add up.\n");
  QueueStopDevice(&extension);
  fmt::print("{}\n", all ? "Result: every completion accounted for." : "Result: completions were lost!");
  return all ? EXIT_SUCCESS : EXIT_FAILURE;
}
