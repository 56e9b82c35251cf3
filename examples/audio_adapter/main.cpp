// audio_adapter_demo: an audio card's wave engine and MIDI input share one level-triggered
// line. The miniport (audio_miniport.cpp) gets an IInterruptSync from port class, registers a
// wave and a MIDI service routine on it and connects; its stream side, running on another
// processor, reads their progress with CallSynchronizedRoutine while the card plays and
// receives (audio_adapter_scenario.cpp).

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <cstdlib>

#include "audio_adapter_scenario.hpp"
#include "summary.hpp"

int main() {
  irqsim::Machine machine({.processors = 4});
  const ScenarioResult result = run_audio_adapter(machine);
  print_result(result);
  print_machine_summary(machine, {result});
  fmt::print("\nResult: {}\n",
             result.accounted ? "every wave period and MIDI byte accounted for." : "events were lost!");
  return result.accounted ? EXIT_SUCCESS : EXIT_FAILURE;
}
