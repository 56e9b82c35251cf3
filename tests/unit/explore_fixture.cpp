// A test program for explore_test: its tests explore the planted race of lost_update.hpp with
// irqsim::testing::explore and fail or pass on purpose, so that explore_test can run it and read
// what it printed. CTest does not run it by itself.

#include <gtest/gtest.h>

#include <cstdio>

#include <irqsim/testing.hpp>

#include "lost_update.hpp"

namespace {

using irqsim_test::CountOnTwoProcessors;
using irqsim_test::Update;

// PCT with its change points among the handful of decisions a run of the race makes.
constexpr irqsim::Exploration kExploration{.strategy = irqsim::ScheduleStrategy::Pct, .base = {.pct_steps = 10}};

// Explores `runs` schedules of two processors adding one each, and prints how many times the
// body ran: the count explore_test checks a replay against.
void ExpectTwo(unsigned runs, Update update) {
  irqsim::Exploration exploration = kExploration;
  exploration.runs = runs;
  unsigned calls = 0;
  const irqsim::ExplorationResult result = irqsim::testing::explore(exploration, [&calls, update] {
    ++calls;
    EXPECT_EQ(CountOnTwoProcessors(1, update), 2);
  });
  std::printf("explore_fixture: the body ran %u times\n%s\n", calls, result.to_string().c_str());
}

TEST(OnPurpose, LosesAnUpdate) { ExpectTwo(200, Update::Racy); }

TEST(OnPurpose, CountsUnderALock) { ExpectTwo(30, Update::Locked); }

TEST(OnPurpose, FailsBeforeExploring) {
  ADD_FAILURE() << "failing on purpose before exploring";
  ExpectTwo(20, Update::Locked);
}

}  // namespace
