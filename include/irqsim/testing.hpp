#pragma once
/// @file
/// @brief GoogleTest helpers for driver tests: expecting a bug check, checking that a vector's
///        interrupts are all accounted for, searching interleavings for a failing one (explore),
///        and failing a test when a machine is destroyed after a bug check nobody looked at or
///        while drivers still hold resources.
///
/// Including this header installs handlers that report an unobserved bug check, and the leaks
/// a machine's teardown finds, as GoogleTest failures of the running test.

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "irqsim/bugcheck.hpp"
#include "irqsim/explore.hpp"
#include "irqsim/machine.hpp"

namespace irqsim::testing {

/// @brief Runs `f` and returns the report of the bug check it ended with, or nothing if `f`
/// returned normally. Other exceptions pass through.
template <class F>
std::optional<BugCheckReport> bug_check_from(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const BugCheckError& error) {
    return error.report();
  }
  return std::nullopt;
}

/// @brief Succeeds when the vector's counters add up (VectorStats::edges_add_up and
/// VectorStats::deliveries_add_up); the failure message lists every counter. Use it once the
/// threads raising edges on the vector have finished, for example after
/// Machine::wait_until_quiescent: `EXPECT_TRUE(irqsim::testing::accounting_adds_up(m.stats(v)));`
inline ::testing::AssertionResult accounting_adds_up(const VectorStats& stats) {
  if (stats.edges_add_up() && stats.deliveries_add_up()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the vector's counters do not add up:\n" << stats.to_string();
}

/// @brief What irqsim::testing::explore is made of; not for tests to use.
namespace detail {

/// @brief Thrown out of an exploration's run whose body recorded GoogleTest failures:
/// irqsim::explore counts a run as failed only when its body throws. The message lists them.
class RecordedFailures : public std::runtime_error {
 public:
  /// @brief Carries the failures' text.
  explicit RecordedFailures(const std::string& failures) : std::runtime_error(failures) {}
};

/// @brief The running test's result so far; outside a test (in a global environment's SetUp),
/// the one GoogleTest records failures outside tests in.
inline const ::testing::TestResult& current_test_result() {
  const ::testing::TestInfo* const test = ::testing::UnitTest::GetInstance()->current_test_info();
  return test != nullptr ? *test->result() : ::testing::UnitTest::GetInstance()->ad_hoc_test_result();
}

/// @brief The failures among the running test's result parts from `first` on, one per line as
/// GoogleTest prints them ("file:line: message"); empty if there are none.
inline std::string failures_since(int first) {
  const ::testing::TestResult& result = current_test_result();
  std::string failures;
  for (int index = first; index < result.total_part_count(); ++index) {
    const ::testing::TestPartResult& part = result.GetTestPartResult(index);
    if (!part.failed()) continue;
    if (!failures.empty()) failures += '\n';
    if (part.file_name() != nullptr) {
      failures += std::string(part.file_name()) + ':' + std::to_string(part.line_number()) + ": ";
    }
    failures += part.summary();
  }
  return failures;
}

/// @brief The command line that runs the running test alone under the failing schedule of
/// `result`: the program as it was started, with a --gtest_filter.
inline std::string replay_command(const ExplorationResult& result) {
  // GetArgvs is internal to GoogleTest but has been stable for years; it is empty when the
  // program did not call InitGoogleTest.
  const std::vector<std::string> arguments = ::testing::internal::GetArgvs();
  std::string filter;
  if (const ::testing::TestInfo* const test = ::testing::UnitTest::GetInstance()->current_test_info()) {
    filter = std::string("--gtest_filter=") + test->test_suite_name() + '.' + test->name();
  }
  return result.replay_command(arguments.empty() ? "<test program>" : arguments.front(), filter);
}

}  // namespace detail

/// @brief irqsim::explore for a GoogleTest test, in one line: runs `body` under up to
/// `exploration.runs` deterministic schedules and turns the first failing run into a failure of
/// the running test.
///
/// @code
/// TEST(Driver, DpcAndIsrAgree) {
///   irqsim::testing::explore({.runs = 500, .strategy = irqsim::ScheduleStrategy::Pct}, [] {
///     irqsim::Machine machine({.processors = 2});  // deterministic under the run's schedule
///     // ... connect the driver, raise interrupts, wait_until_quiescent ...
///     EXPECT_EQ(driver.count, 2);
///   });
/// }
/// @endcode
///
/// Call it from the test's thread. A run fails when `body` throws or when GoogleTest failures
/// are recorded while it runs, from any thread: EXPECT_*, ASSERT_* and ADD_FAILURE in the body or
/// in its driver's routines, and the failures this header's handlers add when a machine the body
/// destroys bug-checked unobserved or leaks. Failures the test recorded before the run do not
/// count, so a test that has already failed still explores. The search stops at the first failing
/// run, prints it to stderr as irqsim::explore does, and adds a test failure naming the run, its
/// schedule, what failed and the command that replays it alone:
/// `IRQSIM_SEED=17 IRQSIM_STRATEGY=pct ./driver_test --gtest_filter=Driver.DpcAndIsrAgree`
/// (in cmd.exe's syntax on Windows: ExplorationResult::replay_command).
/// With IRQSIM_SEED set, only that schedule runs. Returns what irqsim::explore found, for further
/// assertions.
template <class F>
inline ExplorationResult explore(const Exploration& exploration, F&& body) {
  ExplorationResult result = irqsim::explore(exploration, [&body] {
    // HasFailure() would not do: it stays true for the rest of the test, so one failure would
    // fail every run after it, and one recorded before the exploration would fail them all.
    const int first = detail::current_test_result().total_part_count();
    body();
    if (const std::string failures = detail::failures_since(first); !failures.empty()) {
      throw detail::RecordedFailures(failures);
    }
  });
  if (result.failing) {
    ADD_FAILURE() << "irqsim: run " << result.runs << " failed under schedule " << result.failing->to_string()
                  << ":\n"
                  << result.failure << "\nirqsim: replay it with " << detail::replay_command(result);
  }
  return result;
}

/// @brief Makes a destroyed machine's unobserved bug check fail the running test.
inline const bool kFailTestsOnUnobservedBugChecks = [] {
  set_unobserved_bug_check_handler([](const BugCheckReport& report) {
    ADD_FAILURE() << "a simulated machine bug-checked and no test observed it:\n" << report.to_string();
  });
  return true;
}();

/// @brief Makes a machine destroyed while drivers still hold resources fail the running test.
/// A test that leaves something behind on purpose asserts on Machine::check_leaks() instead.
inline const bool kFailTestsOnLeaks = [] {
  set_leak_handler([](const LeakReport& leaks) { ADD_FAILURE() << leaks.to_string(); });
  return true;
}();

}  // namespace irqsim::testing

/// @brief Expects `statement` to end in a bug check with code `expected_code`; on a mismatch the
/// failure message carries the full report.
#define IRQSIM_EXPECT_BUGCHECK(statement, expected_code)                                          \
  do {                                                                                            \
    const auto irqsim_report_ = ::irqsim::testing::bug_check_from([&] { statement; });            \
    if (!irqsim_report_) {                                                                        \
      ADD_FAILURE() << "expected bug check " << (expected_code) << " from: " #statement;          \
    } else {                                                                                      \
      EXPECT_EQ(irqsim_report_->code, static_cast<std::uint32_t>(expected_code))                  \
          << irqsim_report_->to_string();                                                         \
    }                                                                                             \
  } while (false)
