#include "irqsim/machine_stats.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "control/duration_text.hpp"
#include "control/text_table.hpp"

namespace irqsim {

namespace {

using control::TextTable;
using Align = TextTable::Align;
using std::chrono::nanoseconds;

// A terminal's width: a test failure message is read in one, next to the code.
constexpr std::size_t kLineWidth = 120;

// "-" for a histogram without samples, where "0 ns" would claim a measurement.
std::string measured(const DurationHistogram& histogram, nanoseconds value) {
  return histogram.count() == 0 ? "-" : control::duration_text(value);
}

std::string irql_name(Irql level) {
  switch (level) {
    case irql::kPassive: return "PASSIVE";
    case irql::kApc: return "APC";
    case irql::kDispatch: return "DISPATCH";
    case irql::kClock: return "CLOCK";
    case irql::kIpi: return "IPI";
    case irql::kHigh: return "HIGH";
    default: return fmt::to_string(unsigned{level});
  }
}

std::string share(nanoseconds part, nanoseconds whole) {
  if (whole.count() <= 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part.count()) / static_cast<double>(whole.count()));
}

void append(std::vector<std::string>& lines, const std::vector<std::string>& more) {
  lines.insert(lines.end(), more.begin(), more.end());
}

bool adds_up(const VectorStats& stats) { return stats.edges_add_up() && stats.deliveries_add_up(); }

TextTable vector_counts(const std::vector<VectorEntry>& vectors) {
  std::vector<TextTable::Column> columns{{"vector", Align::Left},      {"source", Align::Left, true},
                                         {"raised", Align::Right},     {"deliveries", Align::Right},
                                         {"claimed", Align::Right},    {"unclaimed", Align::Right},
                                         {"unexpected", Align::Right}, {"coalesced", Align::Right},
                                         {"dropped", Align::Right}};
  const bool any_marked =
      std::any_of(vectors.begin(), vectors.end(), [](const VectorEntry& entry) { return !adds_up(entry.stats); });
  if (any_marked) columns.push_back({"", Align::Left});
  TextTable table(std::move(columns), 2);
  for (const VectorEntry& entry : vectors) {
    const VectorStats& stats = entry.stats;
    std::vector<std::string> row{fmt::format("{:#x}", entry.vector), entry.source,
                                 fmt::to_string(stats.raised),       fmt::to_string(stats.deliveries),
                                 fmt::to_string(stats.claimed),      fmt::to_string(stats.unclaimed),
                                 fmt::to_string(stats.unexpected),   fmt::to_string(stats.coalesced),
                                 fmt::to_string(stats.dropped)};
    if (any_marked) row.emplace_back(adds_up(stats) ? "" : "(counters do not add up)");
    table.add_row(std::move(row));
  }
  return table;
}

TextTable vector_times(const std::vector<VectorEntry>& vectors) {
  TextTable table({{"vector", Align::Left},
                   {"source", Align::Left, true},
                   {"latency p50", Align::Right},
                   {"p99", Align::Right},
                   {"max", Align::Right},
                   {"service p50", Align::Right},
                   {"max", Align::Right}},
                  2);
  for (const VectorEntry& entry : vectors) {
    const DurationHistogram& latency = entry.stats.latency;
    const DurationHistogram& service = entry.stats.service_time;
    table.add_row({fmt::format("{:#x}", entry.vector), entry.source, measured(latency, latency.percentile(0.5)),
                   measured(latency, latency.percentile(0.99)), measured(latency, latency.max()),
                   measured(service, service.percentile(0.5)), measured(service, service.max())});
  }
  return table;
}

void append_vectors(std::vector<std::string>& lines, const std::vector<VectorEntry>& vectors) {
  if (vectors.empty()) {
    lines.emplace_back("no vector saw activity");
    return;
  }
  lines.emplace_back("interrupts by vector");
  append(lines, vector_counts(vectors).lines(kLineWidth));
  lines.emplace_back();
  lines.emplace_back("latency (deliverable to accepted) and service time (accepted to end of interrupt) by vector");
  append(lines, vector_times(vectors).lines(kLineWidth));
}

void append_processors(std::vector<std::string>& lines, const std::vector<ProcessorStats>& processors) {
  if (processors.empty()) {
    lines.emplace_back("no processor");
    return;
  }
  // Only the levels some processor ran at: most of the sixteen columns would be zeros.
  std::vector<Irql> levels;
  for (unsigned level = irql::kPassive; level <= irql::kHigh; ++level) {
    if (std::any_of(processors.begin(), processors.end(),
                    [level](const ProcessorStats& stats) { return stats.time_at_irql[level].count() > 0; })) {
      levels.push_back(static_cast<Irql>(level));
    }
  }
  std::vector<TextTable::Column> columns{
      {"processor", Align::Left}, {"interrupts", Align::Right}, {"DPCs", Align::Right}};
  for (Irql level : levels) columns.push_back({irql_name(level), Align::Right});
  columns.push_back({"idle", Align::Right});
  TextTable table(std::move(columns), 1);
  for (std::size_t index = 0; index < processors.size(); ++index) {
    const ProcessorStats& stats = processors[index];
    const nanoseconds total = stats.total();
    std::vector<std::string> row{fmt::to_string(index), fmt::to_string(stats.interrupts),
                                 fmt::to_string(stats.dpcs)};
    for (Irql level : levels) row.push_back(share(stats.time_at_irql[level], total));
    row.push_back(share(stats.idle, total));
    table.add_row(std::move(row));
  }
  lines.emplace_back("processors: interrupts taken, DPCs run, and the share of time at each IRQL and idle");
  append(lines, table.lines(kLineWidth));
  if (std::any_of(processors.begin(), processors.end(),
                  [](const ProcessorStats& stats) { return !stats.exact_irql_changes; })) {
    lines.emplace_back("note: driver raises (KeRaiseIrql, spin locks) are charged at their routine's starting IRQL "
                       "unless a trace is recorded");
  }
}

void append_dpc_routines(std::vector<std::string>& lines, const std::vector<DpcRoutineStats>& routines) {
  if (routines.empty()) {
    lines.emplace_back("no DPC routine ran");
    return;
  }
  TextTable table({{"routine", Align::Left},
                   {"runs", Align::Right},
                   {"mean", Align::Right},
                   {"p99", Align::Right},
                   {"max", Align::Right}},
                  1);
  for (const DpcRoutineStats& routine : routines) {
    const DurationHistogram& duration = routine.duration;
    table.add_row({fmt::format("{:#x}", routine.routine), fmt::to_string(duration.count()),
                   measured(duration, duration.mean()), measured(duration, duration.percentile(0.99)),
                   measured(duration, duration.max())});
  }
  lines.emplace_back("DPC routines: time from call to return");
  append(lines, table.lines(kLineWidth));
}

}  // namespace

nanoseconds ProcessorStats::total() const noexcept {
  return std::accumulate(time_at_irql.begin(), time_at_irql.end(), idle);
}

std::string MachineStats::summary() const {
  std::vector<std::string> lines{fmt::format("irqsim machine: up {}, {} processor{}", control::duration_text(uptime),
                                             processors.size(), processors.size() == 1 ? "" : "s")};
  lines.emplace_back();
  append_vectors(lines, vectors);
  lines.emplace_back();
  append_processors(lines, processors);
  lines.emplace_back();
  append_dpc_routines(lines, dpc_routines);
  return fmt::format("{}", fmt::join(lines, "\n"));
}

}  // namespace irqsim
