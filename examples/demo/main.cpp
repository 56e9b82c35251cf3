// irqsim_demo: the three example drivers on one simulated four-processor machine, one after the
// other: two different devices sharing a level-triggered line (C), a four-queue MSI-X device
// with a DPC per queue (C), and an audio miniport on port class's IInterruptSync (C++). Then what
// the machine saw: interrupts per processor, and per vector the deliveries and the latency from
// a line or message being raised to a processor taking it.

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "audio_adapter_scenario.hpp"
#include "msix_queues_scenario.hpp"
#include "shared_line_scenario.hpp"
#include "summary.hpp"

int main() {
  const auto start = std::chrono::steady_clock::now();
  irqsim::Machine machine({.processors = 4});
  fmt::print("A simulated machine with {} processors runs three drivers' interrupt paths.\n\n",
             machine.processor_count());

  const std::vector<ScenarioResult> results{run_shared_line(machine), run_msix_queues(machine),
                                            run_audio_adapter(machine)};
  for (const ScenarioResult& result : results) print_result(result);
  print_machine_summary(machine, results);

  const bool all = std::ranges::all_of(results, &ScenarioResult::accounted);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  fmt::print("\n{} ({:.1f} s).\n", all ? "All three drivers accounted for every event" : "EVENTS WERE LOST",
             elapsed.count());
  fmt::print("Each example has its own program and GoogleTest suite: examples/*/main.cpp and *_test.cpp.\n");
  return all ? EXIT_SUCCESS : EXIT_FAILURE;
}
