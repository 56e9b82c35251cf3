// The deterministic machine's scheduling strategies (src/core/scheduling_strategy.hpp): the
// uniform draw under them, Random's uniform choices, PCT's priorities and change points, and that
// a seed makes the same decisions every time, on every platform.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "core/scheduling_strategy.hpp"

namespace {

using irqsim::Schedule;
using irqsim::ScheduleStrategy;
using irqsim::core::below;
using irqsim::core::SchedulingStrategy;

Schedule Random(std::uint64_t seed) {
  Schedule schedule;
  schedule.seed = seed;
  return schedule;
}

Schedule Pct(std::uint64_t seed, unsigned depth, std::uint64_t steps = 2000) {
  Schedule schedule;
  schedule.seed = seed;
  schedule.strategy = ScheduleStrategy::Pct;
  schedule.pct_depth = depth;
  schedule.pct_steps = steps;
  return schedule;
}

std::vector<unsigned> All(unsigned participants) {
  std::vector<unsigned> ids(participants);
  for (unsigned id = 0; id < participants; ++id) ids[id] = id;
  return ids;
}

// The participants set in `mask`, ascending, as the machine passes them.
std::vector<unsigned> Members(unsigned mask) {
  std::vector<unsigned> ids;
  for (unsigned id = 0; mask >> id != 0; ++id) {
    if ((mask >> id & 1u) != 0) ids.push_back(id);
  }
  return ids;
}

// A test input below `n`: the inputs need no particular spread, only to be the same every run.
unsigned Input(std::mt19937& inputs, unsigned n) { return static_cast<unsigned>(inputs() % n); }

bool Contains(const std::vector<unsigned>& ids, unsigned id) { return std::ranges::find(ids, id) != ids.end(); }

// Every answer of `schedule`'s strategy over 5000 rounds of next() and target() with changing
// runnable sets and deciders among 8 participants. The inputs come from their own fixed engine,
// so that only the strategy's seed can change the answers.
std::vector<unsigned> Decisions(const Schedule& schedule) {
  const std::unique_ptr<SchedulingStrategy> strategy = SchedulingStrategy::make(schedule, 8);
  std::mt19937 inputs(12345);
  std::vector<unsigned> answers;
  for (int round = 0; round < 5000; ++round) {
    const std::vector<unsigned> runnable = Members(Input(inputs, 255) + 1);
    answers.push_back(strategy->next(runnable, Input(inputs, 8)));
    answers.push_back(strategy->target(Members(Input(inputs, 255) + 1)));
  }
  return answers;
}

// A run in which all `participants` can always run and whoever runs makes the next decision.
struct AllRunnable {
  // The decisions (numbered from 1) after which a different participant runs.
  std::vector<std::uint64_t> switches;
  // Who ran up to each switch.
  std::vector<unsigned> dropped;
  // For more questions after the run.
  std::unique_ptr<SchedulingStrategy> strategy;
};

// Who ran before decision 1 is a twin strategy's first answer: when decision 1 is a change point
// the twin's decider drops, and then the twin's answer differs from the real one whoever that
// decider was. So a drop at decision 1 shows as a switch like any other.
AllRunnable RunAllRunnable(const Schedule& schedule, unsigned participants, std::uint64_t decisions) {
  const std::vector<unsigned> all = All(participants);
  unsigned running = SchedulingStrategy::make(schedule, participants)->next(all, 0);
  AllRunnable run;
  run.strategy = SchedulingStrategy::make(schedule, participants);
  for (std::uint64_t decision = 1; decision <= decisions; ++decision) {
    const unsigned next = run.strategy->next(all, running);
    if (next != running) {
      run.switches.push_back(decision);
      run.dropped.push_back(running);
    }
    running = next;
  }
  return run;
}

// The participants from highest priority to lowest, found by taking the winner out of the
// runnable set until it is empty. Each question is a decision, so the caller makes sure none of
// them is a change point.
std::vector<unsigned> PriorityOrder(SchedulingStrategy& strategy, unsigned participants) {
  std::vector<unsigned> runnable = All(participants);
  std::vector<unsigned> order;
  while (!runnable.empty()) {
    order.push_back(strategy.next(runnable, runnable.front()));
    std::erase(runnable, order.back());
  }
  return order;
}

TEST(SchedulingStrategyBelow, StaysBelowTheBound) {
  std::mt19937_64 engine(1);
  for (const std::uint64_t n : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{1000},
                                (std::uint64_t{1} << 63) + 1, std::numeric_limits<std::uint64_t>::max()}) {
    for (int draw = 0; draw < 1000; ++draw) ASSERT_LT(below(engine, n), n) << "n = " << n;
  }
}

TEST(SchedulingStrategyBelow, IsUnbiasedWhereAPlainModuloIsNot) {
  // About 2/3 of 2^64: a plain `engine() % n` lands in the lower half of the range twice as often
  // as in the upper half, 2/3 of the time.
  constexpr std::uint64_t kN = 0xAAAA'AAAA'AAAA'AAAAu;
  constexpr int kDraws = 20000;
  std::mt19937_64 engine(3);
  int low = 0;
  int low_by_modulo = 0;
  for (int draw = 0; draw < kDraws; ++draw) {
    if (below(engine, kN) < kN / 2) ++low;
    if (engine() % kN < kN / 2) ++low_by_modulo;
  }
  EXPECT_NEAR(low, kDraws / 2, kDraws / 50);
  EXPECT_GT(low_by_modulo, kDraws * 6 / 10) << "the test no longer tells a biased draw from an unbiased one";
}

TEST(SchedulingStrategyBelow, GivesTheSameValuesOnEveryPlatform) {
  // mt19937_64's output is fixed by the standard, and below() adds no library-defined step. The
  // values were checked against an independent implementation of both.
  std::mt19937_64 engine(7);
  std::vector<std::uint64_t> values;
  for (int draw = 0; draw < 12; ++draw) values.push_back(below(engine, 10));
  EXPECT_EQ(values, (std::vector<std::uint64_t>{5, 0, 8, 6, 1, 8, 9, 8, 1, 0, 6, 5}));
}

TEST(SchedulingStrategy, SameSeedMakesTheSameDecisions) {
  EXPECT_EQ(Decisions(Random(42)), Decisions(Random(42)));
  EXPECT_EQ(Decisions(Pct(42, 3, 5000)), Decisions(Pct(42, 3, 5000)));
}

TEST(SchedulingStrategy, DifferentSeedsMakeDifferentDecisions) {
  EXPECT_NE(Decisions(Random(1)), Decisions(Random(2)));
  EXPECT_NE(Decisions(Pct(1, 3, 5000)), Decisions(Pct(2, 3, 5000)));
}

TEST(SchedulingStrategy, MakesTheSameDecisionsOnEveryPlatform) {
  const std::vector<unsigned> random = Decisions(Random(7));
  const std::vector<unsigned> pct = Decisions(Pct(7, 3, 5000));
  // Checked against an independent model of both engines and strategies. A change here replays
  // every recorded failing seed differently: it needs a reason.
  EXPECT_EQ(std::vector<unsigned>(random.begin(), random.begin() + 12),
            (std::vector<unsigned>{0, 5, 1, 1, 5, 0, 5, 1, 2, 2, 0, 0}));
  EXPECT_EQ(std::vector<unsigned>(pct.begin(), pct.begin() + 12),
            (std::vector<unsigned>{3, 1, 1, 1, 7, 4, 2, 0, 7, 0, 0, 0}));
}

TEST(SchedulingStrategy, MakeBuildsTheStrategyTheScheduleNames) {
  // With every participant runnable, PCT without change points keeps choosing its first; Random
  // wanders.
  const std::vector<unsigned> all = All(4);
  const std::unique_ptr<SchedulingStrategy> random = SchedulingStrategy::make(Random(5), 4);
  const std::unique_ptr<SchedulingStrategy> pct = SchedulingStrategy::make(Pct(5, 1), 4);
  std::set<unsigned> by_random;
  std::set<unsigned> by_pct;
  for (int decision = 0; decision < 100; ++decision) {
    by_random.insert(random->next(all, 0));
    by_pct.insert(pct->next(all, 0));
  }
  EXPECT_EQ(by_random.size(), 4u);
  EXPECT_EQ(by_pct.size(), 1u);
}

TEST(SchedulingStrategy, MakeRejectsAPctDepthOfZero) {
  EXPECT_THROW(SchedulingStrategy::make(Pct(1, 0), 4), std::invalid_argument);
}

TEST(SchedulingStrategy, TargetsOnlyAndEveryCandidate) {
  const std::vector<unsigned> candidates{2, 5, 6};
  for (const Schedule& schedule : {Random(9), Pct(9, 3)}) {
    const std::unique_ptr<SchedulingStrategy> strategy = SchedulingStrategy::make(schedule, 8);
    std::set<unsigned> chosen;
    for (int interrupt = 0; interrupt < 1000; ++interrupt) {
      const unsigned target = strategy->target(candidates);
      ASSERT_TRUE(Contains(candidates, target)) << target << " under " << schedule.to_string();
      chosen.insert(target);
    }
    EXPECT_EQ(chosen, std::set<unsigned>(candidates.begin(), candidates.end())) << schedule.to_string();
  }
}

TEST(SchedulingStrategyRandom, ChoosesOnlyAndEveryRunnableParticipant) {
  const std::vector<unsigned> runnable{1, 3, 4, 7};
  const std::unique_ptr<SchedulingStrategy> strategy = SchedulingStrategy::make(Random(11), 8);
  std::set<unsigned> chosen;
  for (int decision = 0; decision < 1000; ++decision) {
    // The decider is sometimes one that is about to block, sometimes one that stays runnable.
    const unsigned next = strategy->next(runnable, static_cast<unsigned>(decision % 8));
    ASSERT_TRUE(Contains(runnable, next)) << next;
    chosen.insert(next);
  }
  EXPECT_EQ(chosen, std::set<unsigned>(runnable.begin(), runnable.end()));
}

TEST(SchedulingStrategyRandom, ChoosesAndTargetsUniformly) {
  // Bounds of 5%, over four standard deviations: the seed is fixed, so they need not allow for
  // bad luck, only be tight enough that a skewed draw fails.
  const std::unique_ptr<SchedulingStrategy> strategy = SchedulingStrategy::make(Random(13), 5);
  const std::vector<unsigned> all = All(5);
  const std::vector<unsigned> candidates{0, 2, 4};
  std::map<unsigned, int> runs;
  std::map<unsigned, int> targets;
  for (int round = 0; round < 30000; ++round) {
    ++runs[strategy->next(all, 0)];
    ++targets[strategy->target(candidates)];
  }
  for (const unsigned id : all) EXPECT_NEAR(runs[id], 6000, 300) << "participant " << id;
  for (const unsigned id : candidates) EXPECT_NEAR(targets[id], 10000, 500) << "processor " << id;
}

TEST(SchedulingStrategyPct, RunsTheHighestPriorityRunnableParticipant) {
  // Depth 1 has no change points, so the order found first holds for every later question.
  const std::unique_ptr<SchedulingStrategy> strategy = SchedulingStrategy::make(Pct(17, 1), 6);
  const std::vector<unsigned> order = PriorityOrder(*strategy, 6);
  std::mt19937 inputs(99);
  for (int decision = 0; decision < 2000; ++decision) {
    const std::vector<unsigned> runnable = Members(Input(inputs, 63) + 1);
    const unsigned highest = *std::ranges::find_if(order, [&](unsigned id) { return Contains(runnable, id); });
    const unsigned decider = Input(inputs, 6);
    ASSERT_EQ(strategy->next(runnable, decider), highest) << "decision " << decision;
    ASSERT_EQ(strategy->next(runnable, decider), highest) << "the same question twice, decision " << decision;
  }
}

TEST(SchedulingStrategyPct, DrawsTheStartingPrioritiesAtRandom) {
  // Over 200 seeds each of 4 participants should start highest about 50 times.
  std::map<unsigned, int> highest;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    ++highest[SchedulingStrategy::make(Pct(seed, 1), 4)->next(All(4), 0)];
  }
  for (const unsigned id : All(4)) EXPECT_GE(highest[id], 25) << "participant " << id;
}

TEST(SchedulingStrategyPct, DepthOneNeverSwitches) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    EXPECT_EQ(RunAllRunnable(Pct(seed, 1, 1000), 4, 3000).switches, std::vector<std::uint64_t>{}) << "seed " << seed;
  }
}

TEST(SchedulingStrategyPct, SwitchesExactlyDepthMinusOneTimesWithinItsSteps) {
  for (const unsigned depth : {2u, 3u, 5u, 10u}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const std::vector<std::uint64_t> switches = RunAllRunnable(Pct(seed, depth, 200), 4, 600).switches;
      EXPECT_EQ(switches.size(), depth - 1) << "depth " << depth << ", seed " << seed;
      if (!switches.empty()) {
        EXPECT_LE(switches.back(), 200u) << "depth " << depth << ", seed " << seed;
      }
    }
  }
}

TEST(SchedulingStrategyPct, SwitchesAtEveryDecisionWhenStepsAreFewerThanChangePoints) {
  EXPECT_EQ(RunAllRunnable(Pct(21, 10, 4), 3, 100).switches, (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(SchedulingStrategyPct, SpreadsChangePointsOverAllItsSteps) {
  // Depth 2 over 10 steps: the one switch falls on each of decisions 1..10 about 100 times in 1000
  // seeds, the first and the last included.
  std::map<std::uint64_t, int> at;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    const std::vector<std::uint64_t> switches = RunAllRunnable(Pct(seed, 2, 10), 3, 20).switches;
    ASSERT_EQ(switches.size(), 1u) << "seed " << seed;
    ++at[switches.front()];
  }
  for (std::uint64_t decision = 1; decision <= 10; ++decision) {
    EXPECT_GE(at[decision], 50) << "decision " << decision;
  }
}

TEST(SchedulingStrategyPct, DropsTheDecidingParticipantBelowAllOthers) {
  // Depth 3: two drops within 50 steps; each goes below the one before it.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const AllRunnable run = RunAllRunnable(Pct(seed, 3, 50), 4, 50);
    ASSERT_EQ(run.dropped.size(), 2u) << "seed " << seed;
    const std::vector<unsigned> order = PriorityOrder(*run.strategy, 4);
    EXPECT_EQ(order[2], run.dropped[0]) << "seed " << seed;
    EXPECT_EQ(order[3], run.dropped[1]) << "seed " << seed;
  }
}

TEST(SchedulingStrategyPct, DropsTheDeciderEvenWhenItIsAboutToBlock) {
  // Depth 2 over 1 step: decision 1 drops participant 0, which leaves the runnable set there.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const std::unique_ptr<SchedulingStrategy> strategy = SchedulingStrategy::make(Pct(seed, 2, 1), 3);
    const std::vector<unsigned> others{1, 2};
    strategy->next(others, 0);
    EXPECT_EQ(PriorityOrder(*strategy, 3).back(), 0u) << "seed " << seed;
  }
}

TEST(SchedulingStrategyPct, AcceptsTheLargestStepCount) {
  // Drawing change points must not loop forever at the top of the range.
  const std::uint64_t steps = std::numeric_limits<std::uint64_t>::max();
  EXPECT_LE(RunAllRunnable(Pct(23, 4, steps), 3, 1000).switches.size(), 3u);
}

}  // namespace
