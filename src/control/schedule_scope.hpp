#pragma once
// What the machine facade tells the calling thread's ScheduleScope: how many scheduling decisions
// a deterministic machine made before it was destroyed (ScheduleScope::most_decisions).

#include <cstdint>

namespace irqsim::control {

void note_scheduling_decisions(std::uint64_t decisions) noexcept;

}  // namespace irqsim::control
