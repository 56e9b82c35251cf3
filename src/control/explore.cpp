#include "irqsim/explore.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "platform/shell.hpp"

namespace irqsim {

namespace {

// The variables that select `schedule` (schedule_from_environment reads them).
std::vector<std::pair<std::string, std::string>> replay_variables(const Schedule& schedule) {
  std::vector<std::pair<std::string, std::string>> variables{
      {"IRQSIM_SEED", fmt::to_string(schedule.seed)}, {"IRQSIM_STRATEGY", to_string(schedule.strategy)}};
  // Learned from the runs before it, so a replay on its own could not know it.
  if (schedule.strategy == ScheduleStrategy::Pct) {
    variables.emplace_back("IRQSIM_PCT_STEPS", fmt::to_string(schedule.pct_steps));
  }
  return variables;
}

std::string replay_environment(const Schedule& schedule) {
  std::string environment;
  for (const auto& [name, value] : replay_variables(schedule)) {
    environment += fmt::format("{}{}={}", environment.empty() ? "" : " ", name, value);
  }
  return environment;
}

struct Run {
  std::optional<std::string> failure;  // what the body threw; nothing if it passed
  std::uint64_t most_decisions = 0;    // of the machines it created
};

Run run_under(const Schedule& schedule, const std::function<void()>& body) {
  const ScheduleScope scope(schedule);
  Run run;
  try {
    body();
  } catch (const std::exception& error) {
    run.failure = error.what();
  } catch (...) {
    run.failure = "an exception that is not a std::exception";
  }
  run.most_decisions = scope.most_decisions();
  return run;
}

}  // namespace

std::string ExplorationResult::to_string() const {
  if (!failing) {
    return fmt::format("irqsim: {} run{} under {} schedules, no failure", runs, runs == 1 ? "" : "s",
                       replayed ? "replayed" : "explored");
  }
  return fmt::format("irqsim: run {} failed under schedule {}:\n{}\nirqsim: replay it with {}", runs,
                     failing->to_string(), failure, replay);
}

std::string ExplorationResult::replay_command(std::string_view program, std::string_view arguments) const {
  std::string command = fmt::format("{} {}", platform::shell_word(program), arguments);
  return failing ? platform::with_environment(replay_variables(*failing), command) : command;
}

namespace {

// Counts the run and, if it failed, records and prints it. True when the search should stop.
bool note(ExplorationResult& result, const Schedule& schedule, Run& run) {
  ++result.runs;
  if (!run.failure) return false;
  result.failing = schedule;
  result.failure = std::move(*run.failure);
  result.replay = replay_environment(schedule);
  fmt::print(stderr, "{}\n", result.to_string());
  return true;
}

}  // namespace

ExplorationResult explore(const Exploration& exploration, const std::function<void()>& body) {
  // A replay keeps the exploration's other settings: a PCT run replays only with its depth.
  if (std::optional<Schedule> from_environment = schedule_from_environment()) {
    Schedule schedule = exploration.base;
    schedule.seed = from_environment->seed;
    schedule.strategy = from_environment->strategy;
    if (std::getenv("IRQSIM_PCT_STEPS") != nullptr) schedule.pct_steps = from_environment->pct_steps;
    return replay(schedule, body);
  }
  ExplorationResult result;
  std::uint64_t most_decisions = 0;
  for (unsigned index = 0; index < exploration.runs; ++index) {
    Schedule schedule = exploration.base;
    schedule.seed = exploration.first_seed + index;
    schedule.strategy = exploration.strategy;
    if (exploration.learn_pct_steps && most_decisions != 0) schedule.pct_steps = most_decisions;
    Run run = run_under(schedule, body);
    most_decisions = std::max(most_decisions, run.most_decisions);
    if (note(result, schedule, run)) break;
  }
  return result;
}

ExplorationResult replay(const Schedule& schedule, const std::function<void()>& body) {
  ExplorationResult result;
  result.replayed = true;
  Run run = run_under(schedule, body);
  note(result, schedule, run);
  return result;
}

}  // namespace irqsim
