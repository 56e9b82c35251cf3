#pragma once
// The figures the benchmark program ends with: each irqsim measurement set against its raw
// baseline from the same run, or against an absolute limit, and whether it meets its target.

#include <map>
#include <string>

namespace bench {

// One benchmark's result: the median of its repetitions where there were several.
struct Measurement {
  double real_time_ns = 0;
  std::map<std::string, double> counters;
};

// Results keyed by function name and arguments, "BM_Irqsim_SpreadInterrupts/64".
using Measurements = std::map<std::string, Measurement>;

// Prints the closing table (fmt): figure, irqsim, baseline, ratio, target, met. Figures whose
// benchmarks were filtered out are left out. Returns the number of targets missed.
int print_figures(const Measurements& measured);

}  // namespace bench
