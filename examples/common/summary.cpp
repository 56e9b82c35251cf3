#include "summary.hpp"

#include <fmt/format.h>

void print_result(const ScenarioResult& result) {
  fmt::print("{}\n", result.name);
  for (const std::string& finding : result.findings) fmt::print("  {}\n", finding);
  fmt::print("  {}\n", result.accounted ? "every event accounted for" : "EVENTS WERE LOST");
}

void print_machine_summary(const irqsim::Machine& machine, const std::vector<ScenarioResult>& results) {
  fmt::print("\nWhat the vectors stand for:\n");
  for (const ScenarioResult& result : results) {
    for (const ScenarioVector& vector : result.vectors) fmt::print("  {:#x}  {}\n", vector.vector, vector.role);
  }
  fmt::print("\n{}", machine.statistics().summary());
}
