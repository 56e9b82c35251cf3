#include "irqsim/explore.hpp"

#include <exception>

#include <fmt/format.h>

namespace irqsim {

namespace {

std::string replay_environment(const Schedule& schedule) {
  return fmt::format("IRQSIM_SEED={} IRQSIM_STRATEGY={}", schedule.seed, to_string(schedule.strategy));
}

// Runs `body` once under `schedule`; the message of what it threw, or nothing if it passed.
std::optional<std::string> run_under(const Schedule& schedule, const std::function<void()>& body) {
  const ScheduleScope scope(schedule);
  try {
    body();
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
  return std::nullopt;
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

ExplorationResult explore(const Exploration& exploration, const std::function<void()>& body) {
  ExplorationResult result;
  const std::optional<Schedule> from_environment = schedule_from_environment();
  result.replayed = from_environment.has_value();
  const unsigned runs = result.replayed ? 1 : exploration.runs;
  for (unsigned run = 0; run < runs; ++run) {
    // A replay keeps the exploration's other settings: a PCT run replays only with its depth.
    Schedule schedule = exploration.base;
    schedule.seed = from_environment ? from_environment->seed : exploration.first_seed + run;
    schedule.strategy = from_environment ? from_environment->strategy : exploration.strategy;
    ++result.runs;
    if (std::optional<std::string> failure = run_under(schedule, body)) {
      result.failing = schedule;
      result.failure = std::move(*failure);
      result.replay = replay_environment(schedule);
      fmt::print(stderr, "{}\n", result.to_string());
      break;
    }
  }
  return result;
}

}  // namespace irqsim
