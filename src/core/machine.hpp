#pragma once
// The engine behind irqsim::Machine: owns the processors, the interrupt controller and the
// interrupt objects, keeps the bug-check state, and counts the work still in flight so a test
// can wait for quiescence.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <typeindex>
#include <vector>

#include "core/device.hpp"
#include "core/device_clock.hpp"
#include "core/dpc_queues.hpp"
#include "core/interrupt_controller.hpp"
#include "core/interrupt_object.hpp"
#include "core/scheduler.hpp"
#include "core/topology.hpp"
#include "core/trace_recorder.hpp"
#include "irqsim/bugcheck.hpp"
#include "irqsim/leak_report.hpp"
#include "irqsim/machine.hpp"

namespace irqsim::core {

class ExecutionContext;
class Processor;
struct WorkItem;

// Thrown on a processor thread to unwind driver code when the machine halts or stops. It is
// deliberately not a std::exception, so `catch (const std::exception&)` in driver code cannot
// swallow it.
struct ProcessorHalt {};

class Machine {
 public:
  // Records a trace if config.trace is TraceRecording::On, runs deterministically if config.mode
  // is ExecutionMode::Deterministic; the facade has resolved the process defaults.
  explicit Machine(const MachineConfig& config);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // The machine WDK calls from a thread that is not a simulated processor act on: the most
  // recently created one still alive. Throws std::logic_error if there is none.
  static Machine& active();

  // Stops and joins every processor; idempotent. The destructor calls it too.
  void shut_down();

  [[nodiscard]] const MachineConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::uint64_t serial() const noexcept { return serial_; }
  [[nodiscard]] unsigned processor_count() const noexcept { return config_.processors; }
  [[nodiscard]] const Topology& topology() const noexcept { return topology_; }
  [[nodiscard]] Processor& processor(unsigned index) { return *processors_.at(index); }
  [[nodiscard]] InterruptController& controller() noexcept { return controller_; }
  [[nodiscard]] InterruptObjectPool& interrupt_objects() noexcept { return interrupt_objects_; }
  [[nodiscard]] DpcQueues& dpcs() noexcept { return dpcs_; }
  // Nanoseconds since the machine was created: the time base of the WDK clock routines, traces
  // and statistics. The host's steady clock, or a deterministic machine's virtual clock.
  [[nodiscard]] std::int64_t uptime_ns() const noexcept {
    return scheduler_ ? scheduler_->now() : host_uptime_ns();
  }
  // The turn-taking of a deterministic machine, or nullptr for a free-running one.
  [[nodiscard]] Scheduler* scheduler() const noexcept { return scheduler_.get(); }
  // The trace recorder, or nullptr when the machine does not record.
  [[nodiscard]] TraceRecorder* tracer() const noexcept { return tracer_.get(); }

  // Devices plugged in by test code. They live as long as the machine; each gets a 1 MiB window
  // of physical address space for its registers.
  Device& plug(DeviceWiring wiring);
  [[nodiscard]] std::vector<Device*> devices() const;

  // State a layer above keeps per machine (the WDK layer's PnP objects and I/O mappings), made
  // on first use and destroyed with the machine, after its processors have stopped.
  template <class T>
  T& extension() {
    std::lock_guard lock(extensions_mutex_);
    std::shared_ptr<void>& slot = extensions_[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<T>(*this);
    return *static_cast<T*>(slot.get());
  }

  // Lock ownership tokens: a recognisable tag, this machine's serial and a context id, so a
  // spin lock holding anything else is known to be uninitialised or corrupt.
  [[nodiscard]] std::uintptr_t lock_token_for(std::uint32_t context_id) const noexcept;
  [[nodiscard]] std::uintptr_t new_external_lock_token() noexcept;
  [[nodiscard]] bool is_lock_token(std::uintptr_t value) const noexcept;

  // Work for a processor. The machine owns the item until it has run or been abandoned.
  void submit(unsigned processor, std::shared_ptr<WorkItem> item);
  void wait_for(const WorkItem& item);
  void record_posted_failure(std::exception_ptr error);

  // The device timers a test starts (Machine::every).
  [[nodiscard]] DeviceClock& device_clock() noexcept { return device_clock_; }
  // Lets the machine run for `duration` of its clock; throws what a halt tells the test.
  void run_for(std::chrono::nanoseconds duration);
  // Waits until `condition()` holds or `timeout` passes; returns whether it holds. Throws what
  // a halt tells the test.
  bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

  // Quiescence: every outstanding interrupt, queued DPC, work item or counted device timer
  // counts one activity.
  void activity_started() noexcept { busy_.fetch_add(1, std::memory_order_seq_cst); }
  void activity_finished();
  void wait_until_quiescent(std::chrono::milliseconds timeout);
  // Wakes the threads waiting for quiescence or for a work item; costs nothing when none is.
  void notify_waiters();

  // Bug checks. The first one wins and halts the machine; the caller unwinds: a processor
  // back to its idle loop, any other thread with BugCheckError.
  [[noreturn]] void bug_check(const ExecutionContext& context, std::uint32_t code,
                              std::array<std::uint64_t, 4> parameters, std::string rule);
  [[noreturn]] void leave_halted_machine(const ExecutionContext& context);
  // A deterministic machine found it can no longer progress: halts it as a bug check does, so
  // the test's wait ends with HangError.
  void halt_hung(HangReport report);
  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_acquire); }
  // Throws what the halt tells the test's thread: HangError or BugCheckError.
  [[noreturn]] void throw_halt() const;
  [[nodiscard]] std::optional<BugCheckReport> report(bool mark_observed) const;
  // What the drivers still hold: connected interrupts, queued DPCs, spin locks held by
  // processors. Meaningful once the processors have stopped.
  [[nodiscard]] LeakReport leaks();
  [[nodiscard]] bool report_unobserved() const;

 private:
  [[nodiscard]] std::int64_t host_uptime_ns() const noexcept;
  // Tells every processor the machine halted, and wakes every thread waiting for it.
  void halt_processors();
  // The test's thread waits for `done`, at most `limit` if there is one: on a free-running
  // machine on the condition variable, on a deterministic one without the turn. False if the
  // limit passed first. A deterministic machine's clock jumps to a limit that is not a
  // timeout when nothing else can run.
  enum class Limit : bool { Timeout, Deadline };
  template <class Done>
  bool wait_for_event(const char* what, std::optional<std::chrono::nanoseconds> limit, Limit kind, Done done);

  MachineConfig config_;
  std::chrono::steady_clock::time_point boot_time_;
  std::uint64_t serial_;
  Topology topology_;
  std::atomic<std::uint32_t> next_external_id_;
  // Before everything that records into it, so it outlives them.
  std::unique_ptr<TraceRecorder> tracer_;
  std::unique_ptr<Scheduler> scheduler_;
  InterruptObjectPool interrupt_objects_;
  InterruptController controller_;
  DpcQueues dpcs_;

  std::atomic<std::int64_t> busy_{0};
  // Threads inside a wait on events_. A waiter counts itself before it looks at what it waits
  // for, and a notifier changes that before it looks here (all sequentially consistent), so a
  // notifier that sees no waiter has nobody to wake.
  std::atomic<unsigned> waiters_{0};
  mutable std::mutex events_mutex_;
  std::condition_variable events_;
  std::exception_ptr posted_failure_;

  mutable std::mutex devices_mutex_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::mutex extensions_mutex_;
  std::map<std::type_index, std::shared_ptr<void>> extensions_;

  std::atomic<bool> halted_{false};
  std::optional<BugCheckReport> report_;
  mutable bool report_observed_ = false;
  std::optional<HangReport> hang_;

  DeviceClock device_clock_{*this};

  // Last: processors start running at construction and must stop before anything above dies.
  std::vector<std::unique_ptr<Processor>> processors_;
};

}  // namespace irqsim::core
