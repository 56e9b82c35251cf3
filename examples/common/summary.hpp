// Printing scenario results and what the machine saw while they ran, with fmt.
#pragma once

#include <irqsim/machine.hpp>

#include <vector>

#include "scenario.hpp"

// The scenario's findings and its verdict.
void print_result(const ScenarioResult& result);

// Interrupts each processor took, then each scenario vector's deliveries, claimed and unclaimed
// counts and interrupt latency (from the vector becoming deliverable to a processor accepting it).
void print_machine_summary(const irqsim::Machine& machine, const std::vector<ScenarioResult>& results);
