#include "irqsim/trace_collector.hpp"

#include <utility>

#include <fmt/format.h>

namespace irqsim {

namespace {

std::string file_name_from(std::string_view name) {
  std::string file(name);
  for (char& c : file) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                       c == '.' || c == '-';
    if (!plain) c = '_';
  }
  return file;
}

}  // namespace

TraceCollector::TraceCollector() : recorded_by_default_(set_trace_by_default(true)) {
  previous_handler_ = set_final_trace_handler([this](const Trace& trace) {
    std::lock_guard lock(mutex_);
    traces_.push_back(trace);
  });
}

TraceCollector::~TraceCollector() {
  set_final_trace_handler(std::move(previous_handler_));
  set_trace_by_default(recorded_by_default_);
}

void TraceCollector::clear() {
  std::lock_guard lock(mutex_);
  traces_.clear();
}

std::size_t TraceCollector::size() const {
  std::lock_guard lock(mutex_);
  return traces_.size();
}

std::vector<std::string> TraceCollector::write(const std::filesystem::path& directory, std::string_view name) {
  std::vector<Trace> traces;
  {
    std::lock_guard lock(mutex_);
    traces.swap(traces_);
  }
  std::vector<std::string> written;
  if (traces.empty()) return written;
  std::filesystem::create_directories(directory);
  const std::string stem = file_name_from(name);
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const std::string file = i == 0 ? stem : fmt::format("{}.machine{}", stem, i + 1);
    const std::filesystem::path json = directory / (file + ".json");
    const std::filesystem::path svg = directory / (file + ".svg");
    traces[i].write_chrome_json(json);
    traces[i].write_svg(svg);
    written.push_back(fmt::format("irqsim: trace of {}{} in {} (open it in https://ui.perfetto.dev) and {} "
                                  "(open it in a browser)",
                                  name, i == 0 ? std::string() : fmt::format(", machine {}", i + 1), json.string(),
                                  svg.string()));
  }
  return written;
}

}  // namespace irqsim
