// Trace::to_chrome_json: the Chrome trace-event JSON format, for Perfetto and chrome://tracing.
//
// Raise-to-delivery arrows are v1 flow events ("s" and "f" with "bp":"e"), which bind to the slice
// enclosing them on their thread, rather than v2 flows ("bind_id" on the slices themselves): a v2
// slice carries one flow id, and a delivery that took several coalesced raises needs an arrow
// from each. A flow must start in a slice, so a raise that starts one is written as a
// zero-length slice (Perfetto imports a thread instant as one anyway), immediately followed by
// its "s". Of the events at one timestamp, Perfetto takes complete slices first, longest first,
// then the rest in file order, so a delivery's "f", written right after it, binds to it (or to its
// first ISR, should that start in the same nanosecond).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "irqsim/trace.hpp"
#include "trace/timeline.hpp"

namespace irqsim {

namespace {

using trace::Arg;
using trace::Instant;
using trace::Slice;
using trace::SliceKind;
using trace::Timeline;

const char* category(SliceKind kind) {
  switch (kind) {
    case SliceKind::Work:
      return "work";
    case SliceKind::Interrupt:
      return "interrupt";
    case SliceKind::Isr:
      return "isr";
    case SliceKind::Dpc:
      return "dpc";
  }
  return "slice";
}

const char* category(TraceEventKind kind) {
  switch (kind) {
    case TraceEventKind::Raise:
      return "raise";
    case TraceEventKind::LineAssert:
    case TraceEventKind::LineDeassert:
      return "line";
    case TraceEventKind::Drop:
      return "drop";
    case TraceEventKind::DpcQueue:
      return "dpc";
    case TraceEventKind::LockContend:
    case TraceEventKind::LockAcquire:
    case TraceEventKind::LockRelease:
      return "lock";
    case TraceEventKind::BugCheck:
      return "bugcheck";
    default:
      return "event";
  }
}

// The events of the "traceEvents" array, one JSON object each. Every event starts with the
// same keys in the same order: "ph", "pid", "tid" and (but for metadata) "ts" come before any
// string that may need escaping, which some Perfetto versions' tokenizer reads past to find them.
class EventWriter {
 public:
  explicit EventWriter(fmt::memory_buffer& out) : out_(out) {}

  void open(char phase, std::uint32_t tid) {
    fmt::format_to(fmt::appender(out_), "{}{{\"ph\":\"{}\",\"pid\":1,\"tid\":{}", first_ ? "" : ",\n", phase, tid);
    first_ = false;
  }
  void open(char phase, std::uint32_t tid, std::int64_t ts_ns) {
    open(phase, tid);
    time("ts", ts_ns);
  }
  // Trace-event times are microseconds; three decimals keep every nanosecond.
  void time(std::string_view key, std::int64_t ns) {
    const auto magnitude = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
    fmt::format_to(fmt::appender(out_), ",\"{}\":{}{}.{:03}", key, ns < 0 ? "-" : "", magnitude / 1000,
                   magnitude % 1000);
  }
  void text(std::string_view key, std::string_view value) {
    fmt::format_to(fmt::appender(out_), ",\"{}\":", key);
    string(value);
  }
  void raw(std::string_view key, std::string_view value) {
    fmt::format_to(fmt::appender(out_), ",\"{}\":{}", key, value);
  }
  void args(const std::vector<Arg>& args) {
    out_.append(std::string_view(",\"args\":{"));
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i > 0) out_.push_back(',');
      string(args[i].key);
      out_.push_back(':');
      if (args[i].quoted) {
        string(args[i].value);
      } else {
        out_.append(args[i].value);
      }
    }
    out_.push_back('}');
  }
  void close() { out_.push_back('}'); }

  // A JSON string: quotes, backslashes and control characters escaped, other bytes (UTF-8
  // included) as they are.
  void string(std::string_view value) {
    out_.push_back('"');
    for (const char c : value) {
      switch (c) {
        case '"':
          out_.append(std::string_view("\\\""));
          break;
        case '\\':
          out_.append(std::string_view("\\\\"));
          break;
        case '\n':
          out_.append(std::string_view("\\n"));
          break;
        case '\r':
          out_.append(std::string_view("\\r"));
          break;
        case '\t':
          out_.append(std::string_view("\\t"));
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            fmt::format_to(fmt::appender(out_), "\\u{:04x}", static_cast<unsigned>(c));
          } else {
            out_.push_back(c);
          }
      }
    }
    out_.push_back('"');
  }

 private:
  fmt::memory_buffer& out_;
  bool first_ = true;
};

constexpr std::string_view kFlowCategory = "flow";
constexpr std::string_view kFlowName = "taken by";

void write_flow(EventWriter& events, char phase, std::uint32_t tid, std::int64_t ts_ns, std::size_t id) {
  events.open(phase, tid, ts_ns);
  events.text("cat", kFlowCategory);
  events.text("name", kFlowName);
  events.raw("id", fmt::format("{}", id));
  if (phase == 'f') events.text("bp", "e");
  events.close();
}

void write_slice(EventWriter& events, std::uint32_t tid, const Slice& slice) {
  events.open('X', tid, slice.begin_ns);
  events.time("dur", slice.end_ns - slice.begin_ns);
  events.text("cat", category(slice.kind));
  events.text("name", slice.name);
  events.args(slice.args);
  events.close();
}

void write_instant(EventWriter& events, std::uint32_t tid, const Instant& instant, bool starts_flow) {
  if (starts_flow) {
    events.open('X', tid, instant.event.time_ns);
    events.time("dur", 0);
  } else {
    events.open('i', tid, instant.event.time_ns);
    events.text("s", "t");
  }
  events.text("cat", category(instant.event.kind));
  events.text("name", instant.name);
  events.args(instant.args);
  events.close();
}

void write_track(EventWriter& events, const Timeline& timeline, std::size_t index,
                 const std::map<std::pair<std::size_t, std::size_t>, std::size_t>& starts,
                 const std::multimap<std::pair<std::size_t, std::size_t>, std::size_t>& finishes) {
  const trace::TrackTimeline& track = timeline.tracks[index];
  const std::uint32_t tid = track.track->id;
  for (std::size_t i = 0; i < track.slices.size(); ++i) {
    write_slice(events, tid, track.slices[i]);
    const auto [first, last] = finishes.equal_range({index, i});
    for (auto flow = first; flow != last; ++flow) write_flow(events, 'f', tid, track.slices[i].begin_ns, flow->second);
  }
  for (std::size_t i = 0; i < track.instants.size(); ++i) {
    const auto start = starts.find({index, i});
    write_instant(events, tid, track.instants[i], start != starts.end());
    if (start != starts.end()) write_flow(events, 's', tid, track.instants[i].event.time_ns, start->second);
  }
  const std::string counter = fmt::format("IRQL {}", track.track->name);
  for (const trace::IrqlSpan& span : track.irql) {
    events.open('C', tid, span.begin_ns);
    events.text("name", counter);
    events.args({{"irql", fmt::format("{}", span.irql), false}});
    events.close();
  }
  if (track.track->lost > 0) {
    const std::vector<TraceEvent>& recorded = track.track->events;
    events.open('i', tid, recorded.empty() ? timeline.begin_ns : recorded.front().time_ns);
    events.text("s", "t");
    events.text("cat", "lost");
    events.text("name", fmt::format("{} events lost before here", track.track->lost));
    events.args({{"lost", fmt::format("{}", track.track->lost), false}});
    events.close();
  }
}

}  // namespace

std::string Trace::to_chrome_json() const {
  const Timeline timeline = trace::build_timeline(*this);
  // Flow ids start at 1: some importers take an id of 0 for none.
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> starts;
  std::multimap<std::pair<std::size_t, std::size_t>, std::size_t> finishes;
  for (std::size_t i = 0; i < timeline.flows.size(); ++i) {
    const trace::Flow& flow = timeline.flows[i];
    starts.emplace(std::pair{flow.from_track, flow.from_instant}, i + 1);
    finishes.emplace(std::pair{flow.to_track, flow.to_slice}, i + 1);
  }

  fmt::memory_buffer out;
  // displayTimeUnit first: older Perfetto versions look for it at the start of the file only.
  out.append(std::string_view("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"));
  EventWriter events(out);
  events.open('M', tracks.empty() ? 0 : tracks.front().id);
  events.text("name", "process_name");
  events.args({{"name", "irqsim", true}});
  events.close();
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    events.open('M', tracks[i].id);
    events.text("name", "thread_name");
    events.args({{"name", tracks[i].name, true}});
    events.close();
    events.open('M', tracks[i].id);
    events.text("name", "thread_sort_index");
    events.args({{"sort_index", fmt::format("{}", i), false}});
    events.close();
  }
  for (std::size_t i = 0; i < timeline.tracks.size(); ++i) write_track(events, timeline, i, starts, finishes);

  out.append(std::string_view("\n],\"otherData\":{\"generator\":\"irqsim\",\"lost_events\":["));
  bool first = true;
  for (const TraceTrack& track : tracks) {
    if (track.lost == 0) continue;
    fmt::format_to(fmt::appender(out), "{}{{\"tid\":{},\"track\":", first ? "" : ",", track.id);
    events.string(track.name);
    fmt::format_to(fmt::appender(out), ",\"lost\":{}}}", track.lost);
    first = false;
  }
  out.append(std::string_view("]}}\n"));
  return fmt::to_string(out);
}

}  // namespace irqsim
