// Trace export (include/irqsim/trace.hpp): Chrome trace-event JSON and the SVG timeline, from
// traces built by hand, including traces whose tracks lost events.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <irqsim/trace.hpp>
#include <nlohmann/json.hpp>

#include "file_contents.hpp"

namespace {

using irqsim::InterruptOutcome;
using irqsim::Trace;
using irqsim::TraceEvent;
using irqsim::TraceEventKind;
using irqsim::TraceTrack;
using Json = nlohmann::json;

constexpr std::uint16_t kEdgeVector = 0x51;
constexpr std::uint16_t kLevelVector = 0x61;
constexpr std::uint32_t kThread = TraceTrack::kFirstThreadTrack;

// ---- building traces -----------------------------------------------------------------------

TraceEvent event(TraceEventKind kind, std::int64_t ns, std::uint16_t vector = 0, std::uint64_t subject = 0,
                 std::uint64_t argument = 0, std::uint8_t irql = 0) {
  return {.time_ns = ns, .subject = subject, .argument = argument, .vector = vector, .kind = kind, .irql = irql};
}
TraceEvent raise(std::int64_t ns, std::uint16_t vector, std::uint64_t edge) {
  return event(TraceEventKind::Raise, ns, vector, 0, edge);
}
TraceEvent deliver(std::int64_t ns, std::uint16_t vector, std::uint64_t raised, std::uint8_t irql = 5) {
  return event(TraceEventKind::Deliver, ns, vector, raised, 80, irql);
}
TraceEvent interrupt_end(std::int64_t ns, std::uint16_t vector) {
  return event(TraceEventKind::InterruptEnd, ns, vector, 0, static_cast<std::uint64_t>(InterruptOutcome::Claimed));
}
TraceEvent isr_enter(std::int64_t ns, std::uint16_t vector, std::uint64_t isr) {
  return event(TraceEventKind::IsrEnter, ns, vector, isr, 0xb0b0, 6);
}
TraceEvent isr_exit(std::int64_t ns, std::uint16_t vector, std::uint64_t isr, bool claimed = true) {
  return event(TraceEventKind::IsrExit, ns, vector, isr, claimed ? 1 : 0, 6);
}
TraceEvent irql_change(std::int64_t ns, std::uint8_t irql, std::uint8_t previous) {
  return event(TraceEventKind::IrqlChange, ns, 0, 0, previous, irql);
}

TraceTrack track(std::uint32_t id, std::string name, std::vector<TraceEvent> events) {
  for (TraceEvent& e : events) e.track = id;
  TraceTrack result;
  result.id = id;
  result.name = std::move(name);
  if (id < TraceTrack::kFirstThreadTrack) result.processor = id;
  result.events = std::move(events);
  return result;
}
TraceTrack cpu(std::uint32_t index, std::vector<TraceEvent> events) {
  return track(index, fmt::format("CPU {}", index), std::move(events));
}
TraceTrack thread(std::vector<TraceEvent> events) { return track(kThread, "thread 1", std::move(events)); }

// A thread raises two edges of an edge vector and asserts a level line; CPU 0, inside a
// run_on function, takes both edges in one delivery whose first ISR is interrupted by the level
// line's delivery, runs a second ISR of the shared vector, then a DPC; CPU 1 takes a spin lock.
// 7 slices, 6 point events, 3 arrows.
Trace sample_trace() {
  Trace trace;
  trace.tracks.push_back(cpu(0, {
                                    event(TraceEventKind::WorkBegin, 1000),
                                    deliver(1100, kEdgeVector, 2),
                                    irql_change(1100, 5, 0),
                                    isr_enter(1110, kEdgeVector, 0xa1),
                                    irql_change(1110, 6, 5),
                                    deliver(1600, kLevelVector, 0, 8),
                                    irql_change(1600, 8, 6),
                                    isr_enter(1610, kLevelVector, 0xc1),
                                    irql_change(1610, 9, 8),
                                    isr_exit(1700, kLevelVector, 0xc1),
                                    irql_change(1700, 8, 9),
                                    interrupt_end(1710, kLevelVector),
                                    irql_change(1710, 6, 8),
                                    isr_exit(1800, kEdgeVector, 0xa1, false),
                                    irql_change(1800, 5, 6),
                                    isr_enter(1810, kEdgeVector, 0xa2),
                                    event(TraceEventKind::DpcQueue, 1820, 0, 0xd1, 0xd0, 6),
                                    isr_exit(1850, kEdgeVector, 0xa2),
                                    interrupt_end(1860, kEdgeVector),
                                    irql_change(1860, 0, 5),
                                    irql_change(1900, 2, 0),
                                    event(TraceEventKind::DpcEnter, 1900, 0, 0xd1, 0xd0, 2),
                                    event(TraceEventKind::DpcExit, 2000, 0, 0xd1, 0xd0, 2),
                                    irql_change(2000, 0, 2),
                                    event(TraceEventKind::WorkEnd, 2100),
                                }));
  trace.tracks.push_back(cpu(1, {
                                    event(TraceEventKind::LockAcquire, 1200, 0, 0x10, 0, 2),
                                    event(TraceEventKind::LockRelease, 1300, 0, 0x10, 0, 2),
                                }));
  trace.tracks.push_back(thread({
      raise(900, kEdgeVector, 1),
      raise(950, kEdgeVector, 2),
      event(TraceEventKind::LineAssert, 1500, kLevelVector),
  }));
  return trace;
}
constexpr std::size_t kSampleSlices = 7;
constexpr std::size_t kSampleInstants = 6;
constexpr std::size_t kSampleFlows = 3;

// ---- reading the JSON ----------------------------------------------------------------------

Json chrome_json(const Trace& trace) { return Json::parse(trace.to_chrome_json()); }

std::int64_t ns(const Json& microseconds) { return std::llround(microseconds.get<double>() * 1000.0); }

std::vector<Json> events_of(const Json& doc, std::string_view phase, std::string_view category = {}) {
  std::vector<Json> found;
  for (const Json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() != phase) continue;
    if (!category.empty() && e.value("cat", "") != category) continue;
    found.push_back(e);
  }
  return found;
}

// Any two complete slices of a thread are disjoint or one contains the other: what Perfetto
// and chrome://tracing need to nest them.
void expect_slices_nest(const Json& doc) {
  std::map<std::uint32_t, std::vector<std::pair<std::int64_t, std::int64_t>>> by_thread;
  for (const Json& e : events_of(doc, "X")) {
    const std::int64_t begin = ns(e.at("ts"));
    by_thread[e.at("tid").get<std::uint32_t>()].emplace_back(begin, begin + ns(e.at("dur")));
  }
  for (const auto& [tid, slices] : by_thread) {
    for (const auto& [b1, e1] : slices) {
      EXPECT_LE(b1, e1);
      for (const auto& [b2, e2] : slices) {
        const bool disjoint = e1 <= b2 || e2 <= b1;
        const bool nested = (b1 <= b2 && e2 <= e1) || (b2 <= b1 && e1 <= e2);
        EXPECT_TRUE(disjoint || nested) << "tid " << tid << ": [" << b1 << ", " << e1 << "] and [" << b2 << ", " << e2
                                        << "] overlap";
      }
    }
  }
}

// An arrow as the JSON draws it: start thread and time, finish thread and time.
struct Arrow {
  std::uint32_t from_tid;
  std::int64_t from_ns;
  std::uint32_t to_tid;
  std::int64_t to_ns;
  friend auto operator<=>(const Arrow&, const Arrow&) = default;
};

// Pairs the flow starts and finishes by id, checking that each id has exactly one of each.
std::set<Arrow> arrows(const Json& doc) {
  std::map<std::uint64_t, Json> starts;
  std::map<std::uint64_t, Json> finishes;
  for (const Json& s : events_of(doc, "s")) EXPECT_TRUE(starts.emplace(s.at("id").get<std::uint64_t>(), s).second);
  for (const Json& f : events_of(doc, "f")) {
    EXPECT_EQ(f.at("bp"), "e") << "a finish binds to the delivery enclosing it";
    EXPECT_TRUE(finishes.emplace(f.at("id").get<std::uint64_t>(), f).second);
  }
  std::set<Arrow> result;
  EXPECT_EQ(starts.size(), finishes.size());
  for (const auto& [id, s] : starts) {
    const auto f = finishes.find(id);
    if (f == finishes.end()) {
      ADD_FAILURE() << "flow " << id << " never finishes";
      continue;
    }
    EXPECT_EQ(s.at("cat"), f->second.at("cat"));
    EXPECT_EQ(s.at("name"), f->second.at("name"));
    result.insert({s.at("tid").get<std::uint32_t>(), ns(s.at("ts")), f->second.at("tid").get<std::uint32_t>(),
                   ns(f->second.at("ts"))});
  }
  return result;
}

// The value of each "C" event named `name`, by time.
std::vector<std::pair<std::int64_t, int>> counter(const Json& doc, std::string_view name) {
  std::vector<std::pair<std::int64_t, int>> values;
  for (const Json& c : events_of(doc, "C")) {
    if (c.at("name").get<std::string>() == name)
      values.emplace_back(ns(c.at("ts")), c.at("args").at("irql").get<int>());
  }
  return values;
}

Json slice_named(const Json& doc, std::string_view name) {
  for (const Json& x : events_of(doc, "X")) {
    if (x.at("name").get<std::string>() == name) return x;
  }
  ADD_FAILURE() << "no slice named " << name;
  return {};
}

// ---- Chrome trace-event JSON ---------------------------------------------------------------

TEST(ChromeTraceExport, EveryTrackGetsOneThreadNameAndASortIndexInTraceOrder) {
  const Json doc = chrome_json(sample_trace());
  EXPECT_EQ(doc.at("displayTimeUnit"), "ns");
  std::map<std::uint32_t, std::vector<std::string>> names;
  std::map<std::uint32_t, int> sort_index;
  for (const Json& m : events_of(doc, "M")) {
    EXPECT_EQ(m.at("pid"), 1);
    const auto tid = m.at("tid").get<std::uint32_t>();
    if (m.at("name") == "thread_name") names[tid].push_back(m.at("args").at("name").get<std::string>());
    if (m.at("name") == "thread_sort_index") sort_index[tid] = m.at("args").at("sort_index").get<int>();
  }
  const std::map<std::uint32_t, std::vector<std::string>> expected{
      {0, {"CPU 0"}}, {1, {"CPU 1"}}, {kThread, {"thread 1"}}};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(sort_index, (std::map<std::uint32_t, int>{{0, 0}, {1, 1}, {kThread, 2}}));
}

TEST(ChromeTraceExport, DeliveriesIsrsDpcsAndWorkBecomeCompleteSlicesThatNest) {
  const Json doc = chrome_json(sample_trace());
  EXPECT_EQ(events_of(doc, "X", "work").size(), 1U);
  EXPECT_EQ(events_of(doc, "X", "interrupt").size(), 2U) << "one slice per Deliver";
  EXPECT_EQ(events_of(doc, "X", "isr").size(), 3U) << "one slice per IsrEnter/IsrExit pair";
  EXPECT_EQ(events_of(doc, "X", "dpc").size(), 1U);
  expect_slices_nest(doc);

  const Json isr = slice_named(doc, "ISR 0xa1");
  EXPECT_EQ(isr.at("tid"), 0);
  EXPECT_EQ(ns(isr.at("ts")), 1110);
  EXPECT_EQ(ns(isr.at("dur")), 690);
  EXPECT_EQ(isr.at("args").at("vector"), "0x51");
  EXPECT_EQ(isr.at("args").at("returned"), "FALSE");
  const Json delivery = slice_named(doc, "vector 0x61");
  EXPECT_EQ(ns(delivery.at("ts")), 1600);
  EXPECT_EQ(ns(delivery.at("dur")), 110);
  EXPECT_EQ(delivery.at("args").at("outcome"), "claimed");
  EXPECT_EQ(delivery.at("args").at("level"), true);
  EXPECT_EQ(slice_named(doc, "DPC 0xd1").at("args").at("dpc"), "0xd0");
  EXPECT_EQ(ns(slice_named(doc, "run_on/post").at("dur")), 1100);
}

TEST(ChromeTraceExport, TimesAreMicrosecondsToTheNanosecond) {
  Trace trace;
  trace.tracks.push_back(cpu(0, {event(TraceEventKind::WorkBegin, 12'345), event(TraceEventKind::WorkEnd, 1'012'346)}));
  const std::string json = trace.to_chrome_json();
  EXPECT_NE(json.find("\"ts\":12.345,\"dur\":1000.001"), std::string::npos) << json;
}

TEST(ChromeTraceExport, PointEventsAreThreadInstants) {
  const Json doc = chrome_json(sample_trace());
  const std::vector<Json> instants = events_of(doc, "i");
  for (const Json& i : instants) EXPECT_EQ(i.at("s"), "t");
  std::multiset<std::string> names;
  for (const Json& i : instants) names.insert(i.at("name").get<std::string>());
  // The raises and the assert start arrows, so they are zero-length slices instead (below).
  EXPECT_EQ(names, (std::multiset<std::string>{"queue DPC 0xd1", "acquire lock 0x10", "release lock 0x10"}));
  const Json acquire =
      *std::ranges::find_if(instants, [](const Json& i) { return i.at("name") == "acquire lock 0x10"; });
  EXPECT_EQ(acquire.at("tid"), 1);
  EXPECT_EQ(ns(acquire.at("ts")), 1200);
  EXPECT_EQ(acquire.at("args").at("waited"), false);
}

TEST(ChromeTraceExport, CoalescedRaisesAllPointAtTheDeliveryThatTookThem) {
  Trace trace;
  trace.tracks.push_back(cpu(0, {deliver(100, kEdgeVector, 3), interrupt_end(150, kEdgeVector),
                                 deliver(300, kEdgeVector, 4), interrupt_end(350, kEdgeVector)}));
  trace.tracks.push_back(thread(
      {raise(10, kEdgeVector, 1), raise(20, kEdgeVector, 2), raise(30, kEdgeVector, 3), raise(200, kEdgeVector, 4)}));
  const Json doc = chrome_json(trace);
  const std::set<Arrow> expected{
      {kThread, 10, 0, 100}, {kThread, 20, 0, 100}, {kThread, 30, 0, 100}, {kThread, 200, 0, 300}};
  EXPECT_EQ(arrows(doc), expected);
}

TEST(ChromeTraceExport, FlowEventsSitWhereTheirSlicesBindThem) {
  const Json doc = chrome_json(sample_trace());
  const Json& events = doc.at("traceEvents");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Json& e = events[i];
    if (e.at("ph") != "s" && e.at("ph") != "f") continue;
    // Each flow event comes right after (a finish: some time after) the slice it binds to,
    // on the same thread at the same time: a start's zero-length raise slice, a finish's delivery.
    ASSERT_GT(i, 0U);
    std::size_t slice = i - 1;
    while (e.at("ph") == "f" && events[slice].at("ph") == "f") --slice;
    EXPECT_EQ(events[slice].at("ph"), "X");
    EXPECT_EQ(events[slice].at("tid"), e.at("tid"));
    EXPECT_EQ(ns(events[slice].at("ts")), ns(e.at("ts")));
    if (e.at("ph") == "s") {
      EXPECT_EQ(ns(events[slice].at("dur")), 0);
    } else {
      EXPECT_EQ(events[slice].at("cat"), "interrupt");
    }
  }
  EXPECT_EQ(events_of(doc, "s").size(), kSampleFlows);
}

TEST(ChromeTraceExport, DroppedEdgesGetNoArrow) {
  Trace trace;
  trace.tracks.push_back(cpu(0, {deliver(100, kEdgeVector, 3), interrupt_end(150, kEdgeVector)}));
  trace.tracks.push_back(thread({raise(10, kEdgeVector, 1), raise(20, kEdgeVector, 2),
                                 event(TraceEventKind::Drop, 25, kEdgeVector, 0, 2), raise(30, kEdgeVector, 3)}));
  const Json doc = chrome_json(trace);
  EXPECT_EQ(arrows(doc), (std::set<Arrow>{{kThread, 30, 0, 100}}));
  EXPECT_EQ(events_of(doc, "i", "raise").size(), 2U) << "the dropped raises stay instants";
  EXPECT_EQ(events_of(doc, "i", "drop").size(), 1U);
}

TEST(ChromeTraceExport, LevelLineDeliveryPointsBackToTheLatestAssertOnlyOnce) {
  Trace trace;
  trace.tracks.push_back(cpu(1, {deliver(60, kLevelVector, 0), interrupt_end(70, kLevelVector),
                                 deliver(80, kLevelVector, 0), interrupt_end(90, kLevelVector)}));
  trace.tracks.push_back(thread({event(TraceEventKind::LineAssert, 10, kLevelVector),
                                 event(TraceEventKind::LineDeassert, 40, kLevelVector),
                                 event(TraceEventKind::LineAssert, 50, kLevelVector)}));
  EXPECT_EQ(arrows(chrome_json(trace)), (std::set<Arrow>{{kThread, 50, 1, 60}}));
}

TEST(ChromeTraceExport, SampleTraceArrowsJoinEachRaiseAndTheAssertToTheirDeliveries) {
  const std::set<Arrow> expected{{kThread, 900, 0, 1100}, {kThread, 950, 0, 1100}, {kThread, 1500, 0, 1600}};
  EXPECT_EQ(arrows(chrome_json(sample_trace())), expected);
}

TEST(ChromeTraceExport, FirstDeliveryAfterLostEventsOnlyClaimsItsOwnLastEdge) {
  // The delivery that took edges 1 and 2 may be among the lost events, so edge 3's delivery
  // gets no arrow from them.
  Trace trace;
  trace.tracks.push_back(cpu(0, {deliver(100, kEdgeVector, 3), interrupt_end(150, kEdgeVector)}));
  trace.tracks.back().lost = 5;
  trace.tracks.push_back(thread({raise(10, kEdgeVector, 1), raise(20, kEdgeVector, 2), raise(30, kEdgeVector, 3)}));
  EXPECT_EQ(arrows(chrome_json(trace)), (std::set<Arrow>{{kThread, 30, 0, 100}}));
}

TEST(ChromeTraceExport, IrqlCounterFollowsIrqlChangesFromPassiveAtTimeZero) {
  const Json doc = chrome_json(sample_trace());
  const std::vector<std::pair<std::int64_t, int>> expected{{0, 0},    {1100, 5}, {1110, 6}, {1600, 8},
                                                           {1610, 9}, {1700, 8}, {1710, 6}, {1800, 5},
                                                           {1860, 0}, {1900, 2}, {2000, 0}};
  EXPECT_EQ(counter(doc, "IRQL CPU 0"), expected);
  EXPECT_EQ(counter(doc, "IRQL CPU 1"), (std::vector<std::pair<std::int64_t, int>>{{0, 0}}));
  EXPECT_TRUE(counter(doc, "IRQL thread 1").empty()) << "only processors have an IRQL counter";
}

TEST(ChromeTraceExport, IrqlCounterOfATrackThatLostEventsStartsAtItsFirstEvent) {
  Trace trace;
  trace.tracks.push_back(cpu(0, {event(TraceEventKind::IsrExit, 500, kEdgeVector, 0xa1), irql_change(510, 0, 5)}));
  trace.tracks.back().lost = 7;
  EXPECT_EQ(counter(chrome_json(trace), "IRQL CPU 0"), (std::vector<std::pair<std::int64_t, int>>{{500, 5}, {510, 0}}));
}

TEST(ChromeTraceExport, ExitWhoseEnterWasLostIsIgnoredAndTheLossIsReported) {
  Trace trace;
  trace.tracks.push_back(cpu(
      0, {isr_exit(10, kEdgeVector, 0xa1), interrupt_end(20, kEdgeVector), event(TraceEventKind::DpcExit, 25, 0, 0xd1),
          event(TraceEventKind::WorkBegin, 30), event(TraceEventKind::WorkEnd, 40)}));
  trace.tracks.back().lost = 12;
  const Json doc = chrome_json(trace);
  const std::vector<Json> slices = events_of(doc, "X");
  ASSERT_EQ(slices.size(), 1U);
  EXPECT_EQ(slices[0].at("name"), "run_on/post");
  const std::vector<Json> lost = events_of(doc, "i", "lost");
  ASSERT_EQ(lost.size(), 1U);
  EXPECT_EQ(lost[0].at("args").at("lost"), 12);
  EXPECT_EQ(ns(lost[0].at("ts")), 10);
  EXPECT_EQ(doc.at("otherData").at("lost_events"), Json::parse(R"([{"tid":0,"track":"CPU 0","lost":12}])"));
}

TEST(ChromeTraceExport, EndOfAnOuterSliceEndsInnerSlicesWhoseEndsWereLostAsUnfinished) {
  Trace trace;
  trace.tracks.push_back(
      cpu(0, {deliver(10, kEdgeVector, 1), isr_enter(20, kEdgeVector, 0xa1), interrupt_end(50, kEdgeVector)}));
  const Json doc = chrome_json(trace);
  expect_slices_nest(doc);
  const Json isr = slice_named(doc, "ISR 0xa1");
  EXPECT_EQ(ns(isr.at("dur")), 30);
  EXPECT_EQ(isr.at("args").at("unfinished"), true);
  EXPECT_FALSE(slice_named(doc, "vector 0x51").at("args").contains("unfinished"));
}

TEST(ChromeTraceExport, SlicesStillOpenEndAtTheLastTimestampAsUnfinished) {
  Trace trace;
  trace.tracks.push_back(cpu(0, {event(TraceEventKind::WorkBegin, 10), event(TraceEventKind::DpcEnter, 20, 0, 0xd1)}));
  trace.tracks.push_back(thread({raise(90, kEdgeVector, 1)}));
  const Json doc = chrome_json(trace);
  expect_slices_nest(doc);
  const Json work = slice_named(doc, "run_on/post");
  const Json dpc = slice_named(doc, "DPC 0xd1");
  EXPECT_EQ(ns(work.at("ts")) + ns(work.at("dur")), 90);
  EXPECT_EQ(ns(dpc.at("ts")) + ns(dpc.at("dur")), 90);
  EXPECT_EQ(work.at("args").at("unfinished"), true);
  EXPECT_EQ(dpc.at("args").at("unfinished"), true);
}

TEST(ChromeTraceExport, SlicesStillNestWhenATracksTimeStepsBack) {
  Trace trace;
  trace.tracks.push_back(cpu(0, {deliver(100, kEdgeVector, 1), isr_enter(120, kEdgeVector, 0xa1),
                                 isr_exit(150, kEdgeVector, 0xa1), interrupt_end(140, kEdgeVector)}));
  const Json doc = chrome_json(trace);
  expect_slices_nest(doc);
  EXPECT_EQ(ns(slice_named(doc, "vector 0x51").at("dur")), 50);
}

TEST(ChromeTraceExport, EmptyTraceIsAValidTraceWithNoEvents) {
  const Json doc = chrome_json(Trace{});
  EXPECT_TRUE(events_of(doc, "X").empty());
  EXPECT_TRUE(events_of(doc, "i").empty());
  EXPECT_TRUE(doc.at("otherData").at("lost_events").empty());

  Trace idle;
  idle.tracks.push_back(cpu(0, {}));
  const Json idle_doc = chrome_json(idle);
  EXPECT_EQ(counter(idle_doc, "IRQL CPU 0"), (std::vector<std::pair<std::int64_t, int>>{{0, 0}}));
}

TEST(ChromeTraceExport, TrackWithOnlyPointEventsGetsInstantsAndNoSlices) {
  Trace trace;
  trace.tracks.push_back(thread(
      {event(TraceEventKind::LockContend, 5, 0, 0x10, 0, 2), event(TraceEventKind::LockAcquire, 10, 0, 0x10, 1, 2),
       event(TraceEventKind::DpcQueue, 15, 3, 0xd1, 0xd0, 2), event(TraceEventKind::LockRelease, 20, 0, 0x10, 0, 2),
       event(TraceEventKind::BugCheck, 30, 0, 0x133, 1, 2)}));
  const Json doc = chrome_json(trace);
  EXPECT_TRUE(events_of(doc, "X").empty());
  const std::vector<Json> instants = events_of(doc, "i");
  ASSERT_EQ(instants.size(), 5U);
  EXPECT_EQ(instants[1].at("args").at("waited"), true);
  EXPECT_EQ(instants[2].at("args").at("processor"), 3);
  EXPECT_EQ(instants[4].at("name"), "bug check 0x133");
  EXPECT_EQ(instants[4].at("cat"), "bugcheck");
}

TEST(ChromeTraceExport, NamesNeedingEscapingSurviveTheRoundTrip) {
  const std::string name = "CPU \"0\" \\ \n\t\x01\x1f caf\xC3\xA9";
  Trace trace;
  trace.tracks.push_back(track(0, name, {event(TraceEventKind::WorkBegin, 1), event(TraceEventKind::WorkEnd, 2)}));
  trace.tracks.back().lost = 1;
  const Json doc = chrome_json(trace);
  EXPECT_EQ(events_of(doc, "M").at(1).at("args").at("name"), name);
  EXPECT_EQ(counter(doc, "IRQL " + name).size(), 1U);
  EXPECT_EQ(doc.at("otherData").at("lost_events").at(0).at("track"), name);
}

// ---- SVG timeline --------------------------------------------------------------------------

// What is wrong with `xml` as an XML document (empty if nothing): every element closed in
// order, one root, attribute values quoted, and only the predefined and numeric entities.
std::string xml_problem(std::string_view xml) {
  const auto bad_entity = [](std::string_view text) {
    for (std::size_t at = text.find('&'); at != std::string_view::npos; at = text.find('&', at + 1)) {
      const std::string_view rest = text.substr(at);
      const bool known = rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;") ||
                         rest.starts_with("&quot;") || rest.starts_with("&apos;") || rest.starts_with("&#");
      if (!known) return true;
    }
    return text.find('<') != std::string_view::npos;
  };
  std::vector<std::string> open;
  int roots = 0;
  std::size_t at = 0;
  if (xml.starts_with("<?xml")) at = xml.find("?>") + 2;
  while (true) {
    const std::size_t tag = xml.find('<', at);
    if (bad_entity(xml.substr(at, tag == std::string_view::npos ? std::string_view::npos : tag - at))) {
      return fmt::format("bad text at {}", at);
    }
    if (tag == std::string_view::npos) break;
    const std::size_t end = xml.find('>', tag);
    if (end == std::string_view::npos) return "unterminated tag";
    std::string_view inside = xml.substr(tag + 1, end - tag - 1);
    at = end + 1;
    if (inside.starts_with('/')) {
      if (open.empty() || open.back() != inside.substr(1)) return fmt::format("unexpected </{}>", inside.substr(1));
      open.pop_back();
      continue;
    }
    const bool empty = inside.ends_with('/');
    if (empty) inside.remove_suffix(1);
    const std::string name(inside.substr(0, inside.find(' ')));
    // Attributes: name="value" pairs, values free of '<' and stray '&'.
    for (std::size_t q = inside.find('='); q != std::string_view::npos; q = inside.find('=', q + 1)) {
      if (q + 1 >= inside.size() || inside[q + 1] != '"') return fmt::format("unquoted attribute in <{}>", name);
      const std::size_t close = inside.find('"', q + 2);
      if (close == std::string_view::npos) return fmt::format("unterminated attribute in <{}>", name);
      if (bad_entity(inside.substr(q + 2, close - q - 2))) return fmt::format("bad attribute in <{}>", name);
      q = close;
    }
    if (open.empty()) ++roots;
    if (!empty) open.push_back(name);
  }
  if (!open.empty()) return fmt::format("<{}> never closed", open.back());
  if (roots != 1) return fmt::format("{} root elements", roots);
  return {};
}

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgTimeline, TheCheckerRejectsBrokenXml) {
  EXPECT_EQ(xml_problem("<svg><g></g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g/></svg><svg/>"), "");
  EXPECT_NE(xml_problem("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg><rect x=1/></svg>"), "");
}

TEST(SvgTimeline, IsAWellFormedStandaloneSvgDocument) {
  const std::string svg = sample_trace().to_svg();
  EXPECT_TRUE(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
      << svg.substr(0, 200);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos) << "no external resources";
}

TEST(SvgTimeline, EverySliceAndPointEventHasOneTooltip) {
  const std::string svg = sample_trace().to_svg();
  // One more for the document's own title.
  EXPECT_EQ(count(svg, "<title>"), 1 + kSampleSlices + kSampleInstants);
  EXPECT_EQ(count(svg, "<rect x=\"") - count(svg, "stroke=\"#757575\""), 3 + kSampleSlices)
      << "three row backgrounds and one rectangle per slice, besides the legend";
  EXPECT_NE(svg.find("<title>ISR 0xa1\nat 1.110 us, lasting 690 ns\nvector: 0x51\n"), std::string::npos);
}

TEST(SvgTimeline, DrawsOneArrowPerRaiseToItsDelivery) {
  const std::string svg = sample_trace().to_svg();
  // One more in the legend.
  EXPECT_EQ(count(svg, "marker-end=\"url(#arrow)\""), 1 + kSampleFlows);
}

TEST(SvgTimeline, EachProcessorRowShowsItsIrql) {
  const std::string svg = sample_trace().to_svg();
  EXPECT_EQ(count(svg, "fill=\"#ffe0b2\""), 2U) << "one IRQL curve per processor, none for the thread";
}

TEST(SvgTimeline, TextIsEscaped) {
  Trace trace;
  trace.tracks.push_back(track(kThread, "<thread> & \"friends\" \x01", {raise(5, kEdgeVector, 1)}));
  const std::string svg = trace.to_svg();
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_NE(svg.find("&lt;thread&gt; &amp; &quot;friends&quot; \xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(svg.find("<thread>"), std::string::npos);
}

TEST(SvgTimeline, SliceShorterThanAPixelIsStillDrawnAPixelWide) {
  Trace trace;
  trace.tracks.push_back(
      cpu(0, {deliver(1'000, kEdgeVector, 1), isr_enter(1'000, kEdgeVector, 0xa1), isr_exit(1'010, kEdgeVector, 0xa1),
              interrupt_end(1'020, kEdgeVector), event(TraceEventKind::WorkBegin, 1'000'000'000),
              event(TraceEventKind::WorkEnd, 1'000'000'001)}));
  const std::string svg = trace.to_svg();
  std::size_t slices = 0;
  for (std::size_t at = svg.find("<rect x="); at != std::string::npos; at = svg.find("<rect x=", at + 1)) {
    const std::size_t end = svg.find('>', at);
    const std::string_view tag = std::string_view(svg).substr(at, end - at);
    if (svg.compare(end + 1, 7, "<title>") != 0) continue;
    ++slices;
    const std::size_t width = tag.find("width=\"") + 7;
    EXPECT_GE(std::stod(std::string(tag.substr(width, tag.find('"', width) - width))), 1.0) << tag;
  }
  EXPECT_EQ(slices, 3U);
}

TEST(SvgTimeline, AxisLabelsUseAUnitThatFitsTheTraceLength) {
  const auto labels_of = [](std::int64_t length_ns) {
    Trace trace;
    trace.tracks.push_back(cpu(0, {event(TraceEventKind::WorkBegin, 0), event(TraceEventKind::WorkEnd, length_ns)}));
    return trace.to_svg();
  };
  EXPECT_NE(labels_of(500).find(">100 ns</text>"), std::string::npos);
  EXPECT_NE(labels_of(3'000).find(">1.0 us</text>"), std::string::npos);
  EXPECT_NE(labels_of(2'000'000).find(">1.2 ms</text>"), std::string::npos);
  EXPECT_NE(labels_of(5'000'000'000).find(">3.0 s</text>"), std::string::npos);
}

TEST(SvgTimeline, EmptyTraceIsStillAWellFormedDocument) {
  const std::string svg = Trace{}.to_svg();
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "<title>"), 1U);
}

// ---- Trace and its files -------------------------------------------------------------------

TEST(TraceContents, EventCountAddsUpEveryTrack) {
  EXPECT_EQ(Trace{}.event_count(), 0U);
  EXPECT_EQ(sample_trace().event_count(), 25U + 2U + 3U);
}

TEST(TraceContents, TrackIsFoundByIdOrIsNull) {
  const Trace trace = sample_trace();
  ASSERT_NE(trace.track(kThread), nullptr);
  EXPECT_EQ(trace.track(kThread)->name, "thread 1");
  EXPECT_EQ(trace.track(1)->name, "CPU 1");
  EXPECT_EQ(trace.track(7), nullptr);
}

TEST(TraceContents, EveryEventKindHasItsEnumeratorName) {
  EXPECT_STREQ(irqsim::to_string(TraceEventKind::Raise), "Raise");
  EXPECT_STREQ(irqsim::to_string(TraceEventKind::IsrEnter), "IsrEnter");
  EXPECT_STREQ(irqsim::to_string(TraceEventKind::WorkEnd), "WorkEnd");
  std::set<std::string> names;
  for (int kind = 0; kind <= static_cast<int>(TraceEventKind::WorkEnd); ++kind) {
    names.insert(irqsim::to_string(static_cast<TraceEventKind>(kind)));
  }
  EXPECT_EQ(names.size(), 18U) << "each kind has its own name";
}

class TraceFile : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }

  const std::filesystem::path path_ =
      std::filesystem::temp_directory_path() /
      fmt::format("irqsim_{}_{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                  std::chrono::steady_clock::now().time_since_epoch().count());

  // Byte for byte: the trace files are written in binary mode, so no \r\n on Windows either.
  [[nodiscard]] std::string contents() const { return irqsim_test::FileBytes(path_); }
};

TEST_F(TraceFile, WriteChromeJsonWritesExactlyTheJson) {
  const Trace trace = sample_trace();
  trace.write_chrome_json(path_);
  EXPECT_EQ(contents(), trace.to_chrome_json());
}

TEST_F(TraceFile, WriteSvgWritesExactlyTheSvg) {
  const Trace trace = sample_trace();
  trace.write_svg(path_);
  EXPECT_EQ(contents(), trace.to_svg());
}

TEST_F(TraceFile, WritingIntoAMissingDirectoryThrowsNamingThePath) {
  const std::filesystem::path missing = path_ / "no-such-directory" / "trace.json";
  for (const auto write : {&Trace::write_chrome_json, &Trace::write_svg}) {
    try {
      (sample_trace().*write)(missing);
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos) << error.what();
    }
  }
  EXPECT_FALSE(std::filesystem::exists(path_)) << "no directory is created";
}

}  // namespace
