// Trace::difference_from (include/irqsim/trace.hpp): two traces hold the same run when they
// match field for field, addresses up to a one-to-one renaming; otherwise the text names the first
// difference. Traces built by hand, and one recorded by a machine.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <irqsim/machine.hpp>
#include <irqsim/trace.hpp>

#include "driver_test_support.hpp"

namespace {

using irqsim::InterruptOutcome;
using irqsim::Trace;
using irqsim::TraceEvent;
using irqsim::TraceEventKind;
using irqsim::TraceTrack;
using ::testing::HasSubstr;
using ::testing::Optional;

// Addresses as a run might record them, far from every small number the other fields hold.
constexpr std::uint64_t kIsr = 0x7f00'0000'1000;
constexpr std::uint64_t kInterrupt = 0x7f00'0000'2000;
constexpr std::uint64_t kDpcRoutine = 0x7f00'0000'3000;
constexpr std::uint64_t kDpc = 0x7f00'0000'4000;
constexpr std::uint64_t kLock = 0x7f00'0000'5000;
constexpr std::uint16_t kVector = 0x61;
constexpr std::uint8_t kIrql = 6;

constexpr auto kClaimed = static_cast<std::uint64_t>(InterruptOutcome::Claimed);

// An event, its fields in the order of TraceEvent's table; `track` is set by Track.
TraceEvent Event(std::int64_t time, TraceEventKind kind, std::uint16_t vector, std::uint8_t irql,
                 std::uint64_t subject = 0, std::uint64_t argument = 0) {
  return {.time_ns = time, .subject = subject, .argument = argument, .vector = vector, .kind = kind, .irql = irql};
}

TraceTrack Track(std::uint32_t id, std::string name, std::optional<unsigned> processor,
                 std::vector<TraceEvent> events) {
  for (TraceEvent& event : events) event.track = id;
  return {.id = id, .name = std::move(name), .processor = processor, .events = std::move(events)};
}

// A small run: a thread raises an edge that CPU 0 serves, its ISR queues a DPC that takes a lock
// which CPU 1, running a function, then has to wait for.
Trace Sample() {
  using enum TraceEventKind;
  constexpr std::uint8_t kDispatch = DISPATCH_LEVEL;
  constexpr std::uint8_t kPassive = PASSIVE_LEVEL;
  Trace trace;
  trace.tracks.push_back(Track(0, "CPU 0", 0,
                               {
                                   Event(100, Deliver, kVector, kIrql, 1, 40),
                                   Event(101, IrqlChange, 0, kIrql, 0, kPassive),
                                   Event(110, IsrEnter, kVector, kIrql, kIsr, kInterrupt),
                                   Event(120, DpcQueue, 0, kIrql, kDpcRoutine, kDpc),
                                   Event(130, IsrExit, kVector, kIrql, kIsr, TRUE),
                                   Event(140, InterruptEnd, kVector, kIrql, 0, kClaimed),
                                   Event(141, IrqlChange, 0, kDispatch, 0, kIrql),
                                   Event(150, DpcEnter, 0, kDispatch, kDpcRoutine, kDpc),
                                   Event(160, LockAcquire, 0, kDispatch, kLock, 0),
                                   Event(170, LockRelease, 0, kDispatch, kLock),
                                   Event(180, DpcExit, 0, kDispatch, kDpcRoutine, kDpc),
                                   Event(181, IrqlChange, 0, kPassive, 0, kDispatch),
                               }));
  trace.tracks.push_back(Track(1, "CPU 1", 1,
                               {
                                   Event(155, WorkBegin, 0, kPassive),
                                   Event(156, IrqlChange, 0, kDispatch, 0, kPassive),
                                   Event(165, LockContend, 0, kDispatch, kLock),
                                   Event(171, LockAcquire, 0, kDispatch, kLock, 1),
                                   Event(175, LockRelease, 0, kDispatch, kLock),
                                   Event(176, IrqlChange, 0, kPassive, 0, kDispatch),
                                   Event(177, WorkEnd, 0, kPassive),
                               }));
  trace.tracks.push_back(
      Track(TraceTrack::kFirstThreadTrack, "thread 1", std::nullopt, {Event(90, Raise, kVector, kPassive, 0, 1)}));
  return trace;
}

// `trace` with every subject and argument found in `renaming` replaced by its new value: the
// sample's addresses are the only values that large, so this renames addresses only.
Trace Renamed(Trace trace, const std::map<std::uint64_t, std::uint64_t>& renaming) {
  for (TraceTrack& track : trace.tracks) {
    for (TraceEvent& event : track.events) {
      for (std::uint64_t* field : {&event.subject, &event.argument}) {
        if (const auto found = renaming.find(*field); found != renaming.end()) *field = found->second;
      }
    }
  }
  return trace;
}

std::string Hex(std::uint64_t value) { return fmt::format("{:#x}", value); }

TEST(TraceComparison, IdenticalTracesHaveNoDifference) {
  EXPECT_EQ(Sample().difference_from(Sample()), std::nullopt);
  EXPECT_EQ(Trace{}.difference_from(Trace{}), std::nullopt);
}

TEST(TraceComparison, TracesWhoseAddressesAreConsistentlyRenamedHaveNoDifference) {
  const Trace renamed = Renamed(Sample(), {{kIsr, 0x5500'0000'0010},
                                           {kInterrupt, 0x5500'0000'0020},
                                           {kDpcRoutine, 0x5500'0000'0030},
                                           {kDpc, 0x5500'0000'0040},
                                           {kLock, 0x5500'0000'0050}});
  EXPECT_EQ(Sample().difference_from(renamed), std::nullopt);
  EXPECT_EQ(renamed.difference_from(Sample()), std::nullopt);
  // A permutation of the addresses themselves is a renaming too.
  EXPECT_EQ(Sample().difference_from(Renamed(Sample(), {{kIsr, kLock}, {kLock, kDpc}, {kDpc, kIsr}})), std::nullopt);
}

// The ISR (an IsrEnter's subject) and the lock (a LockAcquire's subject) become one address: one
// pairing covers every kind of address field, so the lock's first event breaks it.
TEST(TraceComparison, TwoAddressesRenamedToOneAreADifferenceAtTheEventThatJoinsThem) {
  constexpr std::uint64_t kJoined = 0x5500'0000'0010;
  const std::optional<std::string> difference =
      Sample().difference_from(Renamed(Sample(), {{kIsr, kJoined}, {kLock, kJoined}}));
  ASSERT_TRUE(difference.has_value());
  EXPECT_EQ(*difference, fmt::format("event 8 of CPU 0: the other trace's address {} pairs with {} earlier (event 2 of "
                                     "CPU 0) but with {} here: LockAcquire at 160 ns (track 0, vector 0x0, irql 2, "
                                     "subject {}, argument 0x0) vs LockAcquire at 160 ns (track 0, vector 0x0, irql "
                                     "2, subject {}, argument 0x0)",
                                     Hex(kJoined), Hex(kIsr), Hex(kLock), Hex(kLock), Hex(kJoined)));
  // The other way round, the one address pairs with two.
  EXPECT_THAT(Renamed(Sample(), {{kIsr, kJoined}, {kLock, kJoined}}).difference_from(Sample()),
              Optional(HasSubstr(fmt::format("event 8 of CPU 0: address {} pairs with {} earlier (event 2 of CPU 0) "
                                             "but with {} here",
                                             Hex(kJoined), Hex(kIsr), Hex(kLock)))));
}

// A DPC routine and its DPC object meet in one event.
TEST(TraceComparison, TwoAddressesOfOneEventRenamedToOneAreADifference) {
  EXPECT_THAT(Sample().difference_from(Renamed(Sample(), {{kDpc, kDpcRoutine}})),
              Optional(HasSubstr(fmt::format("event 3 of CPU 0: the other trace's address {} pairs with {} earlier "
                                             "(event 3 of CPU 0) but with {} here",
                                             Hex(kDpcRoutine), Hex(kDpcRoutine), Hex(kDpc)))));
}

TEST(TraceComparison, OneAddressRenamedToTwoIsADifferenceAtItsFirstOtherPartner) {
  // CPU 1's lock events name another lock than CPU 0's.
  Trace other = Sample();
  for (TraceEvent& event : other.tracks[1].events) {
    if (event.subject == kLock) event.subject = 0x5500'0000'0050;
  }
  EXPECT_THAT(Sample().difference_from(other),
              Optional(HasSubstr(fmt::format("event 2 of CPU 1: address {} pairs with {} earlier (event 8 of CPU 0) "
                                             "but with 0x550000000050 here",
                                             Hex(kLock), Hex(kLock)))));
}

// One field of one event changed, and where: track index, event index.
struct FieldChange {
  const char* what;
  std::size_t track;
  std::size_t index;
  std::function<void(TraceEvent&)> change;
};

TEST(TraceComparison, AnyFieldThatIsNotAnAddressMustBeEqual) {
  const std::vector<FieldChange> changes = {
      {"time", 0, 7, [](TraceEvent& e) { ++e.time_ns; }},
      {"kind", 0, 9, [](TraceEvent& e) { e.kind = TraceEventKind::LockContend; }},
      {"track", 1, 0, [](TraceEvent& e) { e.track = 0; }},
      {"vector", 0, 0, [](TraceEvent& e) { e.vector = 0x62; }},
      {"DpcQueue's target processor", 0, 3, [](TraceEvent& e) { e.vector = 1; }},
      {"irql", 0, 2, [](TraceEvent& e) { e.irql = 7; }},
      {"Raise's edge number", 2, 0, [](TraceEvent& e) { e.argument = 2; }},
      {"Deliver's edge number", 0, 0, [](TraceEvent& e) { e.subject = 2; }},
      {"Deliver's latency", 0, 0, [](TraceEvent& e) { e.argument = 41; }},
      {"IrqlChange's previous IRQL", 0, 6, [](TraceEvent& e) { e.argument = APC_LEVEL; }},
      {"IsrExit's return value", 0, 4, [](TraceEvent& e) { e.argument = 0; }},
      {"InterruptEnd's outcome", 0, 5,
       [](TraceEvent& e) { e.argument = static_cast<std::uint64_t>(InterruptOutcome::Unclaimed); }},
      {"LockAcquire's wait", 1, 3, [](TraceEvent& e) { e.argument = 0; }},
      {"LockRelease's unused argument", 1, 4, [](TraceEvent& e) { e.argument = 1; }},
  };
  for (const FieldChange& c : changes) {
    SCOPED_TRACE(c.what);
    Trace other = Sample();
    c.change(other.tracks[c.track].events[c.index]);
    const std::string place = fmt::format("event {} of {} differs: ", c.index, other.tracks[c.track].name);
    EXPECT_THAT(Sample().difference_from(other), Optional(HasSubstr(place)));
    EXPECT_THAT(other.difference_from(Sample()), Optional(HasSubstr(place)));
  }
}

TEST(TraceComparison, TheTextWritesOutBothEvents) {
  Trace other = Sample();
  other.tracks[0].events[1].time_ns = 102;
  EXPECT_EQ(Sample().difference_from(other),
            "event 1 of CPU 0 differs: IrqlChange at 101 ns (track 0, vector 0x0, irql 6, subject 0x0, argument 0x0) "
            "vs IrqlChange at 102 ns (track 0, vector 0x0, irql 6, subject 0x0, argument 0x0)");
}

TEST(TraceComparison, OnlyTheFirstDifferenceIsNamed) {
  Trace other = Sample();
  other.tracks[0].events[10].time_ns = 0;
  other.tracks[1].events[0].time_ns = 0;
  EXPECT_THAT(Sample().difference_from(other), Optional(HasSubstr("event 10 of CPU 0 differs")));
}

TEST(TraceComparison, AnExtraEventIsADifference) {
  Trace other = Sample();
  other.tracks[1].events.push_back({.time_ns = 200, .track = 1, .kind = TraceEventKind::WorkBegin});
  EXPECT_EQ(Sample().difference_from(other),
            "CPU 1 has 7 events vs 8; the first extra one: WorkBegin at 200 ns (track 1, vector 0x0, irql 0, subject "
            "0x0, argument 0x0)");
  EXPECT_THAT(other.difference_from(Sample()), Optional(HasSubstr("CPU 1 has 8 events vs 7")));
}

TEST(TraceComparison, AMissingTrackIsADifference) {
  Trace other = Sample();
  other.tracks.pop_back();
  EXPECT_EQ(Sample().difference_from(other), "track count differs (3 vs 2)");
}

TEST(TraceComparison, ATrackWithOtherLostCountIdNameOrProcessorIsADifference) {
  const std::vector<std::pair<const char*, std::function<void(TraceTrack&)>>> changes = {
      {"lost", [](TraceTrack& t) { t.lost = 3; }},
      {"id", [](TraceTrack& t) { t.id = 2; }},
      {"name", [](TraceTrack& t) { t.name = "CPU 2"; }},
      {"processor", [](TraceTrack& t) { t.processor.reset(); }},
  };
  for (const auto& [what, change] : changes) {
    SCOPED_TRACE(what);
    Trace other = Sample();
    change(other.tracks[1]);
    EXPECT_THAT(Sample().difference_from(other),
                Optional(HasSubstr("track 1 differs: 'CPU 1' (id 1, processor 1, 0 lost) vs")));
  }
  Trace other = Sample();
  other.tracks[1].lost = 3;
  EXPECT_EQ(Sample().difference_from(other),
            "track 1 differs: 'CPU 1' (id 1, processor 1, 0 lost) vs 'CPU 1' (id 1, processor 1, 3 lost)");
}

// ---- a trace recorded by a machine -------------------------------------------------------------

TEST(TraceComparisonOfAMachine, ATraceEqualsItselfAndItsRenamingButNotAnotherTime) {
  irqsim::Machine m({.processors = 1, .trace = irqsim::TraceRecording::On});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  m.run_on(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
  });
  const Trace trace = m.trace();
  EXPECT_EQ(trace.difference_from(trace), std::nullopt);

  // Where another run would have put the lock.
  KSPIN_LOCK elsewhere;
  Trace renamed = trace;
  std::vector<std::size_t> lock_events;
  std::vector<TraceEvent>& events = renamed.tracks.at(0).events;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].subject == irqsim_test::AddressOf(&lock)) {
      events[i].subject = irqsim_test::AddressOf(&elsewhere);
      lock_events.push_back(i);
    }
  }
  ASSERT_EQ(lock_events.size(), 2u) << "the acquire and the release";
  EXPECT_EQ(trace.difference_from(renamed), std::nullopt);

  Trace later = trace;
  ++later.tracks[0].events[lock_events[1]].time_ns;
  EXPECT_THAT(trace.difference_from(later),
              Optional(HasSubstr(fmt::format("event {} of CPU 0 differs: LockRelease at", lock_events[1]))));
}

}  // namespace
