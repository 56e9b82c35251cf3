#pragma once
/// @file
/// @brief Deterministic execution: how a machine's processors take turns under a seeded
///        scheduler, on a virtual clock, and what it reports when they can no longer progress.
///
/// docs/deterministic-mode.md explains both execution modes and when to choose which.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "irqsim/irql.hpp"

namespace irqsim {

/// @brief How a machine's processors run.
enum class ExecutionMode {
  /// @brief As the process default says: deterministic under the schedule of an exploration
  /// (irqsim::explore) or of the IRQSIM_SEED environment variable, free-running otherwise.
  ProcessDefault,
  /// @brief Every processor thread runs whenever the host lets it; time is the host's steady
  /// clock. The default: real parallelism, real time.
  FreeRunning,
  /// @brief One processor runs at a time; a seeded scheduler picks which one at every
  /// preemption point and where each interrupt lands; time is virtual. The same test with the
  /// same Schedule runs the same way every time.
  Deterministic,
};

/// @brief How a deterministic machine's scheduler picks the next processor.
enum class ScheduleStrategy {
  /// @brief Uniformly among those that can run, at every decision.
  Random,
  /// @brief Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): each processor
  /// gets a random priority, the highest that can run runs, and at Schedule::pct_depth - 1
  /// random decisions the running one drops to the lowest priority. Finds a bug that needs d
  /// ordering constraints with probability at least 1/(n * k^(d-1)) per run.
  Pct,
};

/// @brief The name of a strategy as IRQSIM_STRATEGY spells it: "random" or "pct".
[[nodiscard]] const char* to_string(ScheduleStrategy strategy) noexcept;

/// @brief A deterministic machine's schedule: the seed and the strategy that turn it into
/// decisions, and the limits of a run.
struct Schedule {
  /// @brief The seed of every decision the scheduler makes.
  std::uint64_t seed = 1;
  /// @brief How decisions are made.
  ScheduleStrategy strategy = ScheduleStrategy::Random;
  /// @brief PCT's depth d: the run has d - 1 priority change points.
  unsigned pct_depth = 3;
  /// @brief PCT's estimate of the decisions a run makes: change points are drawn among the
  /// first this many. An exploration replaces it with what its earlier runs made
  /// (Exploration::learn_pct_steps); Machine::scheduling_decisions() tells a run's length.
  std::uint64_t pct_steps = 2000;
  /// @brief Virtual time one scheduling decision takes: code that polls the clock sees it move.
  std::chrono::nanoseconds step_time{100};
  /// @brief Scheduling decisions one wait of the test (Machine::wait_until_quiescent, run_on,
  /// run_for) may take before the machine reports a livelock.
  std::uint64_t step_limit = 2'000'000;
  /// @brief Host time the test's thread waits for the machine without any scheduling decision
  /// before it warns on stderr that a participant keeps the turn: code on a processor blocked
  /// on a host primitive, which a deterministic machine cannot take the turn from.
  std::chrono::milliseconds stuck_turn_warning{10'000};

  /// @brief "seed 7, pct depth 3": what a report prints.
  [[nodiscard]] std::string to_string() const;
  /// @brief Equal field by field.
  bool operator==(const Schedule&) const = default;
};

/// @brief The schedule the environment asks for: IRQSIM_SEED (a decimal seed), optionally
/// IRQSIM_STRATEGY ("random" or "pct") and IRQSIM_PCT_STEPS (Schedule::pct_steps); nothing when
/// IRQSIM_SEED is not set. Throws std::invalid_argument when any of them is malformed.
[[nodiscard]] std::optional<Schedule> schedule_from_environment();

/// @brief While one lives, every machine the thread that made it creates runs deterministically
/// under its schedule, unless the machine's MachineConfig::mode is ExecutionMode::FreeRunning.
/// irqsim::explore makes one for each run. Scopes nest; the innermost wins.
class ScheduleScope {
 public:
  /// @brief Makes `schedule` the calling thread's schedule for new machines.
  explicit ScheduleScope(const Schedule& schedule);
  /// @brief Restores the schedule that was in force before.
  ~ScheduleScope();
  ScheduleScope(const ScheduleScope&) = delete;
  ScheduleScope& operator=(const ScheduleScope&) = delete;

  /// @brief The most scheduling decisions a deterministic machine made that was destroyed on
  /// this thread while this was the innermost scope: how long a run is, which PCT needs to know.
  [[nodiscard]] std::uint64_t most_decisions() const;

 private:
  std::optional<Schedule> outer_schedule_;
  std::uint64_t outer_most_decisions_;
};

/// @brief The schedule of the calling thread's innermost ScheduleScope, if any.
[[nodiscard]] std::optional<Schedule> scoped_schedule();

/// @brief What a processor of a hung machine was doing.
struct HungProcessor {
  /// @brief The processor's index.
  unsigned processor = 0;
  /// @brief Its IRQL.
  Irql irql = 0;
  /// @brief The addresses of the spin locks it holds (executive and interrupt locks).
  std::vector<std::uint64_t> held_locks;
  /// @brief Address of the ISR or DPC routine it is running, 0 if none.
  std::uint64_t routine = 0;
  /// @brief "ISR", "DPC" or "" (no routine).
  std::string routine_kind;
  /// @brief What it waits for: "idle", "spin lock 0x...", "stall until 1.2 ms", ...
  std::string waiting_for;
};

/// @brief Why a deterministic machine stopped making progress.
struct HangReport {
  /// @brief Deadlock: nothing can run and no timer is due. Livelock: Schedule::step_limit
  /// decisions went by without what the test waits for happening.
  enum class Kind { Deadlock, Livelock };
  /// @brief Which of the two.
  Kind kind = Kind::Deadlock;
  /// @brief What the test's thread waited for ("quiescence", "run_on(1)", ...).
  std::string test_waits_for;
  /// @brief Every processor, in order.
  std::vector<HungProcessor> processors;
  /// @brief The schedule the machine ran.
  Schedule schedule;
  /// @brief Scheduling decisions made since the machine was created.
  std::uint64_t decisions = 0;
  /// @brief The virtual time when the hang was found, in nanoseconds.
  std::int64_t time_ns = 0;

  /// @brief A readable multi-line report: the kind, the schedule, each processor's IRQL, held
  /// locks, current routine and wait.
  [[nodiscard]] std::string to_string() const;
};

/// @brief Thrown to the test's thread when a deterministic machine hangs. The machine halts: its
/// processors are unwound as by a bug check.
class HangError : public std::runtime_error {
 public:
  /// @brief Wraps a report.
  explicit HangError(HangReport report);
  /// @brief The report.
  [[nodiscard]] const HangReport& report() const noexcept { return report_; }

 private:
  HangReport report_;
};

}  // namespace irqsim
