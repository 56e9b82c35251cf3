// Printing scenario results and what the machine saw while they ran, with fmt.
#pragma once

#include <irqsim/machine.hpp>

#include <vector>

#include "scenario.hpp"

// The scenario's findings and its verdict.
void print_result(const ScenarioResult& result);

// What each scenario vector stands for, then the machine's statistics (MachineStats::summary):
// per vector, per processor and per DPC routine.
void print_machine_summary(const irqsim::Machine& machine, const std::vector<ScenarioResult>& results);
