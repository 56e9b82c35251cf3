// msix_queues_demo: the C driver in queue_driver.c on a four-queue card with one MSI-X message
// per queue, each aimed at its own processor, and then on a card the system gives no messages,
// where IoConnectInterruptEx falls back to the driver's line ISR. Shows what each connection
// returned, then what the driver and the machine counted.

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <cstdlib>

#include "msix_queues_scenario.hpp"
#include "summary.hpp"

namespace {

// The message table IoConnectInterruptEx returned, or the single line object of the fallback.
void print_connection(const QueueCard& card, const QUEUE_EXTENSION& extension) {
  if (extension.ConnectVersion == CONNECT_LINE_BASED) {
    GROUP_AFFINITY affinity{};
    if (!NT_SUCCESS(IoGetAffinityInterrupt(extension.Connection.InterruptObject, &affinity))) {
      fmt::print("{}: IoGetAffinityInterrupt failed\n", card.device().name());
    }
    fmt::print("{}: no messages, so IoConnectInterruptEx connected the fallback ISR line-based\n"
               "  (Version CONNECT_LINE_BASED): one interrupt object for all {} queues, processors {:#x}\n\n",
               card.device().name(), QUEUE_COUNT, affinity.Mask);
    return;
  }
  const IO_INTERRUPT_MESSAGE_INFO& table = *extension.Connection.InterruptMessageTable;
  fmt::print("{}: IoConnectInterruptEx connected {} messages (Version CONNECT_MESSAGE_BASED, UnifiedIrql {}):\n",
             card.device().name(), table.MessageCount, table.UnifiedIrql);
  for (ULONG id = 0; id < table.MessageCount; ++id) {
    const IO_INTERRUPT_MESSAGE_INFO_ENTRY& entry = table.MessageInfo[id];
    fmt::print("  message {}: vector {:#x}, IRQL {}, processors {:#x}\n", id, entry.Vector, entry.Irql,
               entry.TargetProcessorSet);
  }
  fmt::print("\n");
}

}  // namespace

int main() {
  irqsim::Machine machine({.processors = 4});
  const ScenarioResult result = run_msix_queues(machine, print_connection);
  print_result(result);
  print_machine_summary(machine, {result});
  fmt::print("\n{}\n", result.accounted ? "Result: every completion accounted for." : "Result: completions were lost!");
  return result.accounted ? EXIT_SUCCESS : EXIT_FAILURE;
}
