#include "irqsim/schedule.hpp"

#include <utility>

namespace irqsim {

namespace {
// Per thread: explorations on two threads (two test binaries' workers, say) never mix.
thread_local std::optional<Schedule> current_scope;
}  // namespace

ScheduleScope::ScheduleScope(const Schedule& schedule) : outer_(std::exchange(current_scope, schedule)) {}

ScheduleScope::~ScheduleScope() { current_scope = outer_; }

std::optional<Schedule> scoped_schedule() { return current_scope; }

}  // namespace irqsim
