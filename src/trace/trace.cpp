#include "irqsim/trace.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

namespace irqsim {

namespace {

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

void write_file(const std::filesystem::path& path, std::string_view contents, std::string_view what) {
  const auto fail = [&](int error) {
    return std::runtime_error(fmt::format("irqsim: cannot write the {} to '{}': {}", what, path.string(),
                                          std::generic_category().message(error)));
  };
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.string().c_str(), "wb"));
  if (!file) throw fail(errno);
  if (std::fwrite(contents.data(), 1, contents.size(), file.get()) != contents.size()) throw fail(errno);
  // Buffered bytes meet a full disk only when flushed.
  if (std::fflush(file.get()) != 0) throw fail(errno);
}

}  // namespace

const char* to_string(TraceEventKind kind) noexcept {
  switch (kind) {
    case TraceEventKind::Raise:
      return "Raise";
    case TraceEventKind::LineAssert:
      return "LineAssert";
    case TraceEventKind::LineDeassert:
      return "LineDeassert";
    case TraceEventKind::Drop:
      return "Drop";
    case TraceEventKind::Deliver:
      return "Deliver";
    case TraceEventKind::InterruptEnd:
      return "InterruptEnd";
    case TraceEventKind::IsrEnter:
      return "IsrEnter";
    case TraceEventKind::IsrExit:
      return "IsrExit";
    case TraceEventKind::DpcQueue:
      return "DpcQueue";
    case TraceEventKind::DpcEnter:
      return "DpcEnter";
    case TraceEventKind::DpcExit:
      return "DpcExit";
    case TraceEventKind::IrqlChange:
      return "IrqlChange";
    case TraceEventKind::LockContend:
      return "LockContend";
    case TraceEventKind::LockAcquire:
      return "LockAcquire";
    case TraceEventKind::LockRelease:
      return "LockRelease";
    case TraceEventKind::BugCheck:
      return "BugCheck";
    case TraceEventKind::WorkBegin:
      return "WorkBegin";
    case TraceEventKind::WorkEnd:
      return "WorkEnd";
  }
  return "Unknown";
}

std::size_t Trace::event_count() const noexcept {
  std::size_t count = 0;
  for (const TraceTrack& track : tracks) count += track.events.size();
  return count;
}

const TraceTrack* Trace::track(std::uint32_t id) const noexcept {
  const auto found = std::ranges::find(tracks, id, &TraceTrack::id);
  return found == tracks.end() ? nullptr : &*found;
}

void Trace::write_chrome_json(const std::filesystem::path& path) const {
  write_file(path, to_chrome_json(), "Chrome trace");
}

void Trace::write_svg(const std::filesystem::path& path) const { write_file(path, to_svg(), "SVG timeline"); }

}  // namespace irqsim
