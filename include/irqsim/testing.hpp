#pragma once
/// @file
/// @brief GoogleTest helpers for driver tests: expecting a bug check, checking that a vector's
///        interrupts are all accounted for, and failing a test when a machine is destroyed after
///        a bug check nobody looked at or while drivers still hold resources.
///
/// Including this header installs handlers that report an unobserved bug check, and the leaks
/// a machine's teardown finds, as GoogleTest failures of the running test.

#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "irqsim/bugcheck.hpp"
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
