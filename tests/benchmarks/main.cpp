// The benchmark program: Google Benchmark runs every pair, nine interleaved repetitions each
// unless told otherwise, and the program ends with the table of figures against their targets.
// The exit status does not depend on the targets: a loaded CI machine runs this only as a
// smoke test.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "figures.hpp"
#include "host.hpp"

namespace {

// Shows results as they come and keeps each benchmark's median for the table.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      std::string name = run.run_name.function_name;
      if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
      // A median replaces the single runs it summarises.
      if (!median && medians_.contains(name)) continue;
      bench::Measurement& measurement = measured_[name];
      measurement.real_time_ns = run.GetAdjustedRealTime() * multiplier_to_ns(run.time_unit);
      for (const auto& [counter, value] : run.counters) measurement.counters[counter] = value.value;
      if (median) medians_.insert(name);
    }
  }

  [[nodiscard]] const bench::Measurements& measured() const { return measured_; }

 private:
  static double multiplier_to_ns(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kSecond: return 1e9;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kMicrosecond: return 1e3;
      case benchmark::kNanosecond: return 1;
    }
    return 1;
  }

  bench::Measurements measured_;
  std::set<std::string> medians_;
};

bool has_flag(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with(flag)) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  bench::record_resident_bytes_at_start();
  std::vector<char*> arguments(argv, argv + argc);
  // Repetitions of different benchmarks are interleaved at random, so a pair's irqsim figure
  // and its baseline sample the same stretches of a noisy host.
  std::string repetitions = "--benchmark_repetitions=9";
  std::string interleaving = "--benchmark_enable_random_interleaving=true";
  std::string aggregates = "--benchmark_display_aggregates_only=true";
  if (!has_flag(argc, argv, "--benchmark_repetitions")) arguments.push_back(repetitions.data());
  if (!has_flag(argc, argv, "--benchmark_enable_random_interleaving")) arguments.push_back(interleaving.data());
  if (!has_flag(argc, argv, "--benchmark_display_aggregates_only")) arguments.push_back(aggregates.data());
  int count = static_cast<int>(arguments.size());
  benchmark::Initialize(&count, arguments.data());
  if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) return 1;

  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const int missed = bench::print_figures(reporter.measured());
  fmt::print("{}\n", missed == 0 ? "Every target met." : fmt::format("{} target(s) missed.", missed));
  return 0;
}
