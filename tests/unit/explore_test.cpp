// Searching interleavings (include/irqsim/explore.hpp): irqsim::explore finds a planted race and
// the failing seed replays it, a fixed race passes every run, the search stops at the first
// failure, every run's machines follow the run's seed, and IRQSIM_SEED turns the search into a
// replay. irqsim::testing::explore (include/irqsim/testing.hpp) is tested through
// explore_fixture, a test program run as a child process whose tests fail or pass on purpose.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <irqsim/explore.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/schedule.hpp>

#include "driver_test_support.hpp"
#include "file_contents.hpp"
#include "lost_update.hpp"
#include "platform/shell.hpp"

namespace {

using irqsim::Exploration;
using irqsim::ExplorationResult;
using irqsim::Schedule;
using irqsim::ScheduleStrategy;
using irqsim_test::CountOnTwoProcessors;
using irqsim_test::ScopedVariable;
using irqsim_test::Update;
using ::testing::HasSubstr;

// Each test searches, whatever IRQSIM_SEED the environment sets to replay some other test: with
// it, irqsim::explore would make one run only, and so would the fixture program it starts.
class Explore : public ::testing::Test {
 private:
  ScopedVariable seed_{"IRQSIM_SEED", std::nullopt};
  ScopedVariable strategy_{"IRQSIM_STRATEGY", std::nullopt};
};
using TestingExplore = Explore;

// A run of the planted race makes only a handful of scheduling decisions. PCT draws its change
// points among the first Schedule::pct_steps, so an estimate near that finds the race in about
// one run in five; with the default of 2000 hardly a change point would fall inside the run.
constexpr Schedule kShortRuns{.pct_steps = 10};

// The planted race as an exploration's body: it throws when an update was lost.
void LoseNoUpdate() {
  if (const int count = CountOnTwoProcessors(1, Update::Racy); count != 2) {
    throw std::runtime_error(fmt::format("lost an update: the count is {}, not 2", count));
  }
}

// The seeds are fixed, so each search below makes the same runs every time; the bounds leave room
// for a change to the scheduler to move the first failing seed, not for the race to become rare.
void ExpectFoundWithinAndReplayed(const Exploration& exploration, unsigned bound) {
  const ExplorationResult found = irqsim::explore(exploration, LoseNoUpdate);
  ASSERT_TRUE(found.failing.has_value()) << found.to_string();
  EXPECT_LE(found.runs, bound);
  EXPECT_FALSE(found.replayed);
  EXPECT_EQ(found.failing->seed, exploration.first_seed + found.runs - 1);
  EXPECT_EQ(found.failing->strategy, exploration.strategy);
  EXPECT_THAT(found.failure, HasSubstr("lost an update"));
  // PCT's steps were learned from the runs before the failing one: the replay needs them.
  const std::string pct_steps = exploration.strategy == ScheduleStrategy::Pct
                                    ? fmt::format(" IRQSIM_PCT_STEPS={}", found.failing->pct_steps)
                                    : "";
  EXPECT_EQ(found.replay, fmt::format("IRQSIM_SEED={} IRQSIM_STRATEGY={}{}", found.failing->seed,
                                      irqsim::to_string(exploration.strategy), pct_steps));

  const ExplorationResult again = irqsim::replay(*found.failing, LoseNoUpdate);
  EXPECT_EQ(again.runs, 1u);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.failing, found.failing);
  EXPECT_EQ(again.failure, found.failure);
}

TEST_F(Explore, RandomSchedulesFindAPlantedRaceAndItsSeedReplaysIt) {
  ExpectFoundWithinAndReplayed({.runs = 200, .strategy = ScheduleStrategy::Random}, 10);
}

TEST_F(Explore, PctSchedulesFindAPlantedRaceAndItsSeedReplaysIt) {
  ExpectFoundWithinAndReplayed({.runs = 200, .strategy = ScheduleStrategy::Pct, .base = kShortRuns}, 50);
}

TEST_F(Explore, EveryRunPassesOnceTheUpdateIsUnderASpinLock) {
  for (const ScheduleStrategy strategy : {ScheduleStrategy::Random, ScheduleStrategy::Pct}) {
    const ExplorationResult result = irqsim::explore({.runs = 40, .strategy = strategy, .base = kShortRuns}, [] {
      if (CountOnTwoProcessors(1, Update::Locked) != 2) throw std::runtime_error("lost an update under the lock");
    });
    EXPECT_EQ(result.runs, 40u);
    EXPECT_EQ(result.failing, std::nullopt) << result.to_string();
    EXPECT_EQ(result.failure, "");
    EXPECT_EQ(result.replay, "");
  }
}

TEST_F(Explore, StopsAtTheFirstFailingRun) {
  unsigned calls = 0;
  const ExplorationResult result = irqsim::explore({.runs = 10, .first_seed = 100}, [&calls] {
    if (++calls == 3) throw std::runtime_error("the third run fails");
  });
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ(result.runs, 3u);
  ASSERT_TRUE(result.failing.has_value());
  EXPECT_EQ(result.failing->seed, 102u);
  EXPECT_EQ(result.failure, "the third run fails");
}

TEST_F(Explore, EachRunsMachinesFollowItsSeedUnlessTheyRunFree) {
  const Exploration exploration{
      .runs = 4, .strategy = ScheduleStrategy::Pct, .first_seed = 40, .base = {.pct_depth = 5, .pct_steps = 30}};
  std::vector<std::optional<Schedule>> schedules;
  bool free_running_stayed_free = true;
  const ExplorationResult result = irqsim::explore(exploration, [&] {
    irqsim::Machine machine;
    schedules.push_back(machine.schedule());
    const irqsim::Machine free_running({.mode = irqsim::ExecutionMode::FreeRunning});
    free_running_stayed_free &= !free_running.deterministic();
  });
  EXPECT_EQ(result.runs, 4u);
  std::vector<std::optional<Schedule>> expected;
  for (std::uint64_t seed = 40; seed < 44; ++seed) {
    expected.push_back(Schedule{.seed = seed, .strategy = ScheduleStrategy::Pct, .pct_depth = 5, .pct_steps = 30});
  }
  EXPECT_EQ(schedules, expected);
  EXPECT_TRUE(free_running_stayed_free);
}

TEST_F(Explore, PctLearnsHowLongARunIsFromTheRunsBeforeIt) {
  for (const bool learn : {true, false}) {
    std::vector<std::uint64_t> steps;
    std::vector<std::uint64_t> decisions;
    int length = 10;
    irqsim::explore({.runs = 3, .strategy = ScheduleStrategy::Pct, .learn_pct_steps = learn}, [&] {
      irqsim::Machine machine({.processors = 1});
      steps.push_back(machine.schedule()->pct_steps);
      machine.run_on(0, [length] {
        for (int call = 0; call < length; ++call) (void)KeQueryInterruptTime();
      });
      length *= 10;  // each run longer than the last: the most so far is the last one's
      decisions.push_back(*machine.scheduling_decisions());
    });
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[0], Schedule{}.pct_steps);
    EXPECT_EQ(steps[1], learn ? decisions[0] : Schedule{}.pct_steps);
    EXPECT_EQ(steps[2], learn ? decisions[1] : Schedule{}.pct_steps);
    EXPECT_GT(decisions[1], decisions[0]);
  }
}

TEST_F(Explore, IrqsimSeedTurnsTheSearchIntoOneReplayThatKeepsTheOtherSettings) {
  const ScopedVariable seed("IRQSIM_SEED", "1234");
  const ScopedVariable strategy("IRQSIM_STRATEGY", "pct");
  std::vector<std::optional<Schedule>> schedules;
  const ExplorationResult result = irqsim::explore({.runs = 50, .base = {.pct_depth = 5}}, [&schedules] {
    schedules.push_back(irqsim::Machine().schedule());
    throw std::runtime_error("fails again");
  });
  EXPECT_TRUE(result.replayed);
  EXPECT_EQ(result.runs, 1u);
  const Schedule replayed{.seed = 1234, .strategy = ScheduleStrategy::Pct, .pct_depth = 5};
  EXPECT_EQ(schedules, std::vector<std::optional<Schedule>>{replayed});
  EXPECT_EQ(result.failing, replayed);
  EXPECT_EQ(result.replay, "IRQSIM_SEED=1234 IRQSIM_STRATEGY=pct IRQSIM_PCT_STEPS=2000");
}

TEST(ExplorationResult, SaysHowManyRunsPassedOrWhichFailedAndHowToReplayIt) {
  ExplorationResult result;
  result.runs = 100;
  EXPECT_EQ(result.to_string(), "irqsim: 100 runs under explored schedules, no failure");
  result.runs = 1;
  result.replayed = true;
  EXPECT_EQ(result.to_string(), "irqsim: 1 run under replayed schedules, no failure");
  result.runs = 7;
  result.replayed = false;
  result.failing = Schedule{.seed = 7};
  result.failure = "lost an update";
  result.replay = "IRQSIM_SEED=7 IRQSIM_STRATEGY=random";
  EXPECT_EQ(result.to_string(),
            "irqsim: run 7 failed under schedule seed 7, random:\n"
            "lost an update\n"
            "irqsim: replay it with IRQSIM_SEED=7 IRQSIM_STRATEGY=random");
}

// ---- irqsim::testing::explore, through the fixture program ----------------------------------------

// What a child process printed (stdout and stderr) and whether it failed.
struct ChildRun {
  bool failed = false;
  std::string output;
};

// Runs `command` in the shell, its output captured in a file of its own.
ChildRun RunInShell(const std::string& command) {
  static unsigned runs = 0;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      fmt::format("irqsim-explore-fixture-{}-{}.txt", std::chrono::steady_clock::now().time_since_epoch().count(), ++runs);
  ChildRun run;
  run.failed = !irqsim::platform::run_in_shell(
      fmt::format("{} > {} 2>&1", command, irqsim::platform::shell_word(file.string())));
  run.output = irqsim_test::ProgramOutput(file);
  std::filesystem::remove(file);
  return run;
}

ChildRun RunFixture(const std::string& test) {
  return RunInShell(
      fmt::format("{} --gtest_filter=OnPurpose.{}", irqsim::platform::shell_word(IRQSIM_EXPLORE_FIXTURE), test));
}

// How many times the fixture's exploration ran its body (the fixture prints it), or -1.
int BodyRuns(const std::string& output) {
  std::smatch match;
  const std::regex line("explore_fixture: the body ran (\\d+) times");
  return std::regex_search(output, match, line) ? std::stoi(match[1]) : -1;
}

TEST_F(TestingExplore, AFailingRunFailsTheTestAndPrintsTheCommandThatReplaysIt) {
  const ChildRun search = RunFixture("LosesAnUpdate");
  ASSERT_TRUE(search.failed) << search.output;
  // The test's failure: the run, its schedule, the body's failed expectation, and the whole
  // command that replays it in this platform's shell (the seed, strategy and steps, the program as
  // it was started, the test alone).
  const std::regex failure(R"(Failed\nirqsim: run (\d+) failed under schedule seed (\d+), )"
                           R"(pct depth 3 over (\d+) steps:\n)"
                           R"(([\s\S]*?)\nirqsim: replay it with ([^\r\n]+))");
  std::smatch found;
  ASSERT_TRUE(std::regex_search(search.output, found, failure)) << search.output;
  EXPECT_EQ(std::stoi(found[1]), BodyRuns(search.output)) << search.output;
  const std::string seed = found[2];
  EXPECT_THAT(found[4].str(), HasSubstr("Expected equality of these values"));
  const std::string command = found[5];
  irqsim::ExplorationResult expected;
  expected.failing = Schedule{.seed = std::stoull(seed), .strategy = irqsim::ScheduleStrategy::Pct,
                              .pct_steps = std::stoull(found[3])};
  EXPECT_EQ(command, expected.replay_command(IRQSIM_EXPLORE_FIXTURE, "--gtest_filter=OnPurpose.LosesAnUpdate"));

  const ChildRun replayed = RunInShell(command);
  ASSERT_TRUE(replayed.failed) << replayed.output;
  EXPECT_EQ(BodyRuns(replayed.output), 1) << replayed.output;
  EXPECT_THAT(replayed.output,
              HasSubstr(fmt::format("Failed\nirqsim: run 1 failed under schedule seed {}, pct", seed)));
  EXPECT_THAT(replayed.output, HasSubstr(command));
}

TEST_F(TestingExplore, AFixedRacePassesEveryRun) {
  const ChildRun run = RunFixture("CountsUnderALock");
  EXPECT_FALSE(run.failed) << run.output;
  EXPECT_EQ(BodyRuns(run.output), 30) << run.output;
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("failed under schedule")));
}

TEST_F(TestingExplore, AFailureBeforeTheExplorationDoesNotFailItsRuns) {
  const ChildRun run = RunFixture("FailsBeforeExploring");
  EXPECT_TRUE(run.failed) << run.output;
  EXPECT_THAT(run.output, HasSubstr("failing on purpose before exploring"));
  EXPECT_EQ(BodyRuns(run.output), 20) << run.output;
  EXPECT_THAT(run.output, HasSubstr("irqsim: 20 runs under explored schedules, no failure"));
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("failed under schedule")));
}

}  // namespace
