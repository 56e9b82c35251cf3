// irqsim_demo: the three example drivers on one simulated four-processor machine, one after the
// other: two different devices sharing a level-triggered line (C), a four-queue MSI-X device
// with a DPC per queue (C), and an audio miniport on port class's IInterruptSync (C++). Then what
// the machine saw: interrupts per processor, and per vector the deliveries and the latency from
// a line or message being raised to a processor taking it. The machine records a trace of the
// whole run, which it writes as irqsim-demo-trace.json (open it in https://ui.perfetto.dev) and
// irqsim-demo-trace.svg (open it in a browser) into the directory given as the first argument,
// or the working directory.

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <vector>

#include "audio_adapter_scenario.hpp"
#include "msix_queues_scenario.hpp"
#include "shared_line_scenario.hpp"
#include "summary.hpp"

namespace {

// Writes the machine's trace; says where, or why it could not.
void write_trace(const irqsim::Machine& machine, const std::filesystem::path& directory) {
  try {
    const irqsim::Trace trace = machine.trace();
    const std::filesystem::path json = std::filesystem::absolute(directory / "irqsim-demo-trace.json");
    const std::filesystem::path svg = std::filesystem::absolute(directory / "irqsim-demo-trace.svg");
    trace.write_chrome_json(json);
    trace.write_svg(svg);
    fmt::print("\nThe trace of the whole run ({} events on {} tracks) is in\n  {}  (open it in https://ui.perfetto.dev "
               "or chrome://tracing)\n  {}  (the same as a picture: open it in a browser)\n",
               trace.event_count(), trace.tracks.size(), json.string(), svg.string());
  } catch (const std::exception& error) {
    fmt::print("\nThe trace could not be written: {}\n", error.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  irqsim::Machine machine({.processors = 4, .trace = irqsim::TraceRecording::On});
  fmt::print("A simulated machine with {} processors runs three drivers' interrupt paths.\n\n",
             machine.processor_count());

  const std::vector<ScenarioResult> results{run_shared_line(machine), run_msix_queues(machine),
                                            run_audio_adapter(machine)};
  for (const ScenarioResult& result : results) print_result(result);
  print_machine_summary(machine, results);
  write_trace(machine, argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::current_path());

  const bool all = std::ranges::all_of(results, &ScenarioResult::accounted);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  fmt::print("\n{} ({:.1f} s).\n", all ? "All three drivers accounted for every event" : "EVENTS WERE LOST",
             elapsed.count());
  fmt::print("Each example has its own program and GoogleTest suite: examples/*/main.cpp and *_test.cpp.\n");
  return all ? EXIT_SUCCESS : EXIT_FAILURE;
}
