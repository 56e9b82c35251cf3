#pragma once
// What both trace exports draw, worked out once from a Trace: the slices that each track's
// begin and end events make (they nest like a call stack), the IRQL of each processor over time,
// the point events, and the arrows from raises to the deliveries that took them.
//
// A track may have lost events (its oldest ones, or some that found its ring full), so nothing
// here trusts begin and end events to pair up: an end with no matching open slice is ignored,
// an end matching an outer slice first ends the slices open inside it, and slices still open at
// the end of the trace end there. Slices ended that way carry an "unfinished" argument.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "irqsim/irql.hpp"
#include "irqsim/trace.hpp"

namespace irqsim::trace {

enum class SliceKind : std::uint8_t {
  Work,       // a function given to run_on or post
  Interrupt,  // a delivery, from Deliver to InterruptEnd
  Isr,
  Dpc,
};

// A named value shown with a slice or an instant. `quoted` values are text; the others are
// numbers or booleans, written as they are in JSON.
struct Arg {
  std::string key;
  std::string value;
  bool quoted = false;
};

struct Slice {
  SliceKind kind = SliceKind::Work;
  std::int64_t begin_ns = 0;
  std::int64_t end_ns = 0;
  // 0 for a slice with nothing open around it.
  unsigned depth = 0;
  // The begin event's vector and subject, which its end event must match.
  std::uint16_t vector = 0;
  std::uint64_t subject = 0;
  std::string name;
  std::vector<Arg> args;
};

// A point event: a raise, a line change, a drop, a DPC queued, a lock event or a bug check.
struct Instant {
  TraceEvent event;
  std::string name;
  std::vector<Arg> args;
};

// The IRQL a processor ran at from begin_ns to end_ns.
struct IrqlSpan {
  std::int64_t begin_ns = 0;
  std::int64_t end_ns = 0;
  Irql irql = 0;
};

struct TrackTimeline {
  const TraceTrack* track = nullptr;
  // In the order they began; a slice comes before the slices nested in it.
  std::vector<Slice> slices;
  // In time order.
  std::vector<Instant> instants;
  // Back to back, for a processor's track; empty for other threads, and for a processor that
  // lost events and recorded none that are left.
  std::vector<IrqlSpan> irql;
  // Nesting levels used: one more than the deepest slice's depth, 0 without slices.
  unsigned levels = 0;
};

// An arrow from an instant (a raise, or the assert of a level line) to the delivery slice that
// took it. Tracks are indexes into Timeline::tracks.
struct Flow {
  std::size_t from_track = 0;
  std::size_t from_instant = 0;
  std::size_t to_track = 0;
  std::size_t to_slice = 0;
};

struct Timeline {
  // One per track of the trace, in the same order.
  std::vector<TrackTimeline> tracks;
  std::vector<Flow> flows;
  // The span of the trace: from the earliest event (or from 0, when a processor's track is
  // complete) to the latest event.
  std::int64_t begin_ns = 0;
  std::int64_t end_ns = 0;

  [[nodiscard]] const Instant& source(const Flow& flow) const {
    return tracks[flow.from_track].instants[flow.from_instant];
  }
  [[nodiscard]] const Slice& target(const Flow& flow) const { return tracks[flow.to_track].slices[flow.to_slice]; }
};

[[nodiscard]] Timeline build_timeline(const Trace& trace);

}  // namespace irqsim::trace
