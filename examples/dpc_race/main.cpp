// dpc_race_demo: a race ordinary runs show only by chance, found by the deterministic mode.
//
// The packet receiver's DPC (rx_driver.c) takes frames off a count it shares with the ISR
// without KeSynchronizeExecution: the bug planted on purpose. The demo runs the same traffic
// four ways: free-running, as an ordinary test would, many times; then under deterministic
// schedules (irqsim::explore) until one loses a frame; then that schedule again, which loses
// the same frame the same way, event for event; then the fixed driver under every schedule the
// search tried and more.

#include <fmt/format.h>
#include <irqsim/explore.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/schedule.hpp>
#include <irqsim/trace.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "dpc_race_scenario.hpp"

namespace {

constexpr unsigned kFreeRunningRuns = 100;
// The most deterministic runs the search makes, and the schedules the fixed driver must pass.
constexpr unsigned kSearchRuns = 200;

// The racy driver run as an ordinary test runs it, on fresh free-running machines.
void run_free(const WireTraffic& traffic) {
  std::uint64_t frames = 0;
  std::uint64_t lost = 0;
  unsigned losing_runs = 0;
  for (unsigned run = 0; run < kFreeRunningRuns; ++run) {
    irqsim::Machine machine({.processors = 2, .mode = irqsim::ExecutionMode::FreeRunning});
    const ReceiveRun result = run_receive_traffic(machine, kRacyDriver, traffic);
    frames += result.device.frames_arrived;
    lost += result.frames_lost();
    if (!result.every_frame_passed_up_once()) ++losing_runs;
  }
  fmt::print("1. Free-running, as an ordinary test runs it: {} runs, {} frames, {} lost, {} run{} with a loss.\n"
             "   Whether a run loses a frame depends on when the host happens to run each processor thread and\n"
             "   fire each timer (its timers cannot put a frame 672 ns behind the one before it), so an ordinary\n"
             "   test can rely neither on seeing the race nor on not seeing it, and cannot show it again.\n\n",
             kFreeRunningRuns, frames, lost, losing_runs, losing_runs == 1 ? "" : "s");
}

// The explorations the demo makes: both the search and the replay use this base schedule.
irqsim::Exploration search_for(irqsim::ScheduleStrategy strategy, unsigned runs, std::uint64_t first_seed) {
  return {.runs = runs, .strategy = strategy, .first_seed = first_seed};
}

// The fixed driver under the schedules [1, runs] of both strategies.
bool fixed_driver_passes(const WireTraffic& traffic, unsigned runs) {
  bool passed = true;
  for (const irqsim::ScheduleStrategy strategy : {irqsim::ScheduleStrategy::Random, irqsim::ScheduleStrategy::Pct}) {
    const irqsim::ExplorationResult result =
        irqsim::explore(search_for(strategy, runs, 1), [&traffic] { receive_and_check(kFixedDriver, traffic); });
    fmt::print("   {}: {}\n", irqsim::to_string(strategy),
               result.failing ? fmt::format("FAILED: {}", result.to_string()) : result.to_string());
    passed = passed && !result.failing;
  }
  return passed;
}

}  // namespace

int main() {
  const WireTraffic traffic;
  fmt::print("A packet receiver on a two-processor machine. Its ISR adds newly arrived frames to PendingFrames\n"
             "and queues its DPC; the DPC reads PendingFrames, passes that many frames up (register accesses)\n"
             "and writes back what it read minus what it passed up, without KeSynchronizeExecution. An ISR\n"
             "that runs in between -- on the other processor, or on the DPC's own, above DISPATCH_LEVEL --\n"
             "has its frames overwritten: they stay in the ring and are never passed up.\n"
             "Every run: {} bursts of {} frames at gigabit spacing, {} frames.\n\n",
             traffic.bursts, traffic.frames_per_burst, traffic.frames());

  run_free(traffic);

  // irqsim::explore reports a failing run on stderr: what is printed so far goes first.
  std::fflush(stdout);

  // 2. The search. The trace of each run is kept; the search stops at the first failing run,
  // so afterwards it holds that run's.
  const irqsim::Exploration search = search_for(irqsim::ScheduleStrategy::Random, kSearchRuns, 1);
  irqsim::Trace failing_trace;
  const irqsim::ExplorationResult found =
      irqsim::explore(search, [&] { receive_and_check(kRacyDriver, traffic, &failing_trace); });
  if (!found.failing) {
    fmt::print("2. Deterministic: {} random schedules, no frame lost. The race was not found.\n", found.runs);
    return EXIT_FAILURE;
  }
  fmt::print("2. Deterministic, one processor at a time, the scheduler choosing at every WDK call and for\n"
             "   every interrupt where it lands: run {} of the {} ({}) lost a frame:\n"
             "     {}\n"
             "   Replay it with {}\n",
             found.runs, found.replayed ? "replay IRQSIM_SEED asked for" : "search", found.failing->to_string(),
             found.failure, found.replay);
  // The other strategy finds it too.
  std::fflush(stdout);
  const irqsim::ExplorationResult found_by_pct = irqsim::explore(
      search_for(irqsim::ScheduleStrategy::Pct, kSearchRuns, 1), [&] { receive_and_check(kRacyDriver, traffic); });
  fmt::print("   Under PCT schedules: {}\n\n",
             found_by_pct.failing ? fmt::format("run {} ({}) lost a frame", found_by_pct.runs,
                                                found_by_pct.failing->to_string())
                                  : fmt::format("no frame lost in {} runs", found_by_pct.runs));

  // 3. The failing schedule once more: the same loss, the same trace event for event.
  irqsim::Trace replay_trace;
  std::fflush(stdout);
  const irqsim::ExplorationResult replayed =
      irqsim::replay(*found.failing, [&] { receive_and_check(kRacyDriver, traffic, &replay_trace); });
  const std::optional<std::string> difference = failing_trace.difference_from(replay_trace);
  const bool same = replayed.failing && replayed.failure == found.failure && !difference;
  fmt::print("3. The same schedule again: {}\n   {}; the traces ({} events) {}.\n\n",
             replayed.failing ? replayed.failure : std::string("no frame lost"),
             replayed.failure == found.failure ? "the same loss" : "A DIFFERENT OUTCOME", failing_trace.event_count(),
             difference ? fmt::format("DIFFER: {}", *difference) : std::string("are identical"));

  // 4. The fixed driver under every schedule the searches tried, and more: as many as they could have.
  fmt::print("4. The fixed driver (the DPC takes its frames inside KeSynchronizeExecution), the same searches:\n");
  const bool fixed = fixed_driver_passes(traffic, kSearchRuns);

  const bool shown = same && found_by_pct.failing && fixed;
  fmt::print("\nResult: {}\n", shown ? "the race was found, replayed and fixed." : "the demonstration FAILED.");
  return shown ? EXIT_SUCCESS : EXIT_FAILURE;
}
