#include "irqsim/leak_report.hpp"

#include <fmt/format.h>

namespace irqsim {

std::string LeakReport::to_string() const {
  std::string text = "irqsim: the machine was torn down while a driver still held resources:";
  for (const ConnectedInterrupt& interrupt : interrupts) {
    text += fmt::format("\n  interrupt object {:#x} still connected to vector {:#x} (ISR {:#x}, context {:#x}): "
                        "IoDisconnectInterrupt(Ex) was never called",
                        interrupt.interrupt_object, interrupt.vector, interrupt.service_routine,
                        interrupt.service_context);
  }
  for (const QueuedDpc& dpc : dpcs) {
    text += fmt::format("\n  DPC {:#x} (routine {:#x}) still queued on processor {}: it never ran", dpc.dpc,
                        dpc.deferred_routine, dpc.processor);
  }
  for (const HeldLocks& held : locks) {
    text += fmt::format("\n  {} spin lock{} of IRQL {} still held on processor {}", held.count,
                        held.count == 1 ? "" : "s", held.irql, held.processor);
  }
  return text;
}

}  // namespace irqsim
