#pragma once
/// @file
/// @brief What a machine's processors did, event by event: Trace, and its export to the Chrome
/// trace-event JSON format (Perfetto, chrome://tracing) and to an SVG timeline.
///
/// A machine records a trace only when asked (MachineConfig::trace, or the process default set
/// by set_trace_by_default and the IRQSIM_TRACE environment variable). docs/tracing.md shows how
/// to read one.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace irqsim {

/// @brief What a TraceEvent records. The table in TraceEvent says what its fields hold.
enum class TraceEventKind : std::uint8_t {
  /// @brief An edge was signalled on a vector (Machine::pulse, a device's pulse or message, the
  /// rising edge of an edge-triggered line).
  Raise,
  /// @brief A vector's line became asserted (some driver of the wired OR drives it).
  LineAssert,
  /// @brief A vector's line became deasserted (no driver drives it any more).
  LineDeassert,
  /// @brief A pending edge was dropped: nothing is connected to its vector.
  Drop,
  /// @brief A processor accepted a vector; its ISRs run until the matching InterruptEnd.
  Deliver,
  /// @brief End of interrupt: the processor is done with the vector it accepted last.
  InterruptEnd,
  /// @brief An interrupt service routine was called (its interrupt lock held).
  IsrEnter,
  /// @brief An interrupt service routine returned.
  IsrExit,
  /// @brief A DPC was queued to a processor.
  DpcQueue,
  /// @brief A DPC routine was called.
  DpcEnter,
  /// @brief A DPC routine returned.
  DpcExit,
  /// @brief The processor's IRQL changed.
  IrqlChange,
  /// @brief A spin lock was found held and the caller started spinning on it.
  LockContend,
  /// @brief A spin lock was acquired.
  LockAcquire,
  /// @brief A spin lock was released.
  LockRelease,
  /// @brief The machine bug-checked on this thread.
  BugCheck,
  /// @brief A function given to Machine::run_on or Machine::post started on the processor.
  WorkBegin,
  /// @brief That function returned (or its frames were unwound).
  WorkEnd,
};

/// @brief The name of an event kind as the exports write it ("Raise", "IsrEnter", ...).
[[nodiscard]] const char* to_string(TraceEventKind kind) noexcept;

/// @brief How a delivery ended, in an InterruptEnd event's `argument`.
enum class InterruptOutcome : std::uint8_t {
  /// @brief An ISR returned TRUE.
  Claimed,
  /// @brief ISRs ran and none returned TRUE.
  Unclaimed,
  /// @brief No ISR was connected for the vector on this processor.
  Unexpected,
  /// @brief The ISRs never returned: the machine halted under them, or an exception escaped.
  Abandoned,
  /// @brief The connection went inactive before its ISR was called: the interrupt stays pending.
  Undone,
};

/// @brief One thing that happened, on one thread, at one moment.
///
/// The fields by kind (unlisted fields are 0):
///
/// | kind | vector | irql | subject | argument |
/// |---|---|---|---|---|
/// | Raise | vector | raiser's | - | the edge's number (VectorStats::raised after it) |
/// | LineAssert, LineDeassert | vector | raiser's | - | - |
/// | Drop | vector | - | - | VectorStats::raised when the edge was dropped |
/// | Deliver | vector | vector's | edge number taken (0: a level delivery) | latency in ns |
/// | InterruptEnd | vector | vector's | - | InterruptOutcome |
/// | IsrEnter | vector | SynchronizeIrql | ISR's address | interrupt object's address |
/// | IsrExit | vector | SynchronizeIrql | ISR's address | the ISR's return value |
/// | DpcQueue | target processor | caller's | DPC routine's address | DPC object's address |
/// | DpcEnter, DpcExit | - | DISPATCH_LEVEL | DPC routine's address | DPC object's address |
/// | IrqlChange (processors only) | - | new IRQL | - | previous IRQL |
/// | LockContend, LockRelease | - | the lock's IRQL | lock's address | - |
/// | LockAcquire | - | the lock's IRQL | lock's address | 1 if the caller had to wait |
/// | BugCheck | - | caller's | bug-check code | parameter 1 |
/// | WorkBegin, WorkEnd | - | PASSIVE_LEVEL | - | - |
///
/// The edge number a Deliver took is VectorStats::raised at the acceptance, recorded only if
/// the delivery took an edge; the lock's IRQL is the one it is used at (DISPATCH_LEVEL for an
/// executive spin lock, the SynchronizeIrql for an interrupt lock).
struct TraceEvent {
  /// @brief Nanoseconds since the machine was created (the host's steady clock).
  std::int64_t time_ns = 0;
  /// @brief What the event is about (see the table).
  std::uint64_t subject = 0;
  /// @brief A value depending on the kind (see the table).
  std::uint64_t argument = 0;
  /// @brief The track of the thread that recorded it: TraceTrack::id.
  std::uint32_t track = 0;
  /// @brief The vector, or for DpcQueue the target processor.
  std::uint16_t vector = 0;
  /// @brief What happened.
  TraceEventKind kind = TraceEventKind::Raise;
  /// @brief An IRQL (see the table).
  std::uint8_t irql = 0;
};

/// @brief The events one thread recorded, in the order it recorded them.
struct TraceTrack {
  /// @brief The track's id: the processor's index for a simulated processor, kFirstThreadTrack
  /// and up for any other thread (the test's own, a device model's).
  std::uint32_t id = 0;
  /// @brief "CPU 2", or "thread 1" for a thread that is not a simulated processor.
  std::string name;
  /// @brief The processor's index, for a simulated processor's track.
  std::optional<unsigned> processor;
  /// @brief The events, oldest first.
  std::vector<TraceEvent> events;
  /// @brief Events this thread recorded that the trace no longer holds: the oldest ones, once
  /// the track held MachineConfig::trace_events_per_track, or events that found the thread's
  /// ring full.
  std::uint64_t lost = 0;

  /// @brief Track ids from here on belong to threads that are not simulated processors.
  static constexpr std::uint32_t kFirstThreadTrack = 1024;
};

/// @brief A machine's recorded events: one track per processor, then one per other thread that
/// raised an interrupt, queued a DPC or took a spin lock.
///
/// Machine::trace() takes one while the machine runs (the processors keep running) or after
/// it stopped. The exports turn ISRs, DPCs, deliveries and functions run on a processor into
/// slices that nest on each processor's track, show the IRQL each processor ran at, and draw
/// an arrow from each raise to the delivery that took it.
class Trace {
 public:
  /// @brief The tracks, processors first (in processor order), then other threads.
  std::vector<TraceTrack> tracks;

  /// @brief Number of events in all tracks.
  [[nodiscard]] std::size_t event_count() const noexcept;
  /// @brief The track with the given id, or nullptr.
  [[nodiscard]] const TraceTrack* track(std::uint32_t id) const noexcept;

  /// @brief The first difference between this trace and `other` as a readable text, or nothing when
  /// they hold the same run: the same tracks in the same order (id, name, processor, lost count),
  /// and on each track the same events in the same order, every field equal, except the fields
  /// TraceEvent's table gives as addresses, which need only correspond one to one.
  ///
  /// Two runs of one deterministic test in one process record the same events, but the objects
  /// they name (ISRs, interrupt objects, DPC routines and objects, spin locks) may sit at other
  /// addresses. So an address met first in this trace (tracks in order, each track's events in
  /// order) is paired with the address at the same place in `other`, and every later occurrence
  /// of either must keep that pairing. One pairing covers all address fields, since one object
  /// appears in several kinds of event. Everything else compares exactly: times, kinds, tracks,
  /// vectors, IRQLs, and the subjects and arguments that are not addresses (edge numbers,
  /// latencies, outcomes, previous IRQLs, an ISR's return value, ...).
  ///
  /// The comparison stops at the first difference, looked for in this order: the number of
  /// tracks; then track by track, its id, name, processor and lost count, its events one by one,
  /// and its number of events. The text says which: "track count differs (3 vs 4)", the track
  /// that differs, or the event ("event 12 of CPU 1") with both events written out, and for a
  /// broken pairing also the addresses and the event that paired them first.
  [[nodiscard]] std::optional<std::string> difference_from(const Trace& other) const;

  /// @brief The trace in the Chrome trace-event JSON format, which Perfetto
  /// (https://ui.perfetto.dev) and chrome://tracing open: one thread per track, ISRs, DPCs,
  /// deliveries and run_on/post functions as complete ("X") slices, the IRQL as a counter per
  /// processor, raises and lock events as instants, and each raise joined to the delivery that
  /// took it by a flow arrow.
  [[nodiscard]] std::string to_chrome_json() const;
  /// @brief A self-contained SVG timeline: one row per track, slices coloured by what they are,
  /// the IRQL drawn under each processor's row, raise-to-delivery arrows, and a tooltip on
  /// every slice. Any browser opens it.
  [[nodiscard]] std::string to_svg() const;
  /// @brief Writes to_chrome_json() to `path`. Throws std::runtime_error if it cannot.
  void write_chrome_json(const std::filesystem::path& path) const;
  /// @brief Writes to_svg() to `path`. Throws std::runtime_error if it cannot.
  void write_svg(const std::filesystem::path& path) const;
};

}  // namespace irqsim
