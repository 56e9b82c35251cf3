#pragma once
// Durations as the reports print them: three significant digits in the largest unit that keeps
// the number at least 1 ("850 ns", "12.4 us", "3.02 ms", "1.50 s"), so that a column of them
// reads at a glance. ASCII "us" rather than a micro sign keeps the columns aligned.

#include <chrono>
#include <string>

namespace irqsim::control {

[[nodiscard]] std::string duration_text(std::chrono::nanoseconds duration);

}  // namespace irqsim::control
