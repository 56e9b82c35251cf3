#pragma once
/// @file
/// @brief A GoogleTest listener that writes the trace of every failing test to files named
///        after the test, so the picture of what the processors did is there when it is needed.
///
/// One line in any file of a test program turns it on:
/// @code
/// [[maybe_unused]] const bool traced = irqsim::testing::trace_failing_tests();
/// @endcode
/// From then on every Machine records a trace (unless its MachineConfig::trace says Off). When a
/// test fails, the final traces of the machines it destroyed are written as
/// `<directory>/<Suite>.<Test>.json` (Chrome trace-event format: open it in
/// https://ui.perfetto.dev or chrome://tracing) and `<Suite>.<Test>.svg` (open it in a browser),
/// and the paths are printed with the test's output. A machine still alive when its test ends
/// (a static one) is not written.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <utility>

#include "irqsim/trace_collector.hpp"

namespace irqsim::testing {

/// @brief Where trace_failing_tests() writes by default: the directory named by the environment
/// variable IRQSIM_TRACE_DIR, else `irqsim-traces` in the working directory (under CTest, the
/// test program's build directory).
inline std::filesystem::path default_trace_directory() {
  if (const char* directory = std::getenv("IRQSIM_TRACE_DIR"); directory != nullptr && *directory != '\0') {
    return directory;
  }
  return std::filesystem::current_path() / "irqsim-traces";
}

/// @brief The listener behind trace_failing_tests(): a TraceCollector emptied when each test
/// starts and written out when one fails.
class TraceFailingTests : public ::testing::EmptyTestEventListener {
 public:
  /// @brief Writes into `directory`, created when the first failing test needs it.
  explicit TraceFailingTests(std::filesystem::path directory) : directory_(std::move(directory)) {}

  /// @brief Forgets the traces of machines destroyed before the test started.
  void OnTestStart(const ::testing::TestInfo&) override { collector_.clear(); }

  /// @brief Writes the test's traces if it failed, and prints where (or why it could not).
  void OnTestEnd(const ::testing::TestInfo& test) override {
    const std::string name = std::string(test.test_suite_name()) + "." + test.name();
    if (!test.result()->Failed()) {
      collector_.clear();
      return;
    }
    try {
      for (const std::string& line : collector_.write(directory_, name)) std::puts(line.c_str());
    } catch (const std::exception& error) {
      std::puts(("irqsim: could not write the trace of " + name + ": " + error.what()).c_str());
    }
    std::fflush(stdout);
  }

 private:
  std::filesystem::path directory_;
  TraceCollector collector_;
};

/// @brief Appends a TraceFailingTests listener writing into `directory` (default_trace_directory()
/// if empty) to GoogleTest's listeners, once per program; later calls change nothing. Returns
/// true, so that a namespace-scope `const bool` can call it before main.
inline bool trace_failing_tests(std::filesystem::path directory = {}) {
  static const bool installed = [&directory] {
    if (directory.empty()) directory = default_trace_directory();
    ::testing::UnitTest::GetInstance()->listeners().Append(new TraceFailingTests(std::move(directory)));
    return true;
  }();
  return installed;
}

}  // namespace irqsim::testing
