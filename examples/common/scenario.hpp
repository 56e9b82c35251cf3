// What an example's scenario reports: the examples' own programs print one, irqsim_demo prints
// them all, and the machine-wide counters are printed alongside (summary.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// One vector a scenario's device raises, with what it stands for ("MSI-X message 2: queue 2").
struct ScenarioVector {
  std::uint32_t vector;
  std::string role;
};

struct ScenarioResult {
  std::string name;
  std::vector<ScenarioVector> vectors;
  // What the driver counted against what the hardware produced, one line each.
  std::vector<std::string> findings;
  // Every event the hardware produced was handled exactly once.
  bool accounted = false;
};
