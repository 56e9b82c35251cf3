#include "irqsim/machine.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "control/schedule_scope.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/work_item.hpp"

namespace irqsim {

namespace {

// What a test did not look at when its machine went away: a bug check, or leaks. Each has a
// handler the test may replace; the defaults print to stderr.
void print(const BugCheckReport& report) {
  fmt::print(stderr, "irqsim: a machine was destroyed after a bug check nobody observed:\n{}\n", report.to_string());
}

void print(const LeakReport& leaks) { fmt::print(stderr, "{}\n", leaks.to_string()); }

// Nobody asked for the traces of destroyed machines.
void print(const Trace&) {}

std::mutex handler_mutex;

template <class Report>
std::function<void(const Report&)>& handler_for() {
  static std::function<void(const Report&)> handler = [](const Report& report) { print(report); };
  return handler;
}

template <class Report>
std::function<void(const Report&)> replace_handler(std::function<void(const Report&)> handler) {
  std::lock_guard lock(handler_mutex);
  if (!handler) handler = [](const Report& report) { print(report); };
  return std::exchange(handler_for<Report>(), std::move(handler));
}

template <class Report>
void hand_over(const Report& report) {
  std::function<void(const Report&)> handler;
  {
    std::lock_guard lock(handler_mutex);
    handler = handler_for<Report>();
  }
  handler(report);  // outside the lock: a handler may replace handlers
}

}  // namespace

UnobservedBugCheckHandler set_unobserved_bug_check_handler(UnobservedBugCheckHandler handler) {
  return replace_handler(std::move(handler));
}

LeakHandler set_leak_handler(LeakHandler handler) { return replace_handler(std::move(handler)); }

FinalTraceHandler set_final_trace_handler(FinalTraceHandler handler) { return replace_handler(std::move(handler)); }

namespace {

bool environment_asks_for_traces() {
  const char* value = std::getenv("IRQSIM_TRACE");
  if (value == nullptr) return false;
  const std::string_view text(value);
  return text == "1" || text == "on" || text == "true" || text == "yes";
}

std::atomic<bool>& trace_default() {
  static std::atomic<bool> record{environment_asks_for_traces()};
  return record;
}

// An exploration's schedule wins over the machine's own; IRQSIM_SEED decides only for machines
// that leave the choice to the process.
void resolve_mode(MachineConfig& config) {
  if (config.mode == ExecutionMode::FreeRunning) return;
  if (const std::optional<Schedule> explored = scoped_schedule()) {
    config.mode = ExecutionMode::Deterministic;
    config.schedule = *explored;
  } else if (config.mode == ExecutionMode::ProcessDefault) {
    static const std::optional<Schedule> from_environment = schedule_from_environment();
    config.mode = from_environment ? ExecutionMode::Deterministic : ExecutionMode::FreeRunning;
    if (from_environment) config.schedule = *from_environment;
  }
}

MachineConfig resolved(MachineConfig config) {
  if (config.trace == TraceRecording::ProcessDefault) {
    config.trace = trace_by_default() ? TraceRecording::On : TraceRecording::Off;
  }
  resolve_mode(config);
  return config;
}

}  // namespace

bool trace_by_default() { return trace_default().load(std::memory_order_acquire); }

bool set_trace_by_default(bool record) { return trace_default().exchange(record, std::memory_order_acq_rel); }

Machine::Machine(MachineConfig config) : engine_(std::make_unique<core::Machine>(resolved(config))) {}

Machine::~Machine() {
  engine_->shut_down();
  if (const core::Scheduler* scheduler = engine_->scheduler()) {
    control::note_scheduling_decisions(scheduler->decisions());
  }
  if (engine_->report_unobserved()) hand_over(*engine_->report(true));
  // After a bug check the driver's frames were unwound wherever they were: what they held is
  // part of that report, not a leak.
  if (!engine_->halted() && !leaks_checked_) {
    if (const LeakReport leaks = engine_->leaks(); !leaks.empty()) hand_over(leaks);
  }
  // Last, so that the handler sees the test's failures from the reports above.
  if (core::TraceRecorder* tracer = engine_->tracer()) hand_over(tracer->snapshot());
}

LeakReport Machine::check_leaks() {
  leaks_checked_ = true;
  return engine_->leaks();
}

unsigned Machine::processor_count() const { return engine_->processor_count(); }
unsigned Machine::group_count() const { return engine_->topology().group_count(); }
std::uint64_t Machine::active_processors(std::uint16_t group) const { return engine_->topology().active_mask(group); }

void Machine::pulse(std::uint32_t vector) { engine_->controller().pulse(vector); }
// The test is one more driver of every line, identified by this facade.
void Machine::assert_line(std::uint32_t vector) { engine_->controller().drive_line(vector, this, true); }
void Machine::deassert_line(std::uint32_t vector) { engine_->controller().drive_line(vector, this, false); }
bool Machine::line_asserted(std::uint32_t vector) const { return engine_->controller().line_asserted(vector); }
void Machine::mask(std::uint32_t vector) { engine_->controller().set_masked(vector, true); }
void Machine::unmask(std::uint32_t vector) { engine_->controller().set_masked(vector, false); }
VectorStats Machine::stats(std::uint32_t vector) const { return engine_->controller().stats(vector); }

std::uint64_t Machine::interrupts_taken(unsigned processor) const {
  return engine_->controller().interrupts_taken(processor);
}

void Machine::run_on_processor(unsigned processor, std::function<void()> f) {
  if (core::Processor::current() != nullptr) {
    throw std::logic_error("irqsim: Machine::run_on was called from a simulated processor; call the code directly");
  }
  auto item = std::make_shared<core::WorkItem>(std::move(f), false);
  engine_->submit(processor, item);
  engine_->wait_for(*item);
  if (item->state.load(std::memory_order_acquire) == core::WorkItem::State::Abandoned) {
    if (engine_->halted()) engine_->throw_halt();
    throw std::logic_error("irqsim: the machine stopped before the function ran");
  }
  // Taken out of the item, so that the exception is released by this thread and never by the
  // processor dropping its reference (libstdc++'s exception reference counts are invisible to
  // ThreadSanitizer).
  if (item->failure) std::rethrow_exception(std::exchange(item->failure, nullptr));
}

void Machine::post(unsigned processor, std::function<void()> f) {
  engine_->submit(processor, std::make_shared<core::WorkItem>(std::move(f), true));
}

void Machine::wait_until_quiescent(std::chrono::milliseconds timeout) { engine_->wait_until_quiescent(timeout); }

PeriodicSource Machine::every(std::chrono::nanoseconds period, std::function<void()> action, std::uint64_t count) {
  if (period <= std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument(fmt::format("irqsim: a device timer's period must be positive, not {} ns",
                                            period.count()));
  }
  if (!action) throw std::invalid_argument("irqsim: a device timer needs a function to call");
  return {*engine_, engine_->device_clock().start(period.count(), count, std::move(action))};
}

void PeriodicSource::stop() { machine_->device_clock().stop(id_); }

void Machine::run_for(std::chrono::nanoseconds duration) { engine_->run_for(duration); }

bool Machine::wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return engine_->wait_until(condition, timeout);
}

bool Machine::deterministic() const { return engine_->scheduler() != nullptr; }

std::optional<std::uint64_t> Machine::scheduling_decisions() const {
  if (const core::Scheduler* scheduler = engine_->scheduler()) return scheduler->decisions();
  return std::nullopt;
}

std::optional<Schedule> Machine::schedule() const {
  if (const core::Scheduler* scheduler = engine_->scheduler()) return scheduler->schedule();
  return std::nullopt;
}

bool Machine::records_trace() const { return engine_->tracer() != nullptr; }

Trace Machine::trace() const {
  core::TraceRecorder* tracer = engine_->tracer();
  if (tracer == nullptr) {
    throw std::logic_error("irqsim: Machine::trace() on a machine that does not record one; set MachineConfig::trace "
                           "to TraceRecording::On or the environment variable IRQSIM_TRACE=1");
  }
  return tracer->snapshot();
}

bool Machine::halted() const { return engine_->halted(); }
std::optional<BugCheckReport> Machine::bug_check() const { return engine_->report(true); }

}  // namespace irqsim
