#include "core/machine.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "core/execution_context.hpp"
#include "core/processor.hpp"
#include "core/work_item.hpp"
#include "platform/backoff.hpp"

namespace irqsim::core {

namespace {

// The machines alive, newest last: threads that are not simulated processors act on the
// newest one.
std::mutex registry_mutex;
std::vector<Machine*> registry;
std::atomic<Machine*> newest_machine{nullptr};
std::atomic<std::uint64_t> machines_created{0};

constexpr std::uintptr_t kTokenTag = 0x4952'5153'0000'0000;  // "IRQS"
constexpr std::uintptr_t kTagMask = 0xFFFF'FFFF'0000'0000;
constexpr std::uintptr_t kSerialMask = 0xFFFF;

const MachineConfig& validated(const MachineConfig& config) {
  if (config.processors < 1 || config.processors > irqsim::Machine::kMaxProcessors) {
    throw std::invalid_argument(fmt::format("irqsim: a machine has 1..{} processors, not {}",
                                            irqsim::Machine::kMaxProcessors, config.processors));
  }
  if (config.processors_per_group < 1 || config.processors_per_group > 64) {
    throw std::invalid_argument(
        fmt::format("irqsim: a processor group has 1..64 processors, not {}", config.processors_per_group));
  }
  if (config.storm_threshold < 1) throw std::invalid_argument("irqsim: storm_threshold must be at least 1");
  if (config.clock_tick <= std::chrono::microseconds::zero()) {
    throw std::invalid_argument("irqsim: clock_tick must be positive");
  }
  if (config.dpc_queue_depth_limit < 1) throw std::invalid_argument("irqsim: dpc_queue_depth_limit must be at least 1");
  if (config.watchdog_limit < std::chrono::microseconds::zero()) {
    throw std::invalid_argument("irqsim: watchdog_limit must not be negative");
  }
  if (config.idle_spin < std::chrono::microseconds::zero()) {
    throw std::invalid_argument("irqsim: idle_spin must not be negative");
  }
  if (config.interrupt_object_capacity < 1) {
    throw std::invalid_argument("irqsim: interrupt_object_capacity must be at least 1");
  }
  if (config.trace_events_per_track < 1) {
    throw std::invalid_argument("irqsim: trace_events_per_track must be at least 1");
  }
  if (config.schedule.step_time < std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("irqsim: schedule.step_time must not be negative");
  }
  if (config.schedule.step_limit < 1) throw std::invalid_argument("irqsim: schedule.step_limit must be at least 1");
  if (config.schedule.stuck_turn_warning <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("irqsim: schedule.stuck_turn_warning must be positive");
  }
  if (config.schedule.pct_depth < 1) throw std::invalid_argument("irqsim: schedule.pct_depth must be at least 1");
  return config;
}

}  // namespace

Machine::Machine(const MachineConfig& config)
    : config_(validated(config)),
      boot_time_(std::chrono::steady_clock::now()),
      serial_(machines_created.fetch_add(1) + 1),
      topology_(config.processors, config.processors_per_group),
      next_external_id_(config.processors),
      tracer_(config.trace == TraceRecording::On ? std::make_unique<TraceRecorder>(*this, config.processors,
                                                                      config.trace_events_per_track)
                                    : nullptr),
      scheduler_(config.mode == ExecutionMode::Deterministic
                     ? std::make_unique<Scheduler>(*this, config.schedule, config.processors)
                     : nullptr),
      interrupt_objects_(config.interrupt_object_capacity),
      controller_(*this, config),
      dpcs_(*this, config.processors) {
  processors_.reserve(config.processors);
  for (unsigned i = 0; i < config.processors; ++i) processors_.push_back(std::make_unique<Processor>(*this, i));
  std::lock_guard lock(registry_mutex);
  registry.push_back(this);
  newest_machine.store(this, std::memory_order_release);
}

Machine::~Machine() {
  {
    std::lock_guard lock(registry_mutex);
    std::erase(registry, this);
    newest_machine.store(registry.empty() ? nullptr : registry.back(), std::memory_order_release);
  }
  shut_down();
}

void Machine::shut_down() {
  for (auto& processor : processors_) processor->request_stop();
  // Winding down needs no particular order: every thread runs free to its end.
  if (scheduler_) scheduler_->release();
  device_clock_.shut_down();
  for (auto& processor : processors_) processor->join();
}

std::int64_t Machine::host_uptime_ns() const noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - boot_time_).count();
}

Machine& Machine::active() {
  Machine* machine = newest_machine.load(std::memory_order_acquire);
  if (machine == nullptr) {
    throw std::logic_error("irqsim: a WDK routine was called while no irqsim::Machine exists");
  }
  return *machine;
}

std::uintptr_t Machine::lock_token_for(std::uint32_t context_id) const noexcept {
  return kTokenTag | ((serial_ & kSerialMask) << 16) | (std::uintptr_t{context_id & 0x7FFF} << 1) | 1u;
}

std::uintptr_t Machine::new_external_lock_token() noexcept {
  return lock_token_for(next_external_id_.fetch_add(1, std::memory_order_relaxed));
}

bool Machine::is_lock_token(std::uintptr_t value) const noexcept {
  return (value & kTagMask) == kTokenTag && ((value >> 16) & kSerialMask) == (serial_ & kSerialMask) &&
         (value & 1u) != 0;
}

// ---- devices ------------------------------------------------------------------------------

Device& Machine::plug(DeviceWiring wiring) {
  constexpr std::uint64_t kFirstRegisterWindow = 0xF000'0000;
  constexpr std::uint64_t kRegisterWindow = 0x10'0000;
  DeviceWiring checked = checked_wiring(std::move(wiring), topology_);
  std::lock_guard lock(devices_mutex_);
  const std::uint64_t base = kFirstRegisterWindow + devices_.size() * kRegisterWindow;
  devices_.push_back(std::make_unique<Device>(controller_, std::move(checked), base));
  return *devices_.back();
}

std::vector<Device*> Machine::devices() const {
  std::lock_guard lock(devices_mutex_);
  std::vector<Device*> all;
  for (const auto& device : devices_) all.push_back(device.get());
  return all;
}

// ---- work ---------------------------------------------------------------------------------

void Machine::submit(unsigned processor, std::shared_ptr<WorkItem> item) {
  if (processor >= processors_.size()) {
    throw std::out_of_range(fmt::format("irqsim: processor {} does not exist (the machine has {})", processor,
                                        processors_.size()));
  }
  activity_started();
  processors_[processor]->submit(std::move(item));
}

namespace {
// Counts a thread as waiting on the machine's events while it is in scope.
class CountedWaiter {
 public:
  explicit CountedWaiter(std::atomic<unsigned>& waiters) : waiters_(waiters) {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
  }
  ~CountedWaiter() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  CountedWaiter(const CountedWaiter&) = delete;
  CountedWaiter& operator=(const CountedWaiter&) = delete;

 private:
  std::atomic<unsigned>& waiters_;
};
}  // namespace

template <class Done>
bool Machine::wait_for_event(const char* what, std::optional<std::chrono::nanoseconds> limit, Limit kind, Done done) {
  if (scheduler_ && !scheduler_->released()) {
    std::optional<std::int64_t> until;
    if (limit) until = uptime_ns() + limit->count();
    while (!done()) {
      if (until && uptime_ns() >= *until) return false;
      // The test's thread, or the device clock's when a timer's function waits for the machine.
      const Scheduler::Wait wait{.what = what,
                                 .ready = [&done] { return done(); },
                                 .until = until,
                                 .until_is_timeout = kind == Limit::Timeout};
      scheduler_->wait(scheduler_->participant_of_this_thread(), wait);
      if (scheduler_->released()) break;
    }
    if (done()) return true;
  }
  std::unique_lock lock(events_mutex_);
  const CountedWaiter counted(waiters_);
  if (!limit) {
    events_.wait(lock, done);
    return true;
  }
  return events_.wait_for(lock, *limit, done);
}

void Machine::wait_for(const WorkItem& item) {
  // Even on a halted machine: the function may still be running on its processor, with
  // references into the waiting thread's frames, until the halt unwinds it.
  wait_for_event("a function given to run_on", std::nullopt, Limit::Timeout,
                 [&item] { return item.state.load(std::memory_order_seq_cst) != WorkItem::State::Queued; });
}

void Machine::record_posted_failure(std::exception_ptr error) {
  std::lock_guard lock(events_mutex_);
  if (!posted_failure_) posted_failure_ = std::move(error);
}

// ---- quiescence -----------------------------------------------------------------------------

void Machine::activity_finished() {
  if (busy_.fetch_sub(1, std::memory_order_seq_cst) == 1) notify_waiters();
}

void Machine::notify_waiters() {
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  { std::lock_guard lock(events_mutex_); }
  events_.notify_all();
}

void Machine::wait_until_quiescent(std::chrono::milliseconds timeout) {
  const auto settled_or_halted = [this] { return busy_.load(std::memory_order_seq_cst) == 0 || halted(); };
  // Most waits end within microseconds: poll for as long as an idle processor would before
  // sleeping on the condition variable, so a settled machine needs no wake-up.
  const auto start = std::chrono::steady_clock::now();
  while (scheduler_ == nullptr && !settled_or_halted() &&
         std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start) <
             config_.idle_spin) {
    platform::cpu_relax();
  }
  const bool settled = wait_for_event("quiescence", timeout, Limit::Timeout, settled_or_halted);
  if (halted()) throw_halt();
  std::lock_guard lock(events_mutex_);
  if (posted_failure_) std::rethrow_exception(std::exchange(posted_failure_, nullptr));
  if (!settled) {
    throw TimeoutError(fmt::format("irqsim: the machine was still busy after {} ms ({} interrupts or "
                                   "functions outstanding)",
                                   timeout.count(), busy_.load()));
  }
}

void Machine::run_for(std::chrono::nanoseconds duration) {
  wait_for_event("run_for", duration, Limit::Deadline, [this] { return halted(); });
  if (halted()) throw_halt();
  std::lock_guard lock(events_mutex_);
  if (posted_failure_) std::rethrow_exception(std::exchange(posted_failure_, nullptr));
}

bool Machine::wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto met_or_halted = [&condition, this] { return condition() || halted(); };
  if (scheduler_ && !scheduler_->released()) {
    // A deadline, not a timeout: a test may wait to see that something does not happen.
    wait_for_event("a condition (wait_until)", timeout, Limit::Deadline, met_or_halted);
  } else {
    // Nothing notifies a change of the test's own condition: poll it.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    platform::Backoff backoff;
    while (!met_or_halted() && std::chrono::steady_clock::now() < deadline) backoff.pause();
  }
  if (halted()) throw_halt();
  return condition();
}

// ---- bug checks ---------------------------------------------------------------------------

void Machine::bug_check(const ExecutionContext& context, std::uint32_t code, std::array<std::uint64_t, 4> parameters,
                        std::string rule) {
  {
    std::lock_guard lock(events_mutex_);
    if (!report_) {
      report_ = BugCheckReport{code, parameters, context.processor_number(), context.irql(), std::move(rule)};
    }
    halted_.store(true, std::memory_order_release);
  }
  if (tracer_) tracer_->record(TraceEventKind::BugCheck, 0, context.irql(), code, parameters[0]);
  halt_processors();
  leave_halted_machine(context);
}

void Machine::halt_hung(HangReport report) {
  {
    std::lock_guard lock(events_mutex_);
    if (!report_ && !hang_) hang_ = std::move(report);
    halted_.store(true, std::memory_order_release);
  }
  halt_processors();
}

void Machine::halt_processors() {
  events_.notify_all();
  for (auto& processor : processors_) {
    processor->context().set_attention(attention::kHalting);
    processor->wake();
  }
}

void Machine::leave_halted_machine(const ExecutionContext& context) {
  if (context.processor() != nullptr) throw ProcessorHalt{};
  throw_halt();
}

void Machine::throw_halt() const {
  std::lock_guard lock(events_mutex_);
  if (hang_) throw HangError(*hang_);
  if (!report_) throw std::logic_error("irqsim: the machine has not halted");
  report_observed_ = true;
  throw BugCheckError(*report_);
}

std::optional<BugCheckReport> Machine::report(bool mark_observed) const {
  std::lock_guard lock(events_mutex_);
  if (report_ && mark_observed) report_observed_ = true;
  return report_;
}

LeakReport Machine::leaks() {
  LeakReport leaks;
  for (const InterruptObject* object : interrupt_objects_.connected()) {
    leaks.interrupts.push_back({reinterpret_cast<std::uintptr_t>(object), object->vector,
                                reinterpret_cast<std::uintptr_t>(object->routine),
                                reinterpret_cast<std::uintptr_t>(object->context)});
  }
  for (const auto& [processor, dpc] : dpcs_.queued()) {
    leaks.dpcs.push_back({processor, reinterpret_cast<std::uintptr_t>(dpc.object),
                          reinterpret_cast<std::uintptr_t>(dpc.routine)});
  }
  for (const auto& processor : processors_) {
    const irqsim_processor_state& state = processor->context().shared_state();
    for (unsigned level = 0; level <= irql::kHigh; ++level) {
      if (state.held_locks[level] != 0) {
        leaks.locks.push_back({processor->index(), static_cast<Irql>(level), state.held_locks[level]});
      }
    }
  }
  return leaks;
}

bool Machine::report_unobserved() const {
  std::lock_guard lock(events_mutex_);
  return report_ && !report_observed_;
}

}  // namespace irqsim::core
