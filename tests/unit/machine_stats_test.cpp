// MachineStats::summary (include/irqsim/machine_stats.hpp), built by hand: the vector rows with
// their counters, timings and sources, the processors' shares of time at the IRQLs they ran
// at, the DPC routines, the notes and markers, empty sections, and the 120-column limit.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <irqsim/irql.hpp>
#include <irqsim/machine_stats.hpp>

#include "driver_test_support.hpp"

namespace {

using irqsim::DpcRoutineStats;
using irqsim::MachineStats;
using irqsim::ProcessorStats;
using irqsim::VectorEntry;
using irqsim::VectorStats;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using irqsim_test::MatchesStdRegex;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Every line of `text` that starts with `prefix`, in order.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> found;
  for (const std::string& line : Lines(text)) {
    if (line.starts_with(prefix)) found.push_back(line);
  }
  return found;
}

// A vector whose counters add up: 10 edges, 9 delivered and 1 coalesced; 8 claimed, 1 not.
VectorEntry NicVector() {
  VectorEntry entry;
  entry.vector = 0x51;
  entry.source = "nic message 0";
  VectorStats& stats = entry.stats;
  stats.raised = 10;
  stats.delivered_edges = 9;
  stats.coalesced = 1;
  stats.deliveries = 9;
  stats.claimed = 8;
  stats.unclaimed = 1;
  for (int i = 0; i < 9; ++i) stats.latency.add(nanoseconds{1500});
  stats.service_time.add(milliseconds{3});
  return entry;
}

// 5 edges raised, only 3 accounted for.
VectorEntry UartVectorThatDoesNotAddUp() {
  VectorEntry entry;
  entry.vector = 0x62;
  entry.source = "uart line 0";
  entry.stats.raised = 5;
  entry.stats.delivered_edges = 3;
  entry.stats.deliveries = 3;
  entry.stats.claimed = 3;
  return entry;
}

// Processor 0: a quarter of its time at PASSIVE_LEVEL, a quarter at DISPATCH_LEVEL, half idle.
// Processor 1: a quarter at IRQL 5, the rest idle.
std::vector<ProcessorStats> TwoProcessors() {
  std::vector<ProcessorStats> processors(2);
  processors[0].time_at_irql[irqsim::irql::kPassive] = milliseconds{25};
  processors[0].time_at_irql[irqsim::irql::kDispatch] = milliseconds{25};
  processors[0].idle = milliseconds{50};
  processors[0].interrupts = 4;
  processors[0].dpcs = 3;
  processors[1].time_at_irql[5] = milliseconds{10};
  processors[1].idle = milliseconds{30};
  processors[1].interrupts = 5;
  return processors;
}

DpcRoutineStats DpcRoutine() {
  DpcRoutineStats routine;
  routine.routine = 0x7ff6a1b2c3d0;
  routine.duration.add(nanoseconds{2000});
  routine.duration.add(nanoseconds{4000});
  return routine;
}

MachineStats Busy() {
  MachineStats stats;
  stats.uptime = milliseconds{2500};
  stats.vectors = {NicVector(), UartVectorThatDoesNotAddUp()};
  stats.processors = TwoProcessors();
  stats.dpc_routines = {DpcRoutine()};
  return stats;
}

TEST(ProcessorStats, TotalIsIdlePlusTheTimeAtEveryIrql) {
  ProcessorStats stats;
  stats.idle = nanoseconds{7};
  stats.time_at_irql[irqsim::irql::kPassive] = nanoseconds{100};
  stats.time_at_irql[irqsim::irql::kHigh] = nanoseconds{20};
  EXPECT_EQ(stats.total(), nanoseconds{127});
}

TEST(MachineStats, SummaryOpensWithUptimeAndProcessorCount) {
  EXPECT_EQ(Lines(Busy().summary()).front(), "irqsim machine: up 2.50 s, 2 processors");
}

TEST(MachineStats, SummaryListsEachVectorsCountersWithItsSource) {
  const std::string summary = Busy().summary();
  // raised, deliveries, claimed, unclaimed, unexpected, coalesced, dropped.
  EXPECT_THAT(LinesStartingWith(summary, "0x51"), Contains(MatchesStdRegex("0x51 +nic message 0 +10 +9 +8 +1 +0 +1 +0")));
  EXPECT_THAT(LinesStartingWith(summary, "0x62"),
              Contains(MatchesStdRegex("0x62 +uart line 0 +5 +3 +3 +0 +0 +0 +0 +\\(counters do not add up\\)")));
}

TEST(MachineStats, SummaryGivesEachVectorsLatencyAndServiceTime) {
  const std::string summary = Busy().summary();
  // 1500 ns is in [1024, 2048): p50 and p99 are clamped to the maximum; no service time for 0x62.
  EXPECT_THAT(LinesStartingWith(summary, "0x51"),
              Contains(MatchesStdRegex("0x51 +nic message 0 +1\\.50 us +1\\.50 us +1\\.50 us +3\\.00 ms +3\\.00 ms")));
  EXPECT_THAT(LinesStartingWith(summary, "0x62"), Contains(MatchesStdRegex("0x62 +uart line 0 +- +- +- +- +-")));
}

TEST(MachineStats, SummaryMarksOnlyTheVectorWhoseCountersDoNotAddUp) {
  const std::string summary = Busy().summary();
  for (const std::string& line : LinesStartingWith(summary, "0x51")) {
    EXPECT_THAT(line, Not(HasSubstr("do not add up")));
  }
  MachineStats consistent = Busy();
  consistent.vectors.pop_back();
  EXPECT_THAT(consistent.summary(), Not(HasSubstr("do not add up")));
}

TEST(MachineStats, SummaryMarksDeliveriesThatDoNotAddUp) {
  MachineStats stats = Busy();
  stats.vectors[0].stats.claimed = 7;
  EXPECT_THAT(LinesStartingWith(stats.summary(), "0x51"), Contains(HasSubstr("(counters do not add up)")));
}

TEST(MachineStats, SummaryClipsALongSourceToKeepAVectorsCountersOnOneLine) {
  MachineStats stats = Busy();
  stats.vectors[1].source = "nic line 0, uart line 0, audio line 0, modem line 0";
  const std::vector<std::string> rows = LinesStartingWith(stats.summary(), "0x62");
  EXPECT_THAT(rows, Contains(MatchesStdRegex("0x62 +[^ ].*\\.\\.\\. +5 +3 +3 +0 +0 +0 +0 +\\(counters do not add up\\)")));
  // The timing table has room for all of it.
  EXPECT_THAT(rows, Contains(HasSubstr("nic line 0, uart line 0, audio line 0, modem line 0")));
}

TEST(MachineStats, SummaryShowsOnlyTheIrqlsSomeProcessorSpentTimeAt) {
  const std::vector<std::string> headers = LinesStartingWith(Busy().summary(), "processor ");
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_THAT(headers[0], MatchesStdRegex("processor +interrupts +DPCs +PASSIVE +DISPATCH +5 +idle"));
}

TEST(MachineStats, SummaryGivesEachProcessorsShareOfItsOwnTime) {
  const std::string summary = Busy().summary();
  EXPECT_THAT(Lines(summary), Contains(MatchesStdRegex("0 +4 +3 +25\\.0% +25\\.0% +0\\.0% +50\\.0%")));
  EXPECT_THAT(Lines(summary), Contains(MatchesStdRegex("1 +5 +0 +0\\.0% +0\\.0% +25\\.0% +75\\.0%")));
}

TEST(MachineStats, SummaryNamesTheHighIrqlsAndNumbersTheDeviceIrqls) {
  MachineStats stats = Busy();
  stats.processors[1].time_at_irql[irqsim::irql::kApc] = milliseconds{1};
  stats.processors[1].time_at_irql[irqsim::irql::kDeviceHighest] = milliseconds{1};
  stats.processors[1].time_at_irql[irqsim::irql::kClock] = milliseconds{1};
  stats.processors[1].time_at_irql[irqsim::irql::kIpi] = milliseconds{1};
  stats.processors[1].time_at_irql[irqsim::irql::kHigh] = milliseconds{1};
  EXPECT_THAT(
      LinesStartingWith(stats.summary(), "processor "),
      Contains(MatchesStdRegex("processor +interrupts +DPCs +PASSIVE +APC +DISPATCH +5 +12 +CLOCK +IPI +HIGH +idle")));
}

TEST(MachineStats, SummaryNotesApproximateIrqlTimesUnlessEveryProcessorChargedThemExactly) {
  MachineStats stats = Busy();
  stats.processors[0].exact_irql_changes = true;
  EXPECT_THAT(stats.summary(), HasSubstr("note: driver raises (KeRaiseIrql, spin locks)"));
  stats.processors[1].exact_irql_changes = true;
  EXPECT_THAT(stats.summary(), Not(HasSubstr("note:")));
}

TEST(MachineStats, SummaryListsEachDpcRoutinesRunsAndDuration) {
  // mean 3000 ns; 4000 ns is in [2048, 4096), clamped to the maximum.
  EXPECT_THAT(Lines(Busy().summary()), Contains(MatchesStdRegex("0x7ff6a1b2c3d0 +2 +3\\.00 us +4\\.00 us +4\\.00 us")));
}

TEST(MachineStats, SummarySaysSoForEachEmptySection) {
  const std::string summary = MachineStats{}.summary();
  EXPECT_EQ(summary,
            "irqsim machine: up 0 ns, 0 processors\n"
            "\n"
            "no vector saw activity\n"
            "\n"
            "no processor\n"
            "\n"
            "no DPC routine ran");
}

TEST(MachineStats, SummaryFitsInOneHundredTwentyColumnsWhateverItHoldsAndKeepsEveryRow) {
  constexpr std::uint64_t kMost = std::numeric_limits<std::uint64_t>::max();
  MachineStats stats;
  stats.uptime = std::chrono::hours{100};
  VectorEntry shared;
  shared.vector = 0xffffffff;
  shared.source = std::string(200, 's');
  shared.stats.raised = shared.stats.deliveries = shared.stats.claimed = shared.stats.unclaimed = kMost;
  shared.stats.unexpected = shared.stats.coalesced = shared.stats.dropped = kMost;
  shared.stats.latency.add(std::chrono::hours{50});
  shared.stats.service_time.add(nanoseconds{-1});
  stats.vectors = {shared, NicVector()};
  stats.processors.resize(8);
  for (ProcessorStats& processor : stats.processors) {
    for (std::chrono::nanoseconds& time : processor.time_at_irql) time = milliseconds{1};
    processor.idle = milliseconds{4};
    processor.interrupts = processor.dpcs = kMost;
  }
  stats.dpc_routines.resize(1);
  stats.dpc_routines[0].routine = std::numeric_limits<std::uintptr_t>::max();

  const std::string summary = stats.summary();
  for (const std::string& line : Lines(summary)) EXPECT_LE(line.size(), 120u) << line;
  EXPECT_THAT(summary, AllOf(HasSubstr("(counters do not add up)"), HasSubstr("18446744073709551615")));
  EXPECT_THAT(LinesStartingWith(summary, "0x51"), Contains(MatchesStdRegex("0x51 +nic message 0 .*")));
  // The processors table is cut into blocks of columns; together they hold every IRQL, and each
  // block has a row for every processor.
  const std::vector<std::string> headers = LinesStartingWith(summary, "processor ");
  ASSERT_GE(headers.size(), 2u);
  std::string columns;
  for (const std::string& header : headers) columns += header.substr(std::string("processor").size());
  EXPECT_THAT(columns, MatchesStdRegex(" +interrupts +DPCs +PASSIVE +APC +DISPATCH +3 +4 +5 +6 +7 +8 +9 +10 +11 +12 "
                                    "+CLOCK +IPI +HIGH +idle"));
  for (int processor = 0; processor < 8; ++processor) {
    EXPECT_EQ(LinesStartingWith(summary, std::to_string(processor) + " ").size(), headers.size()) << processor;
  }
  EXPECT_THAT(LinesStartingWith(summary, "7 "), Contains(HasSubstr("20.0%")));
  EXPECT_THAT(LinesStartingWith(summary, "7 "), Contains(HasSubstr("5.0%")));
}

}  // namespace
