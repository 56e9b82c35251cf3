// The proof that the deterministic mode finds a real race: the packet receiver's DPC takes
// frames off a count it shares with its ISR without KeSynchronizeExecution (rx_driver.c, the bug
// planted on purpose). Free-running, whether the race shows depends on the host's timing, so that
// test only reports what it saw. irqsim::explore searches deterministic schedules and finds a
// losing one within a bound, under both strategies; the losing schedule replays exactly; and the
// fixed driver passes every schedule the searches tried, and more.
//
// No seed here is known to fail in advance: every test searches from its first seed, and the
// replays use the seed the search returned.

#include <fmt/format.h>
#include <irqsim/explore.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/schedule.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "dpc_race_scenario.hpp"

namespace {

using ::testing::HasSubstr;

// Every run: the scenario's traffic, two bursts of eight frames at gigabit spacing, each with a
// minimum-size frame arriving 672 ns behind a full-size one, while the DPC of that one runs.
const WireTraffic kTraffic{};

// The most schedules a search may try. Measured on this scenario: 66 % of random schedules and
// 60 % of PCT ones lose a frame (seeds 1 to 1000); over 20 searches each (first seeds 1, 101,
// ..., 1901) the first losing run came at run 1.25 on average and never later than run 2
// (random), 1.35 and 3 (PCT).
// 200 leaves a wide margin: even if a library change made only one schedule in 20 lose a frame,
// a search would find one within 200 runs with probability above 99.99 %.
constexpr unsigned kSearchBound = 200;

// The schedules the fixed driver must pass, at least: as many as a whole search may try.
constexpr unsigned kFixedSchedules = kSearchBound;

// With IRQSIM_SEED set, irqsim::explore replays that one schedule instead of searching.
bool environment_replays_one_schedule() { return irqsim::schedule_from_environment().has_value(); }

irqsim::ExplorationResult search(const RX_CONFIG& config, irqsim::ScheduleStrategy strategy, std::uint64_t first_seed,
                                 unsigned runs = kSearchBound) {
  return irqsim::explore({.runs = runs, .strategy = strategy, .first_seed = first_seed},
                         [&config] { receive_and_check(config, kTraffic); });
}

// One schedule of the racy driver, exactly as the search ran it, and the trace of its machine.
struct Replay {
  irqsim::ExplorationResult result;
  irqsim::Trace trace;
};

Replay replay(const irqsim::Schedule& schedule) {
  Replay replayed;
  replayed.result =
      irqsim::replay(schedule, [&replayed] { receive_and_check(kRacyDriver, kTraffic, &replayed.trace); });
  return replayed;
}

// The baseline: a frame that arrives alone, with nothing else going on, is passed up by both
// drivers. The racy one is wrong only when an ISR runs inside its DPC's read-modify-write.
TEST(DpcRace, BothDriversPassUpFramesThatArriveOneAtATime) {
  for (const RX_CONFIG& config : {kRacyDriver, kFixedDriver}) {
    irqsim::Machine machine({.processors = 2, .mode = irqsim::ExecutionMode::FreeRunning});
    RxDevice receiver(machine, kReceiverLine, "rx");
    RX_EXTENSION rx{};
    ASSERT_EQ(RxStartDevice(&rx, &config, receiver.device().translated_resources()), STATUS_SUCCESS);
    for (const std::uint32_t length : {64u, 1518u, 590u}) {
      receiver.receive_frame(length);
      machine.wait_until_quiescent();
    }
    RX_STATISTICS seen{};
    RxQueryStatistics(&rx, &seen);
    RxStopDevice(&rx);
    EXPECT_EQ(seen.FramesAnnounced, 3u);
    EXPECT_EQ(seen.FramesPassedUp, 3u);
    EXPECT_EQ(seen.BytesPassedUp, 64u + 1518u + 590u);
    EXPECT_EQ(seen.PendingFrames, 0u);
    EXPECT_EQ(receiver.counts().frames_released, 3u);
    EXPECT_EQ(receiver.counts().frames_in_ring, 0u);
  }
}

// (a) Free-running, the host decides when each processor runs and when each frame arrives (its
// timers put the frames of a burst tens of microseconds apart, not 672 ns), so whether the ISR
// runs inside the DPC's window is up to the host's timing. Measured: an optimized build lost no
// frame in 500 runs; the ThreadSanitizer build, whose code runs many times slower against the
// same timers, lost frames in 30 to 95 % of its runs. Either way a failure could not be shown
// again. So the test reports the losses and asserts nothing about them: only that the traffic
// ran, and that the ISR announced every frame (a loss, when there is one, is the DPC's).
TEST(DpcRace, FreeRunningLossesDependOnTheHostSoTheyAreOnlyReported) {
  constexpr unsigned kRuns = 50;
  std::uint64_t frames = 0;
  std::uint64_t announced = 0;
  std::uint64_t lost = 0;
  int runs_with_a_loss = 0;
  for (unsigned run = 0; run < kRuns; ++run) {
    irqsim::Machine machine({.processors = 2, .mode = irqsim::ExecutionMode::FreeRunning});
    const ReceiveRun result = run_receive_traffic(machine, kRacyDriver, kTraffic);
    ASSERT_EQ(result.start_status, STATUS_SUCCESS);
    frames += result.device.frames_arrived;
    announced += result.driver.FramesAnnounced;
    lost += result.frames_lost();
    if (!result.every_frame_passed_up_once()) ++runs_with_a_loss;
  }
  RecordProperty("free_running_runs", static_cast<int>(kRuns));
  RecordProperty("frames", static_cast<int>(frames));
  RecordProperty("frames_lost", static_cast<int>(lost));
  RecordProperty("runs_with_a_loss", runs_with_a_loss);
  fmt::print("free-running, racy driver: {} runs, {} frames, {} lost, {} runs with a loss\n", kRuns, frames, lost,
             runs_with_a_loss);
  EXPECT_EQ(frames, std::uint64_t{kRuns} * kTraffic.frames());
  EXPECT_EQ(announced, frames);
}

// The strategy a parameterized test searches with; printed by name in the test's name.
struct Strategy {
  irqsim::ScheduleStrategy strategy;
};

void PrintTo(const Strategy& strategy, std::ostream* os) { *os << irqsim::to_string(strategy.strategy); }

class DpcRaceExploration : public ::testing::TestWithParam<Strategy> {
 protected:
  void SetUp() override {
    if (environment_replays_one_schedule()) GTEST_SKIP() << "IRQSIM_SEED is set: irqsim::explore would not search";
  }
  static irqsim::ScheduleStrategy strategy() { return GetParam().strategy; }
};

// (b) Searching deterministic schedules finds a lost frame within the bound, from wherever the
// search starts.
TEST_P(DpcRaceExploration, FindsTheLostFrameWithinTheBound) {
  for (const std::uint64_t first_seed : {std::uint64_t{1}, std::uint64_t{10'001}, std::uint64_t{20'001}}) {
    const irqsim::ExplorationResult result = search(kRacyDriver, strategy(), first_seed);
    ASSERT_TRUE(result.failing.has_value()) << "no lost frame in " << result.runs << " schedules from seed "
                                            << first_seed;
    EXPECT_LE(result.runs, kSearchBound);
    EXPECT_EQ(result.failing->seed, first_seed + result.runs - 1);
    EXPECT_EQ(result.failing->strategy, strategy());
    EXPECT_THAT(result.failure, HasSubstr("left in the receive ring"));
    EXPECT_THAT(result.replay, HasSubstr(fmt::format("IRQSIM_SEED={}", result.failing->seed)));
    RecordProperty(fmt::format("runs_to_find_from_seed_{}", first_seed), static_cast<int>(result.runs));
  }
}

// (c) The losing schedule, run twice more, loses the same frames the same way: the same failure
// and, event for event, the same trace as each other and as the search's run.
TEST_P(DpcRaceExploration, TheLosingScheduleReplaysExactly) {
  irqsim::Trace searched_trace;
  const irqsim::ExplorationResult found =
      irqsim::explore({.runs = kSearchBound, .strategy = strategy(), .first_seed = 1},
                      [&searched_trace] { receive_and_check(kRacyDriver, kTraffic, &searched_trace); });
  ASSERT_TRUE(found.failing.has_value());

  const Replay first = replay(*found.failing);
  const Replay second = replay(*found.failing);
  ASSERT_TRUE(first.result.failing.has_value());
  ASSERT_TRUE(second.result.failing.has_value());
  EXPECT_EQ(first.result.failing, found.failing);
  EXPECT_EQ(first.result.failure, found.failure);
  EXPECT_EQ(second.result.failure, found.failure);
  EXPECT_GT(first.trace.event_count(), 100u);
  EXPECT_EQ(first.trace.difference_from(second.trace), std::nullopt);
  EXPECT_EQ(searched_trace.difference_from(first.trace), std::nullopt);

  // The comparison tells schedules apart: the next seed, lost frame or not, runs differently.
  irqsim::Schedule next = *found.failing;
  ++next.seed;
  EXPECT_NE(replay(next).trace.difference_from(first.trace), std::nullopt);
}

// (d) The fixed driver passes every schedule the search for the racy one tried, and more.
TEST_P(DpcRaceExploration, TheFixedDriverPassesEveryScheduleTheSearchTried) {
  const irqsim::ExplorationResult found = search(kRacyDriver, strategy(), 1);
  ASSERT_TRUE(found.failing.has_value());
  const unsigned schedules = std::max(found.runs, kFixedSchedules);

  const irqsim::ExplorationResult fixed = search(kFixedDriver, strategy(), 1, schedules);
  EXPECT_FALSE(fixed.failing.has_value()) << fixed.to_string();
  EXPECT_EQ(fixed.runs, schedules);
}

INSTANTIATE_TEST_SUITE_P(Strategies, DpcRaceExploration,
                         ::testing::Values(Strategy{irqsim::ScheduleStrategy::Random},
                                           Strategy{irqsim::ScheduleStrategy::Pct}),
                         [](const ::testing::TestParamInfo<Strategy>& param) {
                           return std::string(irqsim::to_string(param.param.strategy));
                         });

}  // namespace
