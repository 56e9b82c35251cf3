// The event recorder (include/irqsim/trace.hpp, MachineConfig::trace): what a recording machine
// writes on each processor's track and on the tracks of other threads, its bounds, and that a
// machine that does not record has no trace.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace.hpp>
#include <nlohmann/json.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using irqsim::TraceEvent;
using irqsim::TraceEventKind;
using ::testing::ElementsAre;

constexpr ULONG kVector = 0x61;
constexpr KIRQL kIrql = 6;

irqsim::MachineConfig Recording(unsigned processors) {
  return {.processors = processors, .trace = irqsim::TraceRecording::On};
}

// The events of one kind on one track (all tracks if `track` is empty).
std::vector<TraceEvent> EventsOf(const irqsim::Trace& trace, TraceEventKind kind,
                                 std::optional<std::uint32_t> track = std::nullopt) {
  std::vector<TraceEvent> found;
  for (const irqsim::TraceTrack& t : trace.tracks) {
    if (track && t.id != *track) continue;
    std::ranges::copy_if(t.events, std::back_inserter(found), [kind](const TraceEvent& e) { return e.kind == kind; });
  }
  return found;
}

// The kinds of a track's events, leaving out IRQL changes and lock events.
std::vector<TraceEventKind> SlicesOf(const irqsim::TraceTrack& track) {
  std::vector<TraceEventKind> kinds;
  for (const TraceEvent& e : track.events) {
    const bool point = e.kind == TraceEventKind::IrqlChange || e.kind == TraceEventKind::LockAcquire ||
                       e.kind == TraceEventKind::LockRelease || e.kind == TraceEventKind::LockContend;
    if (!point) kinds.push_back(e.kind);
  }
  return kinds;
}

BOOLEAN Claims(PKINTERRUPT, PVOID) { return TRUE; }

TEST(TraceRecording, IsOffUnlessAsked) {
  const bool previous = irqsim::set_trace_by_default(false);
  {
    irqsim::Machine m;
    EXPECT_FALSE(m.records_trace());
    EXPECT_THROW((void)m.trace(), std::logic_error);
    irqsim::Machine asked(Recording(1));
    EXPECT_TRUE(asked.records_trace());
  }
  irqsim::set_trace_by_default(true);
  {
    irqsim::Machine by_default;
    EXPECT_TRUE(by_default.records_trace());
    irqsim::Machine refused({.trace = irqsim::TraceRecording::Off});
    EXPECT_FALSE(refused.records_trace());
  }
  irqsim::set_trace_by_default(previous);
}

TEST(TraceRecording, AZeroEventLimitIsRejected) {
  irqsim::MachineConfig config = Recording(1);
  config.trace_events_per_track = 0;
  EXPECT_THROW(irqsim::Machine{config}, std::invalid_argument);
}

TEST(TraceRecording, HasATrackPerProcessorNamedAfterIt) {
  irqsim::Machine m(Recording(3));
  const irqsim::Trace trace = m.trace();
  ASSERT_GE(trace.tracks.size(), 3u);
  for (unsigned p = 0; p < 3; ++p) {
    EXPECT_EQ(trace.tracks[p].id, p);
    EXPECT_EQ(trace.tracks[p].processor, p);
    EXPECT_EQ(trace.tracks[p].name, "CPU " + std::to_string(p));
  }
}

TEST(TraceRecording, AnInterruptIsRaisedOnTheTestsTrackAndServedOnTheProcessorsTrack) {
  irqsim::Machine m(Recording(1));
  PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
  m.pulse(kVector);
  m.wait_until_quiescent();
  const irqsim::Trace trace = m.trace();

  const std::vector<TraceEvent> raises = EventsOf(trace, TraceEventKind::Raise);
  ASSERT_EQ(raises.size(), 1u);
  EXPECT_GE(raises[0].track, irqsim::TraceTrack::kFirstThreadTrack);
  EXPECT_EQ(raises[0].vector, kVector);
  EXPECT_EQ(raises[0].argument, 1u) << "the first edge raised on the vector";

  EXPECT_THAT(SlicesOf(trace.tracks[0]), ElementsAre(TraceEventKind::Deliver, TraceEventKind::IsrEnter,
                                                     TraceEventKind::IsrExit, TraceEventKind::InterruptEnd));
  const TraceEvent deliver = EventsOf(trace, TraceEventKind::Deliver, 0).at(0);
  EXPECT_EQ(deliver.vector, kVector);
  EXPECT_EQ(deliver.irql, kIrql);
  EXPECT_EQ(deliver.subject, 1u) << "it took edge 1";
  EXPECT_GE(deliver.time_ns, raises[0].time_ns);
  const TraceEvent enter = EventsOf(trace, TraceEventKind::IsrEnter, 0).at(0);
  EXPECT_EQ(enter.subject, AddressOf(reinterpret_cast<const void*>(&Claims)));
  EXPECT_EQ(enter.argument, AddressOf(object));
  EXPECT_EQ(EventsOf(trace, TraceEventKind::IsrExit, 0).at(0).argument, 1u) << "the ISR returned TRUE";
  EXPECT_EQ(EventsOf(trace, TraceEventKind::InterruptEnd, 0).at(0).argument,
            static_cast<std::uint64_t>(irqsim::InterruptOutcome::Claimed));

  // The processor went to the vector's IRQL and back, through the ISR's SynchronizeIrql.
  std::vector<int> levels;
  for (const TraceEvent& e : EventsOf(trace, TraceEventKind::IrqlChange, 0)) levels.push_back(e.irql);
  EXPECT_THAT(levels, ElementsAre(kIrql, PASSIVE_LEVEL));
  IoDisconnectInterrupt(object);
}

TEST(TraceRecording, EveryCoalescedRaiseIsRecordedAndTheDeliveryNamesTheLastEdgeItTook) {
  irqsim::Machine m(Recording(1));
  PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
  m.mask(kVector);
  for (int i = 0; i < 3; ++i) m.pulse(kVector);
  m.unmask(kVector);
  m.wait_until_quiescent();
  const irqsim::Trace trace = m.trace();
  std::vector<std::uint64_t> numbers;
  for (const TraceEvent& e : EventsOf(trace, TraceEventKind::Raise)) numbers.push_back(e.argument);
  EXPECT_THAT(numbers, ElementsAre(1u, 2u, 3u));
  const std::vector<TraceEvent> deliveries = EventsOf(trace, TraceEventKind::Deliver);
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].subject, 3u);
  IoDisconnectInterrupt(object);
}

TEST(TraceRecording, AnEdgeOnAnUnconnectedVectorIsRaisedAndDropped) {
  irqsim::Machine m(Recording(1));
  m.pulse(kVector);
  const irqsim::Trace trace = m.trace();
  ASSERT_EQ(EventsOf(trace, TraceEventKind::Raise).size(), 1u);
  const std::vector<TraceEvent> drops = EventsOf(trace, TraceEventKind::Drop);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].vector, kVector);
  EXPECT_EQ(drops[0].argument, 1u);
  EXPECT_TRUE(EventsOf(trace, TraceEventKind::Deliver).empty());
}

TEST(TraceRecording, ALevelLineIsAssertedDeliveredWithoutAnEdgeAndDeasserted) {
  irqsim::Machine m(Recording(1));
  struct Line {
    irqsim::Machine* machine;
  } line{&m};
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(
                &object,
                [](PKINTERRUPT, PVOID context) -> BOOLEAN {
                  static_cast<Line*>(context)->machine->deassert_line(kVector);
                  return TRUE;
                },
                &line, nullptr, kVector, kIrql, kIrql, LevelSensitive, TRUE, 1, FALSE),
            STATUS_SUCCESS);
  m.assert_line(kVector);
  m.wait_until_quiescent();
  const irqsim::Trace trace = m.trace();
  EXPECT_EQ(EventsOf(trace, TraceEventKind::LineAssert).size(), 1u);
  const std::vector<TraceEvent> deasserts = EventsOf(trace, TraceEventKind::LineDeassert);
  ASSERT_EQ(deasserts.size(), 1u);
  EXPECT_EQ(deasserts[0].track, 0u) << "the ISR on CPU 0 deasserted it";
  EXPECT_EQ(deasserts[0].irql, kIrql);
  const std::vector<TraceEvent> deliveries = EventsOf(trace, TraceEventKind::Deliver);
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].subject, 0u) << "a level delivery takes no edge";
  IoDisconnectInterrupt(object);
}

struct DpcTest {
  KDPC dpc;
  std::atomic<int> runs{0};
};

VOID CountingDpc(PKDPC, PVOID context, PVOID, PVOID) { static_cast<DpcTest*>(context)->runs.fetch_add(1); }

BOOLEAN QueuesDpc(PKINTERRUPT, PVOID context) {
  KeInsertQueueDpc(&static_cast<DpcTest*>(context)->dpc, nullptr, nullptr);
  return TRUE;
}

TEST(TraceRecording, ADpcIsQueuedByTheIsrAndRunsAsItsOwnSlice) {
  irqsim::Machine m(Recording(1));
  DpcTest test;
  KeInitializeDpc(&test.dpc, CountingDpc, &test);
  PKINTERRUPT object = ConnectLatched(QueuesDpc, &test, kVector, kIrql, kIrql);
  m.pulse(kVector);
  m.wait_until_quiescent();
  ASSERT_EQ(test.runs.load(), 1);
  const irqsim::Trace trace = m.trace();
  EXPECT_THAT(SlicesOf(trace.tracks[0]),
              ElementsAre(TraceEventKind::Deliver, TraceEventKind::IsrEnter, TraceEventKind::DpcQueue,
                          TraceEventKind::IsrExit, TraceEventKind::InterruptEnd, TraceEventKind::DpcEnter,
                          TraceEventKind::DpcExit));
  const TraceEvent queued = EventsOf(trace, TraceEventKind::DpcQueue).at(0);
  EXPECT_EQ(queued.vector, 0u) << "queued to processor 0";
  EXPECT_EQ(queued.irql, kIrql) << "by the ISR";
  EXPECT_EQ(queued.subject, AddressOf(reinterpret_cast<const void*>(&CountingDpc)));
  EXPECT_EQ(queued.argument, AddressOf(&test.dpc));
  const TraceEvent entered = EventsOf(trace, TraceEventKind::DpcEnter).at(0);
  EXPECT_EQ(entered.irql, DISPATCH_LEVEL);
  EXPECT_EQ(entered.subject, queued.subject);
  IoDisconnectInterrupt(object);
}

TEST(TraceRecording, DriverCodesInlineSpinLockAndIrqlRoutinesAreRecorded) {
  irqsim::Machine m(Recording(1));
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  m.run_on(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
    KeRaiseIrql(HIGH_LEVEL, &old);
    KeLowerIrql(old);
  });
  const irqsim::Trace trace = m.trace();
  EXPECT_THAT(SlicesOf(trace.tracks[0]), ElementsAre(TraceEventKind::WorkBegin, TraceEventKind::WorkEnd));
  std::vector<std::pair<TraceEventKind, int>> steps;
  for (const TraceEvent& e : trace.tracks[0].events) {
    if (e.kind == TraceEventKind::IrqlChange || e.kind == TraceEventKind::LockAcquire ||
        e.kind == TraceEventKind::LockRelease) {
      steps.emplace_back(e.kind, e.irql);
      if (e.kind != TraceEventKind::IrqlChange) {
        EXPECT_EQ(e.subject, AddressOf(&lock));
      }
    }
  }
  EXPECT_THAT(steps, ElementsAre(std::pair{TraceEventKind::IrqlChange, DISPATCH_LEVEL},
                                 std::pair{TraceEventKind::LockAcquire, DISPATCH_LEVEL},
                                 std::pair{TraceEventKind::LockRelease, DISPATCH_LEVEL},
                                 std::pair{TraceEventKind::IrqlChange, PASSIVE_LEVEL},
                                 std::pair{TraceEventKind::IrqlChange, HIGH_LEVEL},
                                 std::pair{TraceEventKind::IrqlChange, PASSIVE_LEVEL}));
}

TEST(TraceRecording, ALockFoundHeldIsContendedThenAcquiredAfterWaiting) {
  irqsim::Machine m(Recording(2));
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  Gate held;
  Gate release;
  OpenOnExit release_on_exit(release);
  m.post(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    held.open();
    release.wait();
    KeReleaseSpinLock(&lock, old);
  });
  held.wait();
  m.post(1, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
  });
  // Processor 1 is spinning once it has recorded the contention.
  while (EventsOf(m.trace(), TraceEventKind::LockContend, 1).empty()) std::this_thread::yield();
  release.open();
  m.wait_until_quiescent();
  const irqsim::Trace trace = m.trace();
  const std::vector<TraceEvent> acquired = EventsOf(trace, TraceEventKind::LockAcquire, 1);
  ASSERT_EQ(acquired.size(), 1u);
  EXPECT_EQ(acquired[0].argument, 1u) << "it had to wait";
  EXPECT_EQ(EventsOf(trace, TraceEventKind::LockAcquire, 0).at(0).argument, 0u);
  EXPECT_LT(EventsOf(trace, TraceEventKind::LockRelease, 0).at(0).time_ns, acquired[0].time_ns);
}

TEST(TraceRecording, ABugCheckIsTheLastEventOfItsProcessor) {
  irqsim::Machine m(Recording(1));
  const auto report = BugCheckOn(m, 0, [] {
    RaiseTo(DISPATCH_LEVEL);
    KeLowerIrql(HIGH_LEVEL);
  });
  ASSERT_TRUE(report.has_value());
  const irqsim::Trace trace = m.trace();
  const std::vector<TraceEvent> checks = EventsOf(trace, TraceEventKind::BugCheck);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].track, 0u);
  EXPECT_EQ(checks[0].subject, report->code);
  EXPECT_EQ(checks[0].argument, report->parameters[0]);
  EXPECT_EQ(checks[0].irql, DISPATCH_LEVEL);
}

TEST(TraceRecording, AThreadAlternatingBetweenTwoMachinesHasOneTrackOnEach) {
  irqsim::Machine first(Recording(1));
  irqsim::Machine second(Recording(1));
  for (int i = 0; i < 100; ++i) {
    first.pulse(kVector);
    second.pulse(kVector);
  }
  for (const irqsim::Machine* m : {&first, &second}) {
    const irqsim::Trace trace = m->trace();
    ASSERT_EQ(trace.tracks.size(), 2u) << "CPU 0 and this thread";
    EXPECT_EQ(trace.tracks[1].name, "thread 1");
    EXPECT_EQ(EventsOf(trace, TraceEventKind::Raise, trace.tracks[1].id).size(), 100u);
  }
}

TEST(TraceRecording, ATrackKeepsItsNewestEventsAndCountsTheOthersLost) {
  irqsim::MachineConfig config = Recording(1);
  config.trace_events_per_track = 8;
  irqsim::Machine m(config);
  m.run_on(0, [] {
    for (int i = 0; i < 100; ++i) {
      KIRQL old = 0;
      KeRaiseIrql(DISPATCH_LEVEL, &old);
      KeLowerIrql(old);
    }
  });
  const irqsim::Trace trace = m.trace();
  const irqsim::TraceTrack& cpu = trace.tracks[0];
  ASSERT_EQ(cpu.events.size(), 8u);
  EXPECT_EQ(cpu.lost, 202u - 8u) << "work begin and end, and 200 IRQL changes";
  EXPECT_EQ(cpu.events.back().kind, TraceEventKind::WorkEnd);
  EXPECT_TRUE(std::ranges::is_sorted(cpu.events, {}, &TraceEvent::time_ns));
}

TEST(TraceRecording, ATraceCanBeTakenWhileTheProcessorsRun) {
  irqsim::Machine m(Recording(2));
  PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
  std::atomic<bool> stop{false};
  std::thread raiser([&] {
    while (!stop.load()) m.pulse(kVector);
  });
  std::size_t seen = 0;
  // Snapshots while interrupts are raised and served, until at least 100 have been served.
  for (int i = 0; i < 20 || m.stats(kVector).deliveries < 100; ++i) {
    const std::size_t now = m.trace().event_count();
    EXPECT_GE(now, seen) << "a later snapshot holds at least as much";
    seen = now;
  }
  stop = true;
  raiser.join();
  m.wait_until_quiescent();
  const irqsim::Trace trace = m.trace();
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_FALSE(EventsOf(trace, TraceEventKind::Deliver).empty()) << "the snapshots kept what was drained";
  std::uint64_t lost = 0;
  for (const irqsim::TraceTrack& track : trace.tracks) lost += track.lost;
  if (lost == 0) {
    EXPECT_EQ(EventsOf(trace, TraceEventKind::Raise).size(), stats.raised);
    EXPECT_EQ(EventsOf(trace, TraceEventKind::Deliver).size(), stats.deliveries);
  }
  IoDisconnectInterrupt(object);
}

// ---- the export of a real machine's trace ------------------------------------------------------

// A low vector whose ISR raises a higher one on the same processor (taken nested in it, at the
// ISR's next preemption point) and queues a DPC; 50 rounds on one processor.
constexpr ULONG kLowVector = 0x62;
constexpr KIRQL kLowIrql = 5;
constexpr ULONG kHighVector = 0x92;
constexpr KIRQL kHighIrql = 9;

struct NestingDriver {
  irqsim::Machine* machine = nullptr;
  KDPC dpc;
};

BOOLEAN LowIsr(PKINTERRUPT, PVOID context) {
  auto* driver = static_cast<NestingDriver*>(context);
  driver->machine->pulse(kHighVector);
  KeStallExecutionProcessor(1);  // a preemption point: the higher vector is taken here
  KeInsertQueueDpc(&driver->dpc, nullptr, nullptr);
  return TRUE;
}

VOID StallingDpc(PKDPC, PVOID, PVOID, PVOID) { KeStallExecutionProcessor(2); }

// Microseconds with three decimals, as the export writes them, in nanoseconds.
std::int64_t Nanoseconds(const nlohmann::json& microseconds) {
  return std::llround(microseconds.get<double>() * 1000.0);
}

TEST(TraceExportOfAMachine, IsValidJsonWhoseSlicesNestAndMatchTheStatistics) {
  irqsim::Machine m(Recording(1));
  NestingDriver driver{&m, {}};
  KeInitializeDpc(&driver.dpc, StallingDpc, nullptr);
  PKINTERRUPT low = ConnectLatched(LowIsr, &driver, kLowVector, kLowIrql, kLowIrql);
  PKINTERRUPT high = ConnectLatched(Claims, nullptr, kHighVector, kHighIrql, kHighIrql);
  for (int i = 0; i < 50; ++i) {
    m.pulse(kLowVector);
    m.wait_until_quiescent();
  }
  const irqsim::MachineStats stats = m.statistics();
  const irqsim::Trace trace = m.trace();
  for (const irqsim::TraceTrack& track : trace.tracks) ASSERT_EQ(track.lost, 0u) << track.name;

  const nlohmann::json json = nlohmann::json::parse(trace.to_chrome_json());
  struct Span {
    std::int64_t begin;
    std::int64_t end;
  };
  std::map<std::string, std::vector<Span>> slices_by_name;  // "vector 0x62", ...
  std::map<std::string, std::vector<Span>> slices_by_category;
  std::map<int, std::vector<Span>> slices_by_thread;
  std::map<std::uint64_t, int> flow_ends;  // id -> starts minus finishes
  for (const nlohmann::json& event : json.at("traceEvents")) {
    const std::string phase = event.at("ph");
    if (phase == "X") {
      const Span span{Nanoseconds(event.at("ts")), Nanoseconds(event.at("ts")) + Nanoseconds(event.at("dur"))};
      slices_by_name[event.at("name")].push_back(span);
      slices_by_category[event.at("cat")].push_back(span);
      slices_by_thread[event.at("tid")].push_back(span);
    } else if (phase == "s") {
      ++flow_ends[event.at("id")];
    } else if (phase == "f") {
      --flow_ends[event.at("id")];
    }
  }

  // On every thread, any two slices are disjoint or one holds the other.
  for (const auto& [thread, spans] : slices_by_thread) {
    for (std::size_t i = 0; i < spans.size(); ++i) {
      for (std::size_t j = i + 1; j < spans.size(); ++j) {
        const Span& a = spans[i];
        const Span& b = spans[j];
        const bool disjoint = a.end <= b.begin || b.end <= a.begin;
        const bool nested = (a.begin <= b.begin && b.end <= a.end) || (b.begin <= a.begin && a.end <= b.end);
        ASSERT_TRUE(disjoint || nested) << "thread " << thread << ": [" << a.begin << ", " << a.end << ") and ["
                                        << b.begin << ", " << b.end << ")";
      }
    }
  }
  for (const auto& [id, balance] : flow_ends) EXPECT_EQ(balance, 0) << "flow " << id;
  EXPECT_EQ(flow_ends.size(), 100u) << "one arrow per raise of either vector";

  // One delivery slice per delivery, lasting exactly its service time; one ISR slice each.
  for (const auto& [vector, name] : {std::pair{kLowVector, "vector 0x62"}, std::pair{kHighVector, "vector 0x92"}}) {
    const irqsim::VectorStats counted = m.stats(vector);
    const std::vector<Span>& deliveries = slices_by_name[name];
    ASSERT_EQ(deliveries.size(), counted.deliveries) << name;
    std::int64_t total = 0;
    for (const Span& span : deliveries) total += span.end - span.begin;
    EXPECT_EQ(std::chrono::nanoseconds(total), counted.service_time.total()) << name;
  }
  EXPECT_EQ(slices_by_category["isr"].size(), 100u);
  // Every higher-vector delivery lies inside a lower one.
  for (const Span& inner : slices_by_name["vector 0x92"]) {
    EXPECT_TRUE(std::ranges::any_of(slices_by_name["vector 0x62"], [&](const Span& outer) {
      return outer.begin <= inner.begin && inner.end <= outer.end;
    }));
  }

  // The DPC slices are the DPC routine's runs.
  ASSERT_EQ(stats.dpc_routines.size(), 1u);
  const std::vector<Span>& dpcs = slices_by_category["dpc"];
  ASSERT_EQ(dpcs.size(), stats.dpc_routines[0].duration.count());
  std::int64_t dpc_total = 0;
  for (const Span& span : dpcs) dpc_total += span.end - span.begin;
  EXPECT_EQ(std::chrono::nanoseconds(dpc_total), stats.dpc_routines[0].duration.total());

  IoDisconnectInterrupt(high);
  IoDisconnectInterrupt(low);
}

TEST(TraceExportOfAMachine, TheSvgTimelineShowsTheProcessorsAndTheirDeliveries) {
  irqsim::Machine m(Recording(2));
  PKINTERRUPT object = ConnectLatched(Claims, nullptr, kVector, kIrql, kIrql);
  for (int i = 0; i < 5; ++i) {
    m.pulse(kVector);
    m.wait_until_quiescent();
  }
  const std::string svg = m.trace().to_svg();
  EXPECT_TRUE(svg.starts_with("<?xml") || svg.starts_with("<svg"));
  EXPECT_THAT(svg, ::testing::HasSubstr("xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, ::testing::HasSubstr("CPU 0"));
  EXPECT_THAT(svg, ::testing::HasSubstr("vector 0x61"));
  IoDisconnectInterrupt(object);
}

}  // namespace
