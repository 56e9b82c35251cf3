#include "summary.hpp"

#include <fmt/format.h>

#include <chrono>

namespace {

// Microseconds with one decimal: latencies of a simulated machine are tens of microseconds.
std::string microseconds(std::chrono::nanoseconds latency) {
  return fmt::format("{:.1f} us", std::chrono::duration<double, std::micro>(latency).count());
}

}  // namespace

void print_result(const ScenarioResult& result) {
  fmt::print("{}\n", result.name);
  for (const std::string& finding : result.findings) fmt::print("  {}\n", finding);
  fmt::print("  {}\n", result.accounted ? "every event accounted for" : "EVENTS WERE LOST");
}

void print_machine_summary(const irqsim::Machine& machine, const std::vector<ScenarioResult>& results) {
  fmt::print("\nInterrupts taken per processor:");
  for (unsigned p = 0; p < machine.processor_count(); ++p) fmt::print("  P{} {}", p, machine.interrupts_taken(p));
  fmt::print("\n\n{:<6} {:<38} {:>10} {:>8} {:>9} {:>13} {:>12}\n", "vector", "role", "deliveries", "claimed",
             "unclaimed", "mean latency", "max latency");
  for (const ScenarioResult& result : results) {
    for (const ScenarioVector& vector : result.vectors) {
      const irqsim::VectorStats stats = machine.stats(vector.vector);
      fmt::print("{:<#6x} {:<38} {:>10} {:>8} {:>9} {:>13} {:>12}\n", vector.vector, vector.role, stats.deliveries,
                 stats.claimed, stats.unclaimed, microseconds(stats.mean_latency()), microseconds(stats.max_latency));
    }
  }
}
