// Schedules and hang reports (include/irqsim/schedule.hpp) without a machine: the names of the
// strategies, a schedule's text, the schedule IRQSIM_SEED and IRQSIM_STRATEGY ask for, and the
// report a hung deterministic machine throws.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <irqsim/irql.hpp>
#include <irqsim/schedule.hpp>

#include "driver_test_support.hpp"

namespace {

using irqsim::HangError;
using irqsim::HangReport;
using irqsim::HungProcessor;
using irqsim::Schedule;
using irqsim::ScheduleStrategy;
using irqsim_test::ScopedVariable;
using testing::HasSubstr;

// The schedule_from_environment() message for the given variables, or "" if it did not throw.
std::string ErrorFor(std::optional<std::string> seed, std::optional<std::string> strategy) {
  const ScopedVariable seed_variable("IRQSIM_SEED", std::move(seed));
  const ScopedVariable strategy_variable("IRQSIM_STRATEGY", std::move(strategy));
  try {
    (void)irqsim::schedule_from_environment();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

Schedule Pct(std::uint64_t seed) {
  Schedule schedule;
  schedule.seed = seed;
  schedule.strategy = ScheduleStrategy::Pct;
  return schedule;
}

// Two processors each waiting for the lock the other holds.
HangReport Deadlock() {
  HangReport report;
  report.kind = HangReport::Kind::Deadlock;
  report.test_waits_for = "quiescence";
  report.schedule.seed = 7;
  report.decisions = 1234;
  report.time_ns = 123'400;
  report.processors = {
      HungProcessor{.processor = 0,
                    .irql = irqsim::irql::kDispatch,
                    .held_locks = {0x7ffd1000},
                    .routine = 0x55d0c0ffee00,
                    .routine_kind = "DPC",
                    .waiting_for = "spin lock 0x7ffd2000"},
      HungProcessor{.processor = 1,
                    .irql = 5,
                    .held_locks = {0x7ffd2000},
                    .routine = 0x55d0c0ffef00,
                    .routine_kind = "ISR",
                    .waiting_for = "spin lock 0x7ffd1000"},
      HungProcessor{.processor = 2,
                    .irql = irqsim::irql::kPassive,
                    .held_locks = {},
                    .routine = 0,
                    .routine_kind = "",
                    .waiting_for = "idle"},
  };
  return report;
}

TEST(ScheduleStrategy, IsNamedAsIrqsimStrategySpellsIt) {
  EXPECT_STREQ(irqsim::to_string(ScheduleStrategy::Random), "random");
  EXPECT_STREQ(irqsim::to_string(ScheduleStrategy::Pct), "pct");
}

TEST(Schedule, TextNamesTheSeedAndStrategy) {
  Schedule schedule;
  schedule.seed = 7;
  EXPECT_EQ(schedule.to_string(), "seed 7, random");
}

TEST(Schedule, TextOfPctNamesItsDepthAndSteps) {
  Schedule schedule = Pct(7);
  schedule.pct_depth = 4;
  schedule.pct_steps = 500;
  EXPECT_EQ(schedule.to_string(), "seed 7, pct depth 4 over 500 steps");
}

TEST(ScheduleFromEnvironment, IsNothingWithoutASeed) {
  const ScopedVariable seed("IRQSIM_SEED", std::nullopt);
  const ScopedVariable strategy("IRQSIM_STRATEGY", "pct");
  EXPECT_EQ(irqsim::schedule_from_environment(), std::nullopt);
}

TEST(ScheduleFromEnvironment, ReadsTheSeedWithRandomByDefault) {
  const ScopedVariable seed("IRQSIM_SEED", "7");
  const ScopedVariable strategy("IRQSIM_STRATEGY", std::nullopt);
  const std::optional<Schedule> schedule = irqsim::schedule_from_environment();
  ASSERT_TRUE(schedule.has_value());
  EXPECT_EQ(schedule->seed, 7u);
  EXPECT_EQ(schedule->strategy, ScheduleStrategy::Random);
  // Everything else is the default schedule's.
  EXPECT_EQ(schedule->pct_depth, Schedule{}.pct_depth);
  EXPECT_EQ(schedule->step_limit, Schedule{}.step_limit);
}

TEST(ScheduleFromEnvironment, ReadsTheStrategy) {
  const ScopedVariable seed("IRQSIM_SEED", "0");
  for (const ScheduleStrategy expected : {ScheduleStrategy::Random, ScheduleStrategy::Pct}) {
    const ScopedVariable strategy("IRQSIM_STRATEGY", irqsim::to_string(expected));
    const std::optional<Schedule> schedule = irqsim::schedule_from_environment();
    ASSERT_TRUE(schedule.has_value());
    EXPECT_EQ(schedule->seed, 0u);
    EXPECT_EQ(schedule->strategy, expected);
  }
}

TEST(ScheduleFromEnvironment, ReadsTheLargestSeed) {
  const ScopedVariable seed("IRQSIM_SEED", "18446744073709551615");
  const ScopedVariable strategy("IRQSIM_STRATEGY", std::nullopt);
  EXPECT_EQ(irqsim::schedule_from_environment()->seed, 18446744073709551615u);
}

TEST(ScheduleFromEnvironment, RejectsASeedThatIsNotADecimalNumber) {
  for (const char* seed : {"12x", "-1", " 7", "+7", "0x10", "7.0", "18446744073709551616"}) {
    const std::string error = ErrorFor(seed, std::nullopt);
    EXPECT_THAT(error, HasSubstr("IRQSIM_SEED")) << "seed \"" << seed << "\"";
    EXPECT_THAT(error, HasSubstr(std::string("\"") + seed + "\"")) << "seed \"" << seed << "\"";
  }
}

TEST(ScheduleFromEnvironment, ReadsPctStepsOrRejectsThem) {
  const ScopedVariable seed("IRQSIM_SEED", "3");
  const ScopedVariable strategy("IRQSIM_STRATEGY", "pct");
  {
    const ScopedVariable steps("IRQSIM_PCT_STEPS", "412");
    EXPECT_EQ(irqsim::schedule_from_environment()->pct_steps, 412u);
  }
  for (const char* bad : {"0", "12x", "-5"}) {
    const ScopedVariable steps("IRQSIM_PCT_STEPS", bad);
    try {
      (void)irqsim::schedule_from_environment();
      ADD_FAILURE() << "IRQSIM_PCT_STEPS=\"" << bad << "\" was accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_THAT(error.what(), HasSubstr("IRQSIM_PCT_STEPS")) << bad;
    }
  }
}

// An empty value is a value on POSIX systems, and rejected like any other that is not a number
// or a strategy. Windows cannot hold one: setting a variable to "" (the C runtime's _putenv_s,
// cmd.exe's `set NAME=`) removes it, so there it means what an unset variable does.
TEST(ScheduleFromEnvironment, AnEmptyValueIsRejectedOrOnWindowsUnset) {
#if defined(_WIN32)
  EXPECT_EQ(ErrorFor("", std::nullopt), "");
  EXPECT_EQ(ErrorFor("7", ""), "");
  const ScopedVariable seed("IRQSIM_SEED", "3");
  const ScopedVariable strategy("IRQSIM_STRATEGY", "pct");
  const ScopedVariable steps("IRQSIM_PCT_STEPS", "");
  EXPECT_EQ(irqsim::schedule_from_environment()->pct_steps, Schedule{}.pct_steps);
#else
  EXPECT_THAT(ErrorFor("", std::nullopt), HasSubstr("IRQSIM_SEED"));
  EXPECT_THAT(ErrorFor("7", ""), HasSubstr("IRQSIM_STRATEGY"));
  const ScopedVariable seed("IRQSIM_SEED", "3");
  const ScopedVariable strategy("IRQSIM_STRATEGY", "pct");
  const ScopedVariable steps("IRQSIM_PCT_STEPS", "");
  EXPECT_THROW((void)irqsim::schedule_from_environment(), std::invalid_argument);
#endif
}

TEST(ScheduleFromEnvironment, RejectsAnUnknownStrategy) {
  for (const char* strategy : {"fifo", "PCT", "random "}) {
    for (const std::optional<std::string>& seed : {std::optional<std::string>("7"), std::optional<std::string>()}) {
      const std::string error = ErrorFor(seed, strategy);
      EXPECT_THAT(error, HasSubstr("IRQSIM_STRATEGY")) << "strategy \"" << strategy << "\"";
      EXPECT_THAT(error, HasSubstr(std::string("\"") + strategy + "\"")) << "strategy \"" << strategy << "\"";
    }
  }
}

TEST(HangReport, DeadlockNamesTheKindTheScheduleAndWhereTheRunStopped) {
  const std::vector<std::string> lines = Lines(Deadlock().to_string());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "irqsim: deadlock: no processor can run and no timer is due (seed 7, random; 1234 decisions, at 123 us)");
  EXPECT_EQ(lines[1], "the test waits for: quiescence");
}

TEST(HangReport, HasALineForEachProcessor) {
  const std::vector<std::string> lines = Lines(Deadlock().to_string());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[2], "  CPU 0  IRQL DISPATCH_LEVEL (2)  DPC 0x55d0c0ffee00  waits for: spin lock 0x7ffd2000  "
                      "holds spin lock 0x7ffd1000");
  EXPECT_EQ(lines[3], "  CPU 1  IRQL 5                   ISR 0x55d0c0ffef00  waits for: spin lock 0x7ffd1000  "
                      "holds spin lock 0x7ffd2000");
  EXPECT_EQ(lines[4], "  CPU 2  IRQL PASSIVE_LEVEL (0)                       waits for: idle");
}

TEST(HangReport, LivelockNamesTheStepLimitAndWhatTheTestWaitedFor) {
  HangReport report = Deadlock();
  report.kind = HangReport::Kind::Livelock;
  report.test_waits_for = "run_on(1)";
  report.schedule = Pct(9);
  report.schedule.step_limit = 5000;
  report.decisions = 6000;
  report.time_ns = 600'000;
  const std::vector<std::string> lines = Lines(report.to_string());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "irqsim: livelock: 5000 decisions without run_on(1) "
                      "(seed 9, pct depth 3 over 2000 steps; 6000 decisions, at 600 us)");
  EXPECT_THAT(lines[1], HasSubstr("CPU 0"));
}

TEST(HangReport, KeepsEveryLineWithin120Columns) {
  HangReport report = Deadlock();
  report.schedule = Pct(18446744073709551615u);
  report.decisions = 18446744073709551615u;
  for (std::uint64_t lock = 0; lock < 12; ++lock) report.processors[0].held_locks.push_back(0x7ffd12345678 + lock * 8);
  const std::string text = report.to_string();
  const std::vector<std::string> lines = Lines(text);
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 120u) << line;
    EXPECT_EQ(line.find_last_not_of(' ') + 1, line.size()) << "trailing spaces: \"" << line << "\"";
  }
  // The processors' lines and their continuations stay indented under the report's heading.
  const auto first_processor = std::ranges::find_if(lines, [](const std::string& line) {
    return line.starts_with("  CPU 0");
  });
  ASSERT_NE(first_processor, lines.end());
  for (auto line = first_processor; line != lines.end(); ++line) EXPECT_TRUE(line->starts_with("  ")) << *line;
  // Nothing is lost to the wrapping, and "holds" stays with the first lock it names.
  EXPECT_THAT(text, HasSubstr("seed 18446744073709551615"));
  EXPECT_THAT(text, HasSubstr("holds spin locks 0x7ffd1000,"));
  for (const std::uint64_t lock : report.processors[0].held_locks) {
    EXPECT_THAT(text, HasSubstr(fmt::format("{:#x}", lock)));
  }
}

TEST(HangError, CarriesTheReportAsItsMessage) {
  const HangReport report = Deadlock();
  const HangError error(report);
  EXPECT_EQ(error.what(), report.to_string());
  EXPECT_EQ(error.report().decisions, report.decisions);
  EXPECT_EQ(error.report().processors.size(), report.processors.size());
}

}  // namespace
