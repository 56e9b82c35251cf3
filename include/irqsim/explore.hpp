#pragma once
/// @file
/// @brief Searching interleavings for a failing one: run a test body under many schedules of
///        the deterministic mode, stop at the first failure, and say how to replay it.
///
/// For GoogleTest tests, irqsim::testing::explore (irqsim/testing.hpp) does the same in one line
/// and turns the failure into a test failure.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "irqsim/schedule.hpp"

namespace irqsim {

/// @brief How irqsim::explore searches.
struct Exploration {
  /// @brief The most runs to make; each uses the next seed.
  unsigned runs = 100;
  /// @brief The strategy of every run.
  ScheduleStrategy strategy = ScheduleStrategy::Random;
  /// @brief The seed of the first run; run i uses first_seed + i.
  std::uint64_t first_seed = 1;
  /// @brief The rest of every run's Schedule (pct_depth, pct_steps, step_time, step_limit); its
  /// seed and strategy are replaced by the two above.
  Schedule base{};
  /// @brief PCT draws its change points among the first Schedule::pct_steps decisions, so they
  /// must fall within a run: when set, every run after the first uses the most decisions a
  /// machine made in the runs so far (what Coyote does), and base.pct_steps serves the first.
  bool learn_pct_steps = true;
};

/// @brief What irqsim::explore found.
struct ExplorationResult {
  /// @brief Runs made, the failing one included.
  unsigned runs = 0;
  /// @brief The schedule of the first run that failed; nothing if every run passed.
  std::optional<Schedule> failing;
  /// @brief What that run failed with (the exception's message).
  std::string failure;
  /// @brief The environment that replays the failing run: "IRQSIM_SEED=17 IRQSIM_STRATEGY=random",
  /// or for PCT also its steps: "IRQSIM_SEED=17 IRQSIM_STRATEGY=pct IRQSIM_PCT_STEPS=412".
  std::string replay;
  /// @brief Whether this was the replay of one schedule (irqsim::replay, or IRQSIM_SEED set)
  /// rather than a search.
  bool replayed = false;

  /// @brief One line for a pass ("100 runs under random schedules, no failure"), or the failing
  /// run, its failure and how to replay it.
  [[nodiscard]] std::string to_string() const;
  /// @brief The command line that replays the failing run in the shell std::system runs:
  /// `program` (quoted if it must be) and `arguments` under the variables of `replay`, as in
  /// `IRQSIM_SEED=17 IRQSIM_STRATEGY=random ./driver_test --gtest_filter=Driver.Isr` for sh and
  /// `set "IRQSIM_SEED=17" & set "IRQSIM_STRATEGY=random" & driver_test.exe --gtest_filter=Driver.Isr`
  /// for cmd.exe on Windows. Just `program` and `arguments` when no run failed.
  [[nodiscard]] std::string replay_command(std::string_view program, std::string_view arguments) const;
};

/// @brief Runs `body` under up to `exploration.runs` schedules, each inside a ScheduleScope, so
/// that every machine `body` creates (unless it asks to run free) is deterministic under that
/// run's seed. A run fails when `body` throws; the search stops at the first failure, prints
/// ExplorationResult::to_string() to stderr and returns it. When the environment sets
/// IRQSIM_SEED (and optionally IRQSIM_STRATEGY and IRQSIM_PCT_STEPS), only that schedule runs,
/// with the exploration's other settings: the replay of a failure found before.
ExplorationResult explore(const Exploration& exploration, const std::function<void()>& body);

/// @brief Runs `body` once under exactly `schedule`, as one run of an exploration: the replay of
/// a failing run from its ExplorationResult::failing, in the same process (the environment's
/// IRQSIM_SEED replays it from outside). Prints and returns the result as explore does.
ExplorationResult replay(const Schedule& schedule, const std::function<void()>& body);

}  // namespace irqsim
