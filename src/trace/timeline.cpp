#include "trace/timeline.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace irqsim::trace {

namespace {

std::string hex(std::uint64_t value) { return fmt::format("{:#x}", value); }

Arg text(std::string key, std::string value) { return {std::move(key), std::move(value), true}; }
Arg number(std::string key, std::uint64_t value) { return {std::move(key), fmt::format("{}", value), false}; }
Arg flag(std::string key, bool value) { return {std::move(key), value ? "true" : "false", false}; }

Arg outcome(std::uint64_t value) {
  switch (value) {
    case static_cast<std::uint64_t>(InterruptOutcome::Claimed):
      return text("outcome", "claimed");
    case static_cast<std::uint64_t>(InterruptOutcome::Unclaimed):
      return text("outcome", "unclaimed");
    case static_cast<std::uint64_t>(InterruptOutcome::Unexpected):
      return text("outcome", "unexpected");
    case static_cast<std::uint64_t>(InterruptOutcome::Abandoned):
      return text("outcome", "abandoned");
    case static_cast<std::uint64_t>(InterruptOutcome::Undone):
      return text("outcome", "undone");
    default:
      return number("outcome", value);
  }
}

Instant describe(const TraceEvent& event) {
  const std::uint16_t vector = event.vector;
  switch (event.kind) {
    case TraceEventKind::Raise:
      return {event,
              fmt::format("raise vector {:#x}", vector),
              {text("vector", hex(vector)), number("irql", event.irql), number("edge", event.argument)}};
    case TraceEventKind::LineAssert:
      return {
          event, fmt::format("assert vector {:#x}", vector), {text("vector", hex(vector)), number("irql", event.irql)}};
    case TraceEventKind::LineDeassert:
      return {event,
              fmt::format("deassert vector {:#x}", vector),
              {text("vector", hex(vector)), number("irql", event.irql)}};
    case TraceEventKind::Drop:
      return {event,
              fmt::format("drop vector {:#x}", vector),
              {text("vector", hex(vector)), number("raised", event.argument)}};
    case TraceEventKind::DpcQueue:
      return {event,
              fmt::format("queue DPC {:#x}", event.subject),
              {number("processor", vector), number("irql", event.irql), text("routine", hex(event.subject)),
               text("dpc", hex(event.argument))}};
    case TraceEventKind::LockContend:
      return {event, fmt::format("contend lock {:#x}", event.subject), {number("irql", event.irql)}};
    case TraceEventKind::LockAcquire:
      return {event,
              fmt::format("acquire lock {:#x}", event.subject),
              {number("irql", event.irql), flag("waited", event.argument != 0)}};
    case TraceEventKind::LockRelease:
      return {event, fmt::format("release lock {:#x}", event.subject), {number("irql", event.irql)}};
    case TraceEventKind::BugCheck:
      return {event,
              fmt::format("bug check {:#x}", event.subject),
              {number("irql", event.irql), text("parameter1", hex(event.argument))}};
    default:
      return {event, to_string(event.kind), {}};
  }
}

// What the arrows of one vector are drawn from, gathered over all tracks.
struct Raise {
  std::uint64_t edge = 0;
  std::size_t track = 0;
  std::size_t instant = 0;
};
struct Assert {
  std::int64_t time_ns = 0;
  std::size_t track = 0;
  std::size_t instant = 0;
};
// A delivery that took edges, or a drop: either disposes of the edges numbered up to `edges`.
struct Taker {
  std::uint64_t edges = 0;
  std::int64_t time_ns = 0;
  bool delivery = false;
  std::size_t track = 0;
  std::size_t slice = 0;
};
struct LevelDelivery {
  std::int64_t time_ns = 0;
  std::size_t track = 0;
  std::size_t slice = 0;
};
struct VectorHistory {
  std::vector<Raise> raises;
  std::vector<Assert> asserts;
  std::vector<Taker> takers;
  std::vector<LevelDelivery> level_deliveries;
};
using Histories = std::map<std::uint16_t, VectorHistory>;

// Turns one track's events into slices, instants and IRQL spans.
class TrackBuilder {
 public:
  TrackBuilder(TrackTimeline& out, std::size_t index, Histories& histories)
      : out_(out), index_(index), histories_(histories) {
    const TraceTrack& track = *out.track;
    if (!track.processor || (track.lost > 0 && track.events.empty())) return;
    // Events before the first one left are gone, so the IRQL is known from there on only; the
    // first change says what it was until then.
    const auto change = std::ranges::find(track.events, TraceEventKind::IrqlChange, &TraceEvent::kind);
    irql_ = IrqlSpan{track.lost > 0 ? track.events.front().time_ns : 0, 0,
                     change == track.events.end() ? Irql{0} : static_cast<Irql>(change->argument)};
  }

  void add(TraceEvent event) {
    // A track's events are in time order; should a clock step back anyway, slices must still nest.
    event.time_ns = std::max(event.time_ns, now_);
    now_ = event.time_ns;
    switch (event.kind) {
      case TraceEventKind::WorkBegin:
        open(event, SliceKind::Work, "run_on/post", {});
        break;
      case TraceEventKind::WorkEnd:
        close(event.time_ns, [](const Slice& slice) { return slice.kind == SliceKind::Work; });
        break;
      case TraceEventKind::Deliver:
        deliver(event);
        break;
      case TraceEventKind::InterruptEnd:
        if (Slice* slice = close(event.time_ns, [&](const Slice& s) {
              return s.kind == SliceKind::Interrupt && s.vector == event.vector;
            })) {
          slice->args.push_back(outcome(event.argument));
        }
        break;
      case TraceEventKind::IsrEnter:
        open(event, SliceKind::Isr, fmt::format("ISR {:#x}", event.subject),
             {text("vector", hex(event.vector)), number("synchronize_irql", event.irql),
              text("isr", hex(event.subject)), text("interrupt_object", hex(event.argument))});
        break;
      case TraceEventKind::IsrExit:
        if (Slice* slice = close(event.time_ns, [&](const Slice& s) {
              return s.kind == SliceKind::Isr && s.vector == event.vector && s.subject == event.subject;
            })) {
          slice->args.push_back(text("returned", event.argument != 0 ? "TRUE" : "FALSE"));
        }
        break;
      case TraceEventKind::DpcEnter:
        open(event, SliceKind::Dpc, fmt::format("DPC {:#x}", event.subject),
             {text("routine", hex(event.subject)), text("dpc", hex(event.argument))});
        break;
      case TraceEventKind::DpcExit:
        close(event.time_ns, [&](const Slice& s) { return s.kind == SliceKind::Dpc && s.subject == event.subject; });
        break;
      case TraceEventKind::IrqlChange:
        change_irql(event);
        break;
      default:
        point(event);
        break;
    }
  }

  // Ends the slices still open, and the IRQL span, at the end of the trace.
  void finish(std::int64_t end_ns) {
    while (!open_.empty()) end_unfinished(end_ns);
    if (irql_) {
      irql_->end_ns = std::max(end_ns, irql_->begin_ns);
      out_.irql.push_back(*irql_);
    }
  }

 private:
  void open(const TraceEvent& event, SliceKind kind, std::string name, std::vector<Arg> args) {
    const auto depth = static_cast<unsigned>(open_.size());
    out_.slices.push_back(
        {kind, event.time_ns, event.time_ns, depth, event.vector, event.subject, std::move(name), std::move(args)});
    out_.levels = std::max(out_.levels, depth + 1);
    open_.push_back(out_.slices.size() - 1);
  }

  void deliver(const TraceEvent& event) {
    std::vector<Arg> args{text("vector", hex(event.vector)), number("irql", event.irql)};
    if (event.subject != 0) {
      args.push_back(number("raised", event.subject));
    } else {
      args.push_back(flag("level", true));
    }
    args.push_back(number("latency_ns", event.argument));
    open(event, SliceKind::Interrupt, fmt::format("vector {:#x}", event.vector), std::move(args));
    VectorHistory& history = histories_[event.vector];
    const std::size_t slice = out_.slices.size() - 1;
    if (event.subject != 0) {
      history.takers.push_back({event.subject, event.time_ns, true, index_, slice});
    } else {
      history.level_deliveries.push_back({event.time_ns, index_, slice});
    }
  }

  // Ends the innermost open slice that `matches`, after the slices open inside it (whose own
  // ends were lost). Returns it, or nullptr if no open slice matches.
  template <typename Match>
  Slice* close(std::int64_t time_ns, Match matches) {
    const auto found =
        std::find_if(open_.rbegin(), open_.rend(), [&](std::size_t i) { return matches(out_.slices[i]); });
    if (found == open_.rend()) return nullptr;
    const std::size_t index = *found;
    while (open_.back() != index) end_unfinished(time_ns);
    open_.pop_back();
    Slice& slice = out_.slices[index];
    slice.end_ns = std::max(time_ns, slice.begin_ns);
    return &slice;
  }

  void end_unfinished(std::int64_t time_ns) {
    Slice& slice = out_.slices[open_.back()];
    open_.pop_back();
    slice.end_ns = std::max(time_ns, slice.begin_ns);
    slice.args.push_back(flag("unfinished", true));
  }

  void change_irql(const TraceEvent& event) {
    if (!irql_) return;
    const std::int64_t at = std::max(event.time_ns, irql_->begin_ns);
    if (at > irql_->begin_ns) {
      irql_->end_ns = at;
      out_.irql.push_back(*irql_);
    }
    irql_ = IrqlSpan{at, at, event.irql};
  }

  void point(const TraceEvent& event) {
    out_.instants.push_back(describe(event));
    const std::size_t instant = out_.instants.size() - 1;
    if (event.kind == TraceEventKind::Raise) {
      histories_[event.vector].raises.push_back({event.argument, index_, instant});
    } else if (event.kind == TraceEventKind::LineAssert) {
      histories_[event.vector].asserts.push_back({event.time_ns, index_, instant});
    } else if (event.kind == TraceEventKind::Drop) {
      histories_[event.vector].takers.push_back({event.argument, event.time_ns, false, 0, 0});
    }
  }

  TrackTimeline& out_;
  std::size_t index_;
  Histories& histories_;
  std::vector<std::size_t> open_;  // indexes into out_.slices, outermost first
  std::optional<IrqlSpan> irql_;   // the span in progress, for a processor's track
  std::int64_t now_ = std::numeric_limits<std::int64_t>::min();
};

// Each delivery that took edges gets an arrow from every raise of the edges it took: those
// numbered above the previous taker's. When the trace lost events, the taker before the first
// one seen may be gone, so that one is only known to have taken its own last edge.
void add_edge_flows(VectorHistory& history, bool complete, std::vector<Flow>& flows) {
  std::ranges::stable_sort(history.raises, {}, &Raise::edge);
  std::ranges::stable_sort(history.takers, [](const Taker& a, const Taker& b) {
    return a.edges != b.edges ? a.edges < b.edges : a.time_ns < b.time_ns;
  });
  std::optional<std::uint64_t> previous;
  if (complete) previous = 0;
  for (const Taker& taker : history.takers) {
    const std::uint64_t first = previous ? *previous + 1 : taker.edges;
    previous = taker.edges;
    if (!taker.delivery || first > taker.edges) continue;
    const auto begin = std::ranges::lower_bound(history.raises, first, {}, &Raise::edge);
    const auto end = std::ranges::upper_bound(history.raises, taker.edges, {}, &Raise::edge);
    for (auto raise = begin; raise != end; ++raise) {
      flows.push_back({raise->track, raise->instant, taker.track, taker.slice});
    }
  }
}

// A delivery of an asserted level line gets an arrow from the latest assert before it, unless
// an earlier delivery already has that one.
void add_level_flows(VectorHistory& history, std::vector<Flow>& flows) {
  std::ranges::stable_sort(history.asserts, {}, &Assert::time_ns);
  std::ranges::stable_sort(history.level_deliveries, {}, &LevelDelivery::time_ns);
  std::vector<bool> used(history.asserts.size(), false);
  for (const LevelDelivery& delivery : history.level_deliveries) {
    const auto after = std::ranges::upper_bound(history.asserts, delivery.time_ns, {}, &Assert::time_ns);
    if (after == history.asserts.begin()) continue;
    const auto index = static_cast<std::size_t>(after - history.asserts.begin()) - 1;
    if (used[index]) continue;
    used[index] = true;
    flows.push_back({history.asserts[index].track, history.asserts[index].instant, delivery.track, delivery.slice});
  }
}

}  // namespace

Timeline build_timeline(const Trace& trace) {
  Timeline timeline;
  std::int64_t begin = std::numeric_limits<std::int64_t>::max();
  std::int64_t end = std::numeric_limits<std::int64_t>::min();
  bool complete = true;
  for (const TraceTrack& track : trace.tracks) {
    for (const TraceEvent& event : track.events) {
      begin = std::min(begin, event.time_ns);
      end = std::max(end, event.time_ns);
    }
    // A complete processor track knows the processor's IRQL from the machine's start on.
    if (track.processor && track.lost == 0) begin = std::min<std::int64_t>(begin, 0);
    complete = complete && track.lost == 0;
  }
  if (end < begin) begin = end = 0;
  timeline.begin_ns = begin;
  timeline.end_ns = std::max(end, begin);

  Histories histories;
  timeline.tracks.resize(trace.tracks.size());
  for (std::size_t i = 0; i < trace.tracks.size(); ++i) {
    timeline.tracks[i].track = &trace.tracks[i];
    TrackBuilder builder(timeline.tracks[i], i, histories);
    for (const TraceEvent& event : trace.tracks[i].events) builder.add(event);
    builder.finish(timeline.end_ns);
  }
  for (auto& [vector, history] : histories) {
    add_edge_flows(history, complete, timeline.flows);
    add_level_flows(history, timeline.flows);
  }
  return timeline;
}

}  // namespace irqsim::trace
