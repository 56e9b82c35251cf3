#pragma once
/// @file
/// @brief What the unit tests share: small WDK conveniences (raising the IRQL, reading a lock
///        word, connecting an ISR), signalling between the test thread and simulated processors,
///        and gMock matchers for bug-check reports.
///
/// The matchers are meant for `EXPECT_THAT(report, Optional(AllOf(...)))` on what
/// irqsim::testing::bug_check_from returns, for example
///
///     EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(0x40), HasParameter(1, APC_LEVEL),
///                                        RuleMentions("KeAcquireSpinLockAtDpcLevel"), OnProcessor(1))));
///
/// A failure prints the whole report (BugCheckReport::to_string()) through irqsim::PrintTo below.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <ostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "platform/doorbell.hpp"
#include "platform/environment.hpp"

namespace irqsim {

/// @brief Prints a report as BugCheckReport::to_string() wherever GoogleTest prints a value
/// (also inside std::optional), so a failed matcher shows the full report. It lives in namespace
/// irqsim because GoogleTest finds it by argument-dependent lookup.
inline void PrintTo(const BugCheckReport& report, std::ostream* os) { *os << report.to_string(); }

}  // namespace irqsim

namespace irqsim_test {

/// @brief The bug-check codes and sub-codes (irqsim::bugcheck).
namespace bugcheck = ::irqsim::bugcheck;

// The vocabulary of bug-check assertions, so that `using namespace irqsim_test;` brings it along.
using ::irqsim::testing::bug_check_from;
using ::testing::AllOf;
using ::testing::Not;
using ::testing::Optional;

// ---- WDK conveniences ---------------------------------------------------------------------------

/// @brief `pointer` as the 64-bit number a bug-check parameter carries.
inline std::uint64_t AddressOf(const void* pointer) { return reinterpret_cast<std::uintptr_t>(pointer); }

/// @brief Raises the calling thread's IRQL to `level` with KeRaiseIrql and returns the previous
/// IRQL; code that never lowers again ignores it.
inline KIRQL RaiseTo(KIRQL level) {
  KIRQL old = 0;
  KeRaiseIrql(level, &old);
  return old;
}

/// @brief Reads a spin lock's word atomically: another processor may be taking or releasing it.
inline KSPIN_LOCK LockWord(KSPIN_LOCK& lock) { return std::atomic_ref<KSPIN_LOCK>(lock).load(); }

/// @brief Connects `isr` with IoConnectInterrupt to a latched, unshared `vector` at `irql` with
/// `synchronize_irql` on the processors in `affinity`, with `lock` as the interrupt spin lock
/// (nullptr: the object's own), and returns the interrupt object. If the call fails it throws,
/// which fails and ends the running test.
inline PKINTERRUPT ConnectLatched(PKSERVICE_ROUTINE isr, PVOID context, ULONG vector, KIRQL irql,
                                  KIRQL synchronize_irql, KAFFINITY affinity = ~KAFFINITY{0},
                                  PKSPIN_LOCK lock = nullptr) {
  PKINTERRUPT object = nullptr;
  const NTSTATUS status =
      IoConnectInterrupt(&object, isr, context, lock, vector, irql, synchronize_irql, Latched, FALSE, affinity, FALSE);
  if (status != STATUS_SUCCESS || object == nullptr) {
    std::ostringstream message;
    message << std::hex << std::showbase << "IoConnectInterrupt(vector " << vector << ", Irql " << int{irql}
            << ", SynchronizeIrql " << int{synchronize_irql} << ", affinity " << affinity << ") failed with status "
            << static_cast<ULONG>(status);
    throw std::runtime_error(message.str());
  }
  return object;
}

/// @brief What an ISR connected as RecordingIsr saw: how often it ran, and the IRQL, processor
/// and thread of its last run. Create it on the test thread.
struct IsrRecord {
  /// @brief Times the ISR ran.
  std::atomic<int> runs{0};
  /// @brief KeGetCurrentIrql() in the last run; -1 before the first.
  std::atomic<int> irql{-1};
  /// @brief KeGetCurrentProcessorNumber() in the last run; -1 before the first.
  std::atomic<int> processor{-1};
  /// @brief Whether the ISR ever ran on the test thread (it never should).
  std::atomic<bool> on_test_thread{false};
  /// @brief The thread that created the record.
  std::thread::id test_thread = std::this_thread::get_id();
};

/// @brief An ISR that records what it sees in the IsrRecord passed as its context, and claims
/// the interrupt.
inline BOOLEAN RecordingIsr(PKINTERRUPT, PVOID context) {
  auto* record = static_cast<IsrRecord*>(context);
  record->irql = KeGetCurrentIrql();
  record->processor = static_cast<int>(KeGetCurrentProcessorNumber());
  if (std::this_thread::get_id() == record->test_thread) record->on_test_thread = true;
  record->runs.fetch_add(1);
  return TRUE;
}

/// @brief Runs `f` on `processor` of `m` and returns the report of the bug check it ended with,
/// or nothing if it returned normally (irqsim::testing::bug_check_from around Machine::run_on).
template <class F>
std::optional<irqsim::BugCheckReport> BugCheckOn(irqsim::Machine& m, unsigned processor, F&& f) {
  return irqsim::testing::bug_check_from([&] { m.run_on(processor, std::forward<F>(f)); });
}

// ---- signalling between threads -----------------------------------------------------------------

/// @brief A one-shot signal that, unlike std::latch, may be opened more than once: tests open it
/// both on the normal path and from a guard, so a failing test never leaves a thread blocked.
/// Waiting is the platform layer's: libstdc++ 12's std::atomic::wait and std::latch can miss a
/// wake-up on Windows (docs/windows.md).
class Gate {
 public:
  /// @brief Opens the gate and wakes every waiter.
  void open() { bell_.ring(); }
  /// @brief Blocks until the gate is open.
  void wait() const { bell_.sleep_unless_rung_since(0); }
  /// @brief Whether the gate is open.
  [[nodiscard]] bool is_open() const { return bell_.read() != 0; }

 private:
  irqsim::platform::Doorbell bell_;
};

/// @brief std::latch's count_down, wait and arrive_and_wait, waiting through the platform layer
/// as Gate does.
class Latch {
 public:
  /// @brief A latch that opens after `count` count-downs.
  explicit Latch(std::ptrdiff_t count) : left_(count) {}
  /// @brief Counts down by `n`; the last count-down wakes every waiter.
  void count_down(std::ptrdiff_t n = 1) {
    if (left_.fetch_sub(n, std::memory_order_acq_rel) == n) opened_.open();
  }
  /// @brief Blocks until the count reaches zero.
  void wait() const { opened_.wait(); }
  /// @brief Counts down by one, then waits for the others.
  void arrive_and_wait() {
    count_down();
    wait();
  }

 private:
  std::atomic<std::ptrdiff_t> left_;
  Gate opened_;
};

/// @brief Opens a Gate when the scope is left, however it is left (a bug check unwinds driver
/// code). Declared after a Machine, it opens the gate before the machine joins its processors.
class OpenOnExit {
 public:
  /// @brief Guards `gate`.
  explicit OpenOnExit(Gate& gate) : gate_(gate) {}
  /// @brief Opens the gate.
  ~OpenOnExit() { gate_.open(); }
  OpenOnExit(const OpenOnExit&) = delete;
  OpenOnExit& operator=(const OpenOnExit&) = delete;

 private:
  Gate& gate_;
};

/// @brief Keeps a processor parked from construction until release() or destruction: raised to
/// `irql`, or, at PASSIVE_LEVEL (the default), without making any kernel call, so without a
/// preemption point. Either way an interrupt routed to it waits.
class ParkedProcessor {
 public:
  /// @brief Posts the parking function to `processor` of `m` and returns once it is parked.
  ParkedProcessor(irqsim::Machine& m, unsigned processor, KIRQL irql = PASSIVE_LEVEL)
      : state_(std::make_shared<State>()) {
    m.post(processor, [state = state_, irql] {
      OpenOnExit parked(state->parked);  // even if a bug check unwinds the function
      const KIRQL old = irql == PASSIVE_LEVEL ? KIRQL{PASSIVE_LEVEL} : RaiseTo(irql);
      state->parked.open();
      state->release.wait();
      if (irql != PASSIVE_LEVEL) KeLowerIrql(old);
    });
    state_->parked.wait();
  }
  /// @brief Releases the processor.
  ~ParkedProcessor() { release(); }
  ParkedProcessor(const ParkedProcessor&) = delete;
  ParkedProcessor& operator=(const ParkedProcessor&) = delete;
  /// @brief Lets the parking function lower the IRQL back, if it raised it, and return.
  void release() { state_->release.open(); }

 private:
  struct State {
    Gate parked;
    Gate release;
  };
  std::shared_ptr<State> state_;  // shared with the parking function, which may outlive this
};

/// @brief Waits until `predicate()` holds, which another thread brings about, and returns true;
/// returns false after `limit`, which only keeps a broken library from hanging the test.
template <class Predicate>
bool Eventually(Predicate predicate, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// ---- regular expressions ----------------------------------------------------------------------

/// @brief Matches a string that contains a match of the ECMAScript regular expression `pattern`.
/// GoogleTest's ContainsRegex is POSIX's on Linux but a much smaller syntax on Windows (no
/// brackets, no groups); std::regex is the same everywhere.
MATCHER_P(ContainsStdRegex, pattern, std::string(negation ? "does not contain" : "contains") +
                                         " a match of regular expression \"" + pattern + "\"") {
  return std::regex_search(std::string(arg), std::regex(pattern));
}

/// @brief Matches a string that as a whole matches the ECMAScript regular expression `pattern`
/// (see ContainsStdRegex).
MATCHER_P(MatchesStdRegex, pattern, std::string(negation ? "does not match" : "matches") +
                                        " regular expression \"" + pattern + "\"") {
  return std::regex_match(std::string(arg), std::regex(pattern));
}

// ---- the environment ----------------------------------------------------------------------------

/// @brief Sets (or, with nullopt, unsets) an environment variable for one test and restores it after.
class ScopedVariable {
 public:
  /// @brief Gives `name` the value `value`, or unsets it.
  ScopedVariable(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    Set(value);
  }
  /// @brief Restores the value the variable had, or unsets it again.
  ~ScopedVariable() { Set(old_); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  void Set(const std::optional<std::string>& value) { irqsim::platform::set_environment_variable(name_, value); }

  const char* name_;
  std::optional<std::string> old_;
};

// ---- bug-check report matchers ------------------------------------------------------------------

namespace detail {
/// @brief `value` in hexadecimal with a 0x prefix, as a kernel debugger shows bug-check values.
inline std::string Hex(std::uint64_t value) {
  std::ostringstream text;
  text << "0x" << std::hex << value;
  return text.str();
}
}  // namespace detail

/// @brief Matches a report with bug-check code `code`.
MATCHER_P(IsBugCheck, code,
          std::string(negation ? "isn't" : "is") + " bug check " + detail::Hex(static_cast<std::uint32_t>(code))) {
  *result_listener << "whose code is " << detail::Hex(arg.code);
  return arg.code == static_cast<std::uint32_t>(code);
}

/// @brief Matches a report whose parameters[index] equals `value` (index 0 is the debugger's
/// Parameter 1).
MATCHER_P2(HasParameter, index, value,
           std::string(negation ? "doesn't have" : "has") + " parameters[" + std::to_string(index) +
               "] == " + detail::Hex(static_cast<std::uint64_t>(value))) {
  const std::uint64_t actual = arg.parameters.at(static_cast<std::size_t>(index));
  *result_listener << "whose parameters[" << index << "] is " << detail::Hex(actual);
  return actual == static_cast<std::uint64_t>(value);
}

/// @brief Matches a report whose four parameters are `expected`.
inline auto HasParameters(const std::array<std::uint64_t, 4>& expected) {
  return ::testing::AllOf(HasParameter(0, expected[0]), HasParameter(1, expected[1]), HasParameter(2, expected[2]),
                          HasParameter(3, expected[3]));
}

/// @brief Matches a Driver Verifier violation: bug check 0xC4 with `subcode` in parameters[0].
inline auto IsVerifierViolation(std::uint64_t subcode) {
  return ::testing::AllOf(IsBugCheck(irqsim::bugcheck::kDriverVerifierDetectedViolation), HasParameter(0, subcode));
}

/// @brief Matches a report made on simulated processor `processor`.
MATCHER_P(OnProcessor, processor,
          std::string(negation ? "isn't" : "is") + " made on processor " +
              std::to_string(static_cast<unsigned>(processor))) {
  if (arg.processor) {
    *result_listener << "which is made on processor " << *arg.processor;
  } else {
    *result_listener << "which is made on a thread that is not a simulated processor";
  }
  return arg.processor == std::optional<unsigned>(static_cast<unsigned>(processor));
}

/// @brief Matches a report made on a thread that is not a simulated processor (the test thread).
MATCHER(OnTestThread, std::string(negation ? "isn't" : "is") + " made on a thread that is not a simulated processor") {
  if (arg.processor) *result_listener << "which is made on processor " << *arg.processor;
  return !arg.processor.has_value();
}

/// @brief Matches a report made at IRQL `irql`.
MATCHER_P(AtIrql, irql,
          std::string(negation ? "isn't" : "is") + " made at IRQL " + std::to_string(static_cast<int>(irql))) {
  *result_listener << "which is made at IRQL " << int{arg.irql};
  return int{arg.irql} == static_cast<int>(irql);
}

/// @brief Matches a report whose rule sentence matches the string matcher `matcher`.
template <class StringMatcher>
auto HasRule(StringMatcher matcher) {
  return ::testing::Field("rule", &irqsim::BugCheckReport::rule, std::move(matcher));
}

/// @brief Matches a report whose rule sentence contains `text`, typically the API that broke it.
inline auto RuleMentions(const std::string& text) { return HasRule(::testing::HasSubstr(text)); }

/// @brief Matches a DDI-compliance report (0xC4 with a rule sub-code) whose parameters[1] points
/// to a rule description that contains `text`.
MATCHER_P(DdiRuleTextMentions, text,
          std::string(negation ? "doesn't point" : "points") + " with parameters[1] to a rule text containing \"" +
              std::string(text) + "\"") {
  const auto* rule_text = reinterpret_cast<const char*>(static_cast<std::uintptr_t>(arg.parameters[1]));
  if (rule_text == nullptr) {
    *result_listener << "whose parameters[1] is NULL";
    return false;
  }
  *result_listener << "whose parameters[1] points to \"" << rule_text << "\"";
  return std::string_view(rule_text).find(text) != std::string_view::npos;
}

}  // namespace irqsim_test
