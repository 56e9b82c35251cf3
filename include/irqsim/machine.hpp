#pragma once
/// @file
/// @brief The simulated machine: processors, interrupt lines and the control a test has over them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "irqsim/bugcheck.hpp"
#include "irqsim/device.hpp"
#include "irqsim/leak_report.hpp"
#include "irqsim/machine_stats.hpp"
#include "irqsim/schedule.hpp"
#include "irqsim/trace.hpp"
#include "irqsim/vector_stats.hpp"

namespace irqsim {

namespace core {
class Machine;
}

/// @brief How the interrupt controller picks among the processors that can take an interrupt.
enum class DeliveryPolicy {
  /// @brief Rotate through the eligible processors, starting after the last one chosen.
  RoundRobin,
  /// @brief Always the lowest-numbered eligible processor.
  LowestNumbered,
};

/// @brief Whether a machine records a Trace.
enum class TraceRecording {
  /// @brief As the process default says: trace_by_default().
  ProcessDefault,
  /// @brief Record every event on every processor.
  On,
  /// @brief Record nothing; the recorder costs nothing.
  Off,
};

/// @brief Configuration of a simulated machine.
struct MachineConfig {
  /// @brief Number of simulated processors, 1..Machine::kMaxProcessors. Each one is an OS thread.
  unsigned processors = 2;
  /// @brief Processors per processor group, 1..64. A machine with more processors than this
  /// spans several groups (group g holds processors g*processors_per_group onwards).
  unsigned processors_per_group = 64;
  /// @brief Which eligible processor receives an interrupt.
  DeliveryPolicy delivery = DeliveryPolicy::RoundRobin;
  /// @brief Interrupt-storm limit (bug check 0xF2): consecutive unclaimed deliveries of a
  /// level-triggered line that stays asserted, or consecutive claimed passes of a latched chain.
  /// A level line that stays asserted although ISRs claim it storms after 100 times as many.
  unsigned storm_threshold = 1000;
  /// @brief How many interrupt objects can be connected at once; connecting one more
  /// returns STATUS_INSUFFICIENT_RESOURCES.
  std::size_t interrupt_object_capacity = 1024;
  /// @brief Interval of the simulated clock interrupt (KeQueryTimeIncrement). A DPC queued
  /// without asking for immediate processing (LowImportance, or MediumImportance for another
  /// processor) runs at the target's next clock tick at the latest.
  std::chrono::microseconds clock_tick = std::chrono::microseconds(15625);
  /// @brief A processor's DPC queue deeper than this is processed at once, whatever the
  /// importance of the DPCs in it (Windows' MaximumDpcQueueDepth; at least 1).
  unsigned dpc_queue_depth_limit = 4;
  /// @brief Longest an ISR or a DPC routine may run before the machine reports
  /// DPC_WATCHDOG_VIOLATION (0x133), measured on the host's clock and including interrupts
  /// nested in it. Zero (the default) turns the watchdog off.
  std::chrono::microseconds watchdog_limit = std::chrono::microseconds::zero();
  /// @brief How long an idle processor keeps polling for an interrupt or work before it parks
  /// its thread in the host kernel. Polling takes the next interrupt sooner; a parked processor
  /// costs no CPU but needs a host wake-up (futex, WaitOnAddress) to run again. Zero parks at once; a very
  /// long time keeps idle processors spinning, each occupying a host core. wait_until_quiescent
  /// polls for as long before it sleeps.
  std::chrono::microseconds idle_spin = std::chrono::microseconds(5);
  /// @brief Whether the machine records a trace of what its processors do (Machine::trace).
  /// Recording routes every IRQL change and spin lock of driver code through the library, so a
  /// recording machine runs slower; one that does not record pays nothing for the recorder.
  TraceRecording trace = TraceRecording::ProcessDefault;
  /// @brief The most events a trace keeps per processor (and per other thread that records):
  /// beyond it the oldest go, and TraceTrack::lost counts them. 32 bytes each.
  std::size_t trace_events_per_track = std::size_t{1} << 18;
  /// @brief Free-running or deterministic (docs/deterministic-mode.md). By default a machine
  /// runs free, unless an exploration (irqsim::explore) or the IRQSIM_SEED environment variable
  /// makes it deterministic.
  ExecutionMode mode = ExecutionMode::ProcessDefault;
  /// @brief The schedule of a deterministic machine, unless an exploration or IRQSIM_SEED
  /// supplies one. Ignored by a free-running machine.
  Schedule schedule{};
};

/// @brief Thrown by Machine::wait_until_quiescent when the machine did not settle in time.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// @brief A device timer started with Machine::every. A cheap handle: copies refer to the same
/// timer, which runs until stopped, until it has made its calls, or until the machine is destroyed.
class PeriodicSource {
 public:
  /// @brief Wraps the engine's timer (for the library's own layers).
  PeriodicSource(core::Machine& machine, std::uint64_t id) : machine_(&machine), id_(id) {}
  /// @brief No further calls; a call running now finishes. Does nothing for a timer that is done.
  void stop();

 private:
  core::Machine* machine_;
  std::uint64_t id_;
};

/// @brief A simulated multiprocessor machine with an interrupt controller.
///
/// While a Machine exists, the WDK entry points (`<wdm.h>`) called from a thread that is not
/// one of its processors act on it; calls from its processor threads always act on it. Create
/// one per test: construction starts the processor threads, destruction stops and joins them
/// and frees every interrupt object that is still connected.
class Machine {
 public:
  /// @brief Vectors the interrupt controller has: 0 .. kVectorCount-1.
  static constexpr std::uint32_t kVectorCount = 256;
  /// @brief The largest machine: four full processor groups.
  static constexpr unsigned kMaxProcessors = 256;

  /// @brief Starts the processors. Throws std::invalid_argument for a bad configuration.
  explicit Machine(MachineConfig config = {});
  /// @brief Stops and joins the processors. A bug check nobody observed is passed to the
  /// handler set with set_unobserved_bug_check_handler. On a machine that did not bug-check,
  /// interrupts still connected, DPCs still queued and spin locks still held by processors are
  /// passed to the handler set with set_leak_handler, unless check_leaks() already ran.
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  /// @brief Number of simulated processors.
  [[nodiscard]] unsigned processor_count() const;
  /// @brief Number of processor groups.
  [[nodiscard]] unsigned group_count() const;
  /// @brief Affinity mask of the active processors of a group (bit i = processor i of the
  /// group); 0 for a group the machine does not have.
  [[nodiscard]] std::uint64_t active_processors(std::uint16_t group = 0) const;

  /// @brief Signals one edge on the vector's line (a latched interrupt). An edge that cannot be
  /// delivered yet stays pending once; further edges before it is taken are merged with it.
  void pulse(std::uint32_t vector);
  /// @brief Drives the vector's line active on the test's behalf (a level-triggered interrupt
  /// stays pending while asserted). A line is a wired OR, as a shared PCI interrupt line is:
  /// it is asserted while the test or any device wired to it (Device::assert_line) drives it.
  void assert_line(std::uint32_t vector);
  /// @brief Stops the test's driving of the vector's line; the line stays asserted while a
  /// device still drives it.
  void deassert_line(std::uint32_t vector);
  /// @brief Whether the vector's line is currently asserted (by the test or any device).
  [[nodiscard]] bool line_asserted(std::uint32_t vector) const;
  /// @brief Masks the vector at the controller: it stays pending but is not delivered.
  void mask(std::uint32_t vector);
  /// @brief Unmasks the vector; a pending interrupt is delivered at once.
  void unmask(std::uint32_t vector);
  /// @brief Plugs a device in. Throws std::invalid_argument for a configuration no PCI device
  /// could have (a bad vector or IRQL, no existing target processor, an MSI block that is not a
  /// power of two of consecutive vectors, ...).
  Device plug(const DeviceConfig& config);

  /// @brief Starts a device timer: calls `action` every `period` of the machine's clock, the
  /// first time one period from now, on the machine's device-clock thread (one for all timers),
  /// as the hardware's own clock would (an audio codec's frame timer raising its interrupt).
  /// `count` calls, or until PeriodicSource::stop if `count` is 0. A counted timer keeps the
  /// machine from being quiescent until its last call has returned, so wait_until_quiescent
  /// waits for all of them; an exception escaping `action` is rethrown by the next
  /// wait_until_quiescent or run_for. On a deterministic machine the clock is virtual: the
  /// calls take no real time. Throws std::invalid_argument if `period` is not positive or
  /// `action` is empty.
  PeriodicSource every(std::chrono::nanoseconds period, std::function<void()> action, std::uint64_t count = 0);
  /// @brief Lets the machine run for `duration` of its clock while the test's thread waits:
  /// real time on a free-running machine, virtual time on a deterministic one (which lets its
  /// processors and timers run meanwhile). Throws BugCheckError if the machine bug-checked,
  /// HangError if a deterministic machine hung, or the exception a posted function or a timer
  /// left.
  void run_for(std::chrono::nanoseconds duration);

  /// @brief Whether the machine runs deterministically (MachineConfig::mode, resolved).
  [[nodiscard]] bool deterministic() const;
  /// @brief The schedule of a deterministic machine; nothing for a free-running one.
  [[nodiscard]] std::optional<Schedule> schedule() const;
  /// @brief The scheduling decisions a deterministic machine has made so far (what
  /// Schedule::pct_steps should be near); nothing for a free-running one.
  [[nodiscard]] std::optional<std::uint64_t> scheduling_decisions() const;

  /// @brief Counters of the vector.
  [[nodiscard]] VectorStats stats(std::uint32_t vector) const;
  /// @brief Interrupts the processor has accepted so far.
  [[nodiscard]] std::uint64_t interrupts_taken(unsigned processor) const;
  /// @brief Everything the machine counted so far: each vector that saw activity, where each
  /// processor's time went, and the run times of each DPC routine. Cheap enough to call at any
  /// time; MachineStats::summary() turns it into text.
  [[nodiscard]] MachineStats statistics() const;

  /// @brief Whether the machine records a trace (MachineConfig::trace).
  [[nodiscard]] bool records_trace() const;
  /// @brief The events recorded so far, while the processors keep running. Throws
  /// std::logic_error if the machine does not record a trace.
  [[nodiscard]] Trace trace() const;

  /// @brief Runs `f` on the given processor at PASSIVE_LEVEL, as driver code running there
  /// would, and returns its result. Exceptions thrown by `f` are rethrown here. Throws
  /// BugCheckError if the machine bug-checks before `f` completes, HangError if a deterministic
  /// machine hangs. Must be called from a thread that is not a simulated processor.
  template <class F>
  auto run_on(unsigned processor, F&& f) -> std::invoke_result_t<F&> {
    using Result = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<Result>) {
      run_on_processor(processor, [&f] { f(); });
    } else {
      std::optional<Result> result;
      run_on_processor(processor, [&result, &f] { result.emplace(f()); });
      return std::move(*result);
    }
  }

  /// @brief Queues `f` to run on the given processor at PASSIVE_LEVEL and returns at once.
  /// wait_until_quiescent waits for it. An exception escaping `f` is reported to the test
  /// thread by the next wait_until_quiescent.
  void post(unsigned processor, std::function<void()> f);

  /// @brief Waits until every interrupt raised so far that can be delivered has been handled,
  /// every DPC queued has run, every posted function has run and every counted timer (every)
  /// has made its calls. Throws BugCheckError if the machine bug-checked, HangError if a
  /// deterministic machine hung, TimeoutError if it is still busy after `timeout` (of virtual
  /// time on a deterministic machine).
  void wait_until_quiescent(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  /// @brief Waits on the test's thread until `condition()` holds, something the processors bring
  /// about (a flag an ISR sets, a count a DPC reaches). A free-running machine's processors run
  /// on while the test polls; on a deterministic machine the test's thread hands the turn over
  /// and `condition` is checked at every scheduling decision, so a test thread that spins on
  /// its own, outside the machine, would wait forever. Returns whether `condition` holds: false
  /// once `timeout` has passed (on a deterministic machine, virtual time, which moves on to the
  /// timeout when nothing else can run: a test may wait to see that something does not happen).
  /// Throws BugCheckError if the machine bug-checked, HangError if a deterministic machine hung.
  bool wait_until(const std::function<bool()>& condition,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

  /// @brief Whether a bug check (or, on a deterministic machine, a hang) has halted the machine.
  [[nodiscard]] bool halted() const;
  /// @brief The report of the bug check that halted the machine, if any; marks it observed.
  [[nodiscard]] std::optional<BugCheckReport> bug_check() const;
  /// @brief Runs the teardown leak check now: the interrupts still connected, the DPCs still
  /// queued and the spin locks processors still hold. Call it once the machine is quiescent.
  /// The destructor does not check again, so a test that leaves something behind on purpose
  /// asserts on this instead.
  [[nodiscard]] LeakReport check_leaks();

  /// @brief The engine behind this facade (for the library's own layers).
  [[nodiscard]] core::Machine& engine() { return *engine_; }

 private:
  void run_on_processor(unsigned processor, std::function<void()> f);

  std::unique_ptr<core::Machine> engine_;
  bool leaks_checked_ = false;
};

/// @brief Whether machines whose MachineConfig::trace is TraceRecording::ProcessDefault record
/// a trace. Initially true if the environment variable IRQSIM_TRACE is set to 1, on, true or yes.
[[nodiscard]] bool trace_by_default();

/// @brief Changes trace_by_default() for machines created from now on; returns the previous value.
bool set_trace_by_default(bool record);

/// @brief Called with the final trace of a Machine that recorded one, when it is destroyed.
using FinalTraceHandler = std::function<void(const Trace&)>;

/// @brief Replaces the handler for the final traces of destroyed machines (the default, or an
/// empty function, does nothing). Returns the previous handler. irqsim::testing::TraceFailingTests
/// installs one that keeps them for writing out if the running test fails.
FinalTraceHandler set_final_trace_handler(FinalTraceHandler handler);

/// @brief Called when a Machine is destroyed after a bug check that no test observed.
using UnobservedBugCheckHandler = std::function<void(const BugCheckReport&)>;

/// @brief Replaces the handler for bug checks nobody observed (the default prints the report
/// to stderr). Returns the previous handler. irqsim/testing.hpp installs one that fails the
/// running GoogleTest test.
UnobservedBugCheckHandler set_unobserved_bug_check_handler(UnobservedBugCheckHandler handler);

/// @brief Called when a Machine is destroyed while drivers still hold resources.
using LeakHandler = std::function<void(const LeakReport&)>;

/// @brief Replaces the handler for leaks found when a Machine is destroyed (the default prints
/// the report to stderr). Returns the previous handler. irqsim/testing.hpp installs one that
/// fails the running GoogleTest test.
LeakHandler set_leak_handler(LeakHandler handler);

}  // namespace irqsim
