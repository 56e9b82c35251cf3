// shared_line_demo: a network card and a serial port share one level-triggered interrupt line
// of a simulated four-processor machine. Each has its own plain-C driver (nic_driver.c,
// uart_driver.c) that connects its ISR with IoConnectInterrupt from the translated resources,
// claims only its own device's interrupts and acknowledges them in the device's status
// register. Then a driver bug (a spin lock taken twice) becomes a bug-check report instead of a
// hung machine.

#include <fmt/format.h>
#include <irqsim/machine.hpp>
#include <wdm.h>

#include <cstdlib>

#include "shared_line_scenario.hpp"
#include "summary.hpp"

namespace {

void demonstrate_a_driver_bug(irqsim::Machine& machine) {
  fmt::print("\nA driver bug: processor 1 acquires the same spin lock twice.\n");
  try {
    machine.run_on(1, [] {
      KSPIN_LOCK lock;
      KIRQL first = PASSIVE_LEVEL;
      KIRQL second = PASSIVE_LEVEL;
      KeInitializeSpinLock(&lock);
      KeAcquireSpinLock(&lock, &first);
      KeAcquireSpinLock(&lock, &second);  // a real machine would hang here
    });
  } catch (const irqsim::BugCheckError& bug_check) {
    fmt::print("The simulated machine bug-checked instead of hanging:\n{}\n", bug_check.what());
  }
}

}  // namespace

int main() {
  irqsim::Machine machine({.processors = 4});
  fmt::print("A network card and a serial port share line {:#x} (IRQL {}, level-triggered) on {} processors.\n\n",
             kSharedLine.vector, kSharedLine.irql, machine.processor_count());

  const ScenarioResult result = run_shared_line(machine);
  print_result(result);
  print_machine_summary(machine, {result});
  fmt::print("\nResult: {}\n", result.accounted ? "every packet and byte accounted for." : "packets or bytes were lost!");

  demonstrate_a_driver_bug(machine);
  return result.accounted ? EXIT_SUCCESS : EXIT_FAILURE;
}
