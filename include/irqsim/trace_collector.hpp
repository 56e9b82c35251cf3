#pragma once
/// @file
/// @brief TraceCollector: keeps the final traces of machines as they are destroyed, and writes
///        them out when they turn out to be needed (a test failed).

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "irqsim/machine.hpp"
#include "irqsim/trace.hpp"

namespace irqsim {

/// @brief While one exists, machines record a trace by default (set_trace_by_default) and the
/// final trace of every machine destroyed is kept here (set_final_trace_handler). Both are
/// restored when it goes. irqsim::testing::TraceFailingTests is built on it; one at a time.
class TraceCollector {
 public:
  TraceCollector();
  ~TraceCollector();
  TraceCollector(const TraceCollector&) = delete;
  TraceCollector& operator=(const TraceCollector&) = delete;

  /// @brief Forgets the traces kept so far.
  void clear();
  /// @brief Number of traces kept.
  [[nodiscard]] std::size_t size() const;
  /// @brief Writes the traces kept, oldest first, as `<directory>/<name>.json` and `.svg`, with
  /// `.machine2`, `.machine3`, ... after the name for the later ones, creating the directory if
  /// needed, and forgets them. Characters of `name` other than letters, digits, '_', '.' and
  /// '-' become '_'. Returns one line per trace saying where its files are and how to open
  /// them. Throws std::runtime_error (or std::filesystem::filesystem_error) if a file cannot be
  /// written.
  std::vector<std::string> write(const std::filesystem::path& directory, std::string_view name);

 private:
  mutable std::mutex mutex_;
  std::vector<Trace> traces_;
  bool recorded_by_default_;
  FinalTraceHandler previous_handler_;
};

}  // namespace irqsim
