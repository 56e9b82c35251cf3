// Trace::to_svg: a standalone SVG 1.1 timeline. A time axis on top, then one row per track: its
// point events as small triangles, its slices as rectangles nested by depth, and for a processor
// the IRQL as a shaded step curve; raise-to-delivery arrows are drawn over everything. Every
// slice and point event has a <title>, which browsers show as a tooltip.

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "irqsim/irql.hpp"
#include "irqsim/trace.hpp"
#include "trace/timeline.hpp"

namespace irqsim {

namespace {

using trace::Arg;
using trace::Instant;
using trace::Slice;
using trace::SliceKind;
using trace::Timeline;
using trace::TrackTimeline;

constexpr double kWidth = 1600;
constexpr double kPlotLeft = 170;
constexpr double kPlotWidth = kWidth - kPlotLeft - 24;
constexpr double kAxisY = 52;
constexpr double kRowGap = 4;
constexpr double kInstantLane = 12;
constexpr double kSliceLane = 16;
constexpr double kSliceHeight = 14;
constexpr double kIrqlBand = 36;
// A slice shorter than a pixel is still drawn, this wide.
constexpr double kMinSliceWidth = 1;
// Width of one character of the slice labels (10 px sans-serif), to tell whether a name fits.
constexpr double kCharWidth = 6.2;

// ISRs vary in colour by vector, so that nested and neighbouring ISRs stand apart. Seven colours:
// vectors are often 16 apart, which a power of two would give the same colour.
constexpr std::array<std::string_view, 7> kIsrColours{"#7e57c2", "#26a69a", "#ec407a", "#5c6bc0",
                                                      "#8d6e63", "#29b6f6", "#ffb300"};
constexpr std::string_view kWorkColour = "#cfd8dc";
constexpr std::string_view kDeliveryColour = "#ffcdd2";
constexpr std::string_view kDpcColour = "#a5d6a7";
constexpr std::string_view kFlowColour = "#c62828";

std::string_view fill(const Slice& slice) {
  switch (slice.kind) {
    case SliceKind::Work:
      return kWorkColour;
    case SliceKind::Interrupt:
      return kDeliveryColour;
    case SliceKind::Isr:
      return kIsrColours[slice.vector % kIsrColours.size()];
    case SliceKind::Dpc:
      return kDpcColour;
  }
  return "#bdbdbd";
}

std::string_view fill(TraceEventKind kind) {
  switch (kind) {
    case TraceEventKind::Raise:
      return kFlowColour;
    case TraceEventKind::LineAssert:
      return "#ef6c00";
    case TraceEventKind::LineDeassert:
      return "#8d6e63";
    case TraceEventKind::Drop:
      return "#212121";
    case TraceEventKind::DpcQueue:
      return "#2e7d32";
    case TraceEventKind::LockContend:
      return "#6a1b9a";
    case TraceEventKind::LockAcquire:
      return "#1565c0";
    case TraceEventKind::LockRelease:
      return "#64b5f6";
    case TraceEventKind::BugCheck:
      return "#d50000";
    default:
      return "#757575";
  }
}

// Text for XML content and attribute values. Control characters other than tab and newline
// cannot appear in XML 1.0 at all, not even as character references, so they become U+FFFD.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
      case '\n':
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Three decimals in its unit, unlike the reports' three significant digits
// (control/duration_text): a tooltip is where one reads when, well into a long trace, a slice began.
std::string exact_time_text(std::int64_t ns) {
  const auto value = static_cast<double>(ns);
  if (ns > -1'000 && ns < 1'000) return fmt::format("{} ns", ns);
  if (ns > -1'000'000 && ns < 1'000'000) return fmt::format("{:.3f} us", value / 1e3);
  if (ns > -1'000'000'000 && ns < 1'000'000'000) return fmt::format("{:.3f} ms", value / 1e6);
  return fmt::format("{:.3f} s", value / 1e9);
}

std::string tooltip(std::string_view name, std::int64_t begin_ns, std::optional<std::int64_t> duration_ns,
                    const std::vector<Arg>& args) {
  std::string text = fmt::format("{}\nat {}", name, exact_time_text(begin_ns));
  if (duration_ns) text += fmt::format(", lasting {}", exact_time_text(*duration_ns));
  for (const Arg& arg : args) text += fmt::format("\n{}: {}", arg.key, arg.value);
  return escape(text);
}

// Where each track's row and its parts are.
struct Row {
  double top = 0;
  double slices_top = 0;
  double irql_top = 0;
  double bottom = 0;
};

class SvgWriter {
 public:
  explicit SvgWriter(const Timeline& timeline) : timeline_(timeline) {
    const auto span = std::max<std::int64_t>(timeline.end_ns - timeline.begin_ns, 1);
    scale_ = kPlotWidth / static_cast<double>(span);
    double y = kAxisY + 6;
    for (const TrackTimeline& track : timeline.tracks) {
      Row row;
      row.top = y;
      row.slices_top = y + kRowGap + kInstantLane;
      row.irql_top = row.slices_top + std::max(track.levels, 1U) * kSliceLane + kRowGap;
      row.bottom = row.irql_top + (track.irql.empty() ? 0 : kIrqlBand + kRowGap);
      rows_.push_back(row);
      y = row.bottom;
      for (const trace::IrqlSpan& level : track.irql) top_irql_ = std::max(top_irql_, level.irql);
    }
    height_ = y + 24;
  }

  std::string write() {
    out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1:.0f}\" "
        "viewBox=\"0 0 {0} {1:.0f}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        kWidth, height_);
    out("<title>irqsim trace</title>\n");
    out("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
        "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker></defs>\n",
        kFlowColour);
    out("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    draw_header();
    for (std::size_t i = 0; i < rows_.size(); ++i) draw_row_background(i);
    draw_axis();
    for (std::size_t i = 0; i < rows_.size(); ++i) draw_row(i);
    for (const trace::Flow& flow : timeline_.flows) draw_arrow(flow);
    out("</svg>\n");
    return fmt::to_string(buffer_);
  }

 private:
  template <typename... Args>
  void out(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(fmt::appender(buffer_), format, std::forward<Args>(args)...);
  }

  [[nodiscard]] double x(std::int64_t ns) const {
    return kPlotLeft + static_cast<double>(ns - timeline_.begin_ns) * scale_;
  }

  void draw_header() {
    out("<text x=\"8\" y=\"18\" font-size=\"13\" font-weight=\"bold\">irqsim trace, {} to {}</text>\n",
        exact_time_text(timeline_.begin_ns), exact_time_text(timeline_.end_ns));
    // The legend, right-aligned on the same line.
    constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kKinds{
        {{"run_on/post", kWorkColour}, {"delivery", kDeliveryColour}, {"ISR", kIsrColours[0]}, {"DPC", kDpcColour}}};
    double left = kWidth - 470;
    for (const auto& [label, colour] : kKinds) {
      out("<rect x=\"{:.1f}\" y=\"9\" width=\"12\" height=\"11\" fill=\"{}\" stroke=\"#757575\" "
          "stroke-width=\"0.5\"/><text x=\"{:.1f}\" y=\"18\">{}</text>\n",
          left, colour, left + 16, label);
      left += 24 + kCharWidth * static_cast<double>(label.size());
    }
    out("<line x1=\"{0:.1f}\" y1=\"14.5\" x2=\"{1:.1f}\" y2=\"14.5\" stroke=\"{2}\" marker-end=\"url(#arrow)\"/>"
        "<text x=\"{3:.1f}\" y=\"18\">raise to delivery</text>\n",
        left, left + 24, kFlowColour, left + 30);
  }

  // Ticks at 1, 2 or 5 times a power of ten nanoseconds, about ten of them, labelled in the
  // largest unit the trace spans, with as many decimals as the step needs.
  void draw_axis() {
    const std::int64_t span = std::max<std::int64_t>(timeline_.end_ns - timeline_.begin_ns, 1);
    std::int64_t step = 1;
    for (std::int64_t power = 1; step * 10 < span; power *= 10) {
      for (const std::int64_t factor : {2, 5, 10}) {
        step = factor * power;
        if (step * 10 >= span) break;
      }
    }
    const auto [unit, unit_ns] = span >= 1'000'000'000 ? std::pair{"s", std::int64_t{1'000'000'000}}
                                 : span >= 1'000'000   ? std::pair{"ms", std::int64_t{1'000'000}}
                                 : span >= 1'000       ? std::pair{"us", std::int64_t{1'000}}
                                                       : std::pair{"ns", std::int64_t{1}};
    int decimals = 0;
    for (std::int64_t scaled = step; scaled % unit_ns != 0; scaled *= 10) ++decimals;
    out("<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#424242\"/>\n", kPlotLeft,
        kPlotLeft + kPlotWidth, kAxisY);
    std::int64_t tick = timeline_.begin_ns / step * step;
    if (tick < timeline_.begin_ns) tick += step;
    for (; tick <= timeline_.end_ns; tick += step) {
      out("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e0e0e0\"/>"
          "<line x1=\"{0:.1f}\" y1=\"{3:.1f}\" x2=\"{0:.1f}\" y2=\"{1:.1f}\" stroke=\"#424242\"/>"
          "<text x=\"{0:.1f}\" y=\"{4:.1f}\" text-anchor=\"middle\">{5:.{6}f} {7}</text>\n",
          x(tick), kAxisY, height_ - 20, kAxisY - 5, kAxisY - 8,
          static_cast<double>(tick) / static_cast<double>(unit_ns), decimals, unit);
    }
  }

  void draw_row_background(std::size_t index) {
    const Row& r = rows_[index];
    out("<rect x=\"0\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"{}\"/>\n", r.top, kWidth, r.bottom - r.top,
        index % 2 == 0 ? "#fafafa" : "#f0f0f0");
  }

  void draw_row(std::size_t index) {
    const TrackTimeline& track = timeline_.tracks[index];
    const Row& r = rows_[index];
    out("<text x=\"8\" y=\"{:.1f}\" font-weight=\"bold\">{}</text>\n", r.slices_top + 11, escape(track.track->name));
    if (track.track->lost > 0) {
      out("<text x=\"8\" y=\"{:.1f}\" font-size=\"10\" fill=\"#b71c1c\">{} events lost</text>\n", r.slices_top + 24,
          track.track->lost);
    }
    if (!track.irql.empty()) draw_irql(track, r);
    for (const Slice& slice : track.slices) draw_slice(slice, r);
    for (const Instant& instant : track.instants) draw_instant(instant, r);
  }

  void draw_slice(const Slice& slice, const Row& r) {
    const double left = x(slice.begin_ns);
    const double width = std::max(x(slice.end_ns) - left, kMinSliceWidth);
    const double top = r.slices_top + slice.depth * kSliceLane;
    const std::int64_t duration = slice.end_ns - slice.begin_ns;
    out("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\" stroke=\"#616161\" "
        "stroke-width=\"0.5\"><title>{}</title></rect>\n",
        left, top, width, kSliceHeight, fill(slice), tooltip(slice.name, slice.begin_ns, duration, slice.args));
    if (width >= kCharWidth * static_cast<double>(slice.name.size()) + 6) {
      out("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" pointer-events=\"none\">{}</text>\n", left + 3, top + 11,
          escape(slice.name));
    }
  }

  void draw_instant(const Instant& instant, const Row& r) {
    const double at = x(instant.event.time_ns);
    const double top = r.top + kRowGap;
    if (instant.event.kind == TraceEventKind::BugCheck) {
      out("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" stroke-width=\"2\"/>\n", at,
          top, r.bottom, fill(instant.event.kind));
    }
    out("<path d=\"M{:.1f},{:.1f} h8 l-4,8 z\" fill=\"{}\"><title>{}</title></path>\n", at - 4, top,
        fill(instant.event.kind), tooltip(instant.name, instant.event.time_ns, std::nullopt, instant.args));
  }

  // The IRQL as a step curve over a band from PASSIVE_LEVEL (bottom) to the highest level any
  // processor reached (top), the same for all so that rows compare, with each level written where
  // its span is wide enough. Scaling to HIGH_LEVEL would flatten the device levels together.
  void draw_irql(const TrackTimeline& track, const Row& r) {
    const double bottom = r.irql_top + kIrqlBand;
    const auto level_y = [&](Irql level) { return bottom - level * (kIrqlBand - 2) / top_irql_; };
    out("<text x=\"8\" y=\"{:.1f}\" font-size=\"10\" fill=\"#e65100\">IRQL</text>\n", bottom - 4);
    out("<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#bdbdbd\" "
        "stroke-dasharray=\"3,3\"/>\n",
        kPlotLeft, kPlotLeft + kPlotWidth, level_y(irql::kDispatch));
    std::string path = fmt::format("M{:.1f},{:.1f}", x(track.irql.front().begin_ns), bottom);
    for (const trace::IrqlSpan& span : track.irql) {
      fmt::format_to(std::back_inserter(path), " L{0:.1f},{2:.1f} L{1:.1f},{2:.1f}", x(span.begin_ns), x(span.end_ns),
                     level_y(span.irql));
    }
    fmt::format_to(std::back_inserter(path), " L{:.1f},{:.1f} Z", x(track.irql.back().end_ns), bottom);
    out("<path d=\"{}\" fill=\"#ffe0b2\" stroke=\"#e65100\" stroke-width=\"1\"/>\n", path);
    for (const trace::IrqlSpan& span : track.irql) {
      if (x(span.end_ns) - x(span.begin_ns) < 14) continue;
      out("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"9\" fill=\"#e65100\">{}</text>\n", x(span.begin_ns) + 2,
          std::max(level_y(span.irql) - 2, r.irql_top + 8), span.irql);
    }
  }

  void draw_arrow(const trace::Flow& flow) {
    const Instant& from = timeline_.source(flow);
    const Slice& to = timeline_.target(flow);
    out("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"1\" "
        "stroke-opacity=\"0.8\" marker-end=\"url(#arrow)\"/>\n",
        x(from.event.time_ns), rows_[flow.from_track].top + kRowGap + 8, x(to.begin_ns),
        rows_[flow.to_track].slices_top + to.depth * kSliceLane + kSliceHeight / 2, kFlowColour);
  }

  const Timeline& timeline_;
  std::vector<Row> rows_;
  double scale_ = 1;
  // The IRQL at the top of the IRQL bands: never below DISPATCH_LEVEL, so its line fits.
  Irql top_irql_ = irql::kDispatch;
  double height_ = 0;
  fmt::memory_buffer buffer_;
};

}  // namespace

std::string Trace::to_svg() const {
  const Timeline timeline = trace::build_timeline(*this);
  return SvgWriter(timeline).write();
}

}  // namespace irqsim
