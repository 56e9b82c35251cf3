#include "control/schedule_scope.hpp"

#include <algorithm>
#include <utility>

#include "irqsim/schedule.hpp"

namespace irqsim {

namespace {
// Per thread: explorations on two threads never mix.
thread_local std::optional<Schedule> current_schedule;
thread_local std::uint64_t current_most_decisions = 0;
}  // namespace

ScheduleScope::ScheduleScope(const Schedule& schedule)
    : outer_schedule_(std::exchange(current_schedule, schedule)),
      outer_most_decisions_(std::exchange(current_most_decisions, 0)) {}

ScheduleScope::~ScheduleScope() {
  current_schedule = std::move(outer_schedule_);
  current_most_decisions = outer_most_decisions_;
}

std::uint64_t ScheduleScope::most_decisions() const { return current_most_decisions; }

std::optional<Schedule> scoped_schedule() { return current_schedule; }

namespace control {

void note_scheduling_decisions(std::uint64_t decisions) noexcept {
  current_most_decisions = std::max(current_most_decisions, decisions);
}

}  // namespace control

}  // namespace irqsim
