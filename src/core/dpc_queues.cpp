#include "core/dpc_queues.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/address.hpp"
#include "core/execution_context.hpp"
#include "core/interrupt_dispatch.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/running_routine.hpp"
#include "core/spin_wait.hpp"
#include "core/trace_recorder.hpp"

namespace irqsim::core {

namespace {

// IRQL_UNEXPECTED_VALUE's "unique value" for "after a DPC routine": Windows documents only
// 3 (after an ISR), so irqsim chose the next one.
constexpr std::uint64_t kAfterDpcRoutine = 4;

}  // namespace

DpcQueues::DpcQueues(Machine& machine, unsigned processors) : machine_(machine) {
  queues_.reserve(processors);
  for (unsigned i = 0; i < processors; ++i) queues_.push_back(std::make_unique<Queue>());
}

bool DpcQueues::insert(unsigned processor, const Dpc& dpc, DpcPlacement placement, bool request_processing) {
  {
    std::lock_guard lock(mutex_);
    if (!queued_on_.emplace(dpc.object, processor).second) return false;
    Queue& queue = *queues_.at(processor);
    const Entry entry{dpc, next_ticket_++};
    if (placement == DpcPlacement::Head) {
      queue.entries.push_front(entry);
    } else {
      queue.entries.push_back(entry);
    }
    // Counted before the lock is released, so the processor cannot finish it first.
    machine_.activity_started();
    if (TraceRecorder* tracer = machine_.tracer()) {
      tracer->record(TraceEventKind::DpcQueue, static_cast<std::uint16_t>(processor), tracer->caller_irql(),
                     address(dpc.routine), address(dpc.object));
    }
    if (request_processing || queue.entries.size() > machine_.config().dpc_queue_depth_limit) {
      set_state(processor, kRequested);
    } else if (queue.state.load(std::memory_order_relaxed) == kEmpty) {
      queue.tick_deadline.store(next_clock_tick(), std::memory_order_relaxed);
      set_state(processor, kDeferred);
    }
  }
  // An idle processor runs its queue whatever was requested, as the Windows idle loop does.
  machine_.processor(processor).wake();
  return true;
}

bool DpcQueues::remove(const void* object) {
  {
    std::lock_guard lock(mutex_);
    const auto found = queued_on_.find(object);
    if (found == queued_on_.end()) return false;
    const unsigned processor = found->second;
    queued_on_.erase(found);
    Queue& queue = *queues_[processor];
    std::erase_if(queue.entries, [object](const Entry& entry) { return entry.dpc.object == object; });
    if (queue.entries.empty()) set_state(processor, kEmpty);
  }
  machine_.activity_finished();
  return true;
}

// Under mutex_. A processor whose queue is not empty looks at it at its preemption points.
void DpcQueues::set_state(unsigned processor, State state) {
  queues_[processor]->state.store(state, std::memory_order_release);
  ExecutionContext& context = machine_.processor(processor).context();
  if (state == kEmpty) {
    context.clear_attention(attention::kDpcQueued);
  } else {
    context.set_attention(attention::kDpcQueued);
  }
}

std::size_t DpcQueues::depth(unsigned processor) const {
  std::lock_guard lock(mutex_);
  return queues_.at(processor)->entries.size();
}

std::vector<DpcRoutineStats> DpcQueues::routine_stats() const {
  std::lock_guard lock(mutex_);
  std::vector<DpcRoutineStats> all;
  for (const auto& [routine, duration] : routine_durations_) all.push_back({address(routine), duration});
  return all;
}

std::vector<std::pair<unsigned, Dpc>> DpcQueues::queued() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<unsigned, Dpc>> all;
  for (unsigned processor = 0; processor < queues_.size(); ++processor) {
    for (const Entry& entry : queues_[processor]->entries) all.emplace_back(processor, entry.dpc);
  }
  return all;
}

std::int64_t DpcQueues::next_clock_tick() const {
  const std::int64_t tick = std::chrono::nanoseconds(machine_.config().clock_tick).count();
  return (machine_.uptime_ns() / tick + 1) * tick;
}

void DpcQueues::retire_if_due(ExecutionContext& context) {
  const Queue& queue = *queues_[context.processor()->index()];
  switch (queue.state.load(std::memory_order_acquire)) {
    case kEmpty:
      return;
    case kDeferred:
      if (machine_.uptime_ns() < queue.tick_deadline.load(std::memory_order_relaxed)) return;
      break;
    default:
      break;
  }
  retire(context);
}

void DpcQueues::retire(ExecutionContext& context) {
  Queue& queue = *queues_[context.processor()->index()];
  if (queue.state.load(std::memory_order_acquire) == kEmpty) return;
  // The DISPATCH_LEVEL software interrupt: the code below DISPATCH_LEVEL is interrupted.
  const Irql interrupted = context.irql();
  ProcessorTimes& times = context.processor()->times();
  const unsigned outer = times.enter(irql::kDispatch, machine_.uptime_ns());
  context.set_irql_silently(irql::kDispatch);
  for (;;) {
    Entry entry{};
    {
      std::lock_guard lock(mutex_);
      if (queue.entries.empty()) {
        set_state(context.processor()->index(), kEmpty);
        break;
      }
      entry = queue.entries.front();
      queue.entries.pop_front();
      // From here the DPC object may be queued again, even by its own routine.
      queued_on_.erase(entry.dpc.object);
      queue.running_ticket = entry.ticket;
    }
    run_one(context, queue, entry);
    // Device interrupts that arrived while the routine ran without calling the library.
    take_pending_interrupts(context);
  }
  context.set_irql_silently(interrupted);
  times.enter(outer, machine_.uptime_ns());
}

void DpcQueues::run_one(ExecutionContext& context, Queue& queue, const Entry& entry) {
  // However the routine leaves (an exception from a failed test assertion included), it is
  // finished: flushes and quiescence must not wait for it.
  // Its run time counts even when it ends that way.
  struct Finished {
    DpcQueues& queues;
    ExecutionContext& context;
    Queue& queue;
    const Dpc& dpc;
    std::int64_t started_at;
    ~Finished() {
      const std::int64_t ended_at = queues.machine_.uptime_ns();
      if (TraceRecorder* tracer = context.tracer()) {
        tracer->record_at(ended_at, TraceEventKind::DpcExit, 0, irql::kDispatch, address(dpc.routine),
                          address(dpc.object));
      }
      context.processor()->times().count_dpc();
      {
        std::lock_guard lock(queues.mutex_);
        queue.running_ticket = 0;
        queues.routine_durations_[dpc.routine].add(std::chrono::nanoseconds(ended_at - started_at));
      }
      queues.machine_.activity_finished();
    }
  } finished{*this, context, queue, entry.dpc, machine_.uptime_ns()};

  if (TraceRecorder* tracer = context.tracer()) {
    tracer->record_at(finished.started_at, TraceEventKind::DpcEnter, 0, irql::kDispatch, address(entry.dpc.routine),
                      address(entry.dpc.object));
  }
  {
    RunningRoutine running(context, RoutineKind::DeferredProcedure, entry.dpc.routine);
    entry.dpc.run(entry.dpc.object, entry.dpc.argument1, entry.dpc.argument2);
    running.check_watchdog();
  }
  if (const Irql returned_at = context.irql(); returned_at != irql::kDispatch) {
    machine_.bug_check(
        context, bugcheck::kIrqlUnexpectedValue,
        {(std::uint64_t{returned_at} << 16) | (std::uint64_t{irql::kDispatch} << 8) | kAfterDpcRoutine,
         address(entry.dpc.routine), address(entry.dpc.object), 0},
        fmt::format("The DPC routine at {:#x} (DPC object {:#x}) was called at DISPATCH_LEVEL (2) and returned at "
                    "IRQL {}; a DPC routine must return at DISPATCH_LEVEL.",
                    address(entry.dpc.routine), address(entry.dpc.object), returned_at));
  }
}

bool DpcQueues::flushed(std::uint64_t last_ticket) const {
  return std::none_of(queues_.begin(), queues_.end(), [last_ticket](const std::unique_ptr<Queue>& queue) {
    const bool running = queue->running_ticket != 0 && queue->running_ticket <= last_ticket;
    return running || std::any_of(queue->entries.begin(), queue->entries.end(),
                                  [last_ticket](const Entry& entry) { return entry.ticket <= last_ticket; });
  });
}

void DpcQueues::flush(ExecutionContext& caller) {
  std::unique_lock lock(mutex_);
  const std::uint64_t last_ticket = next_ticket_ - 1;
  std::vector<unsigned> to_wake;
  for (unsigned p = 0; p < queues_.size(); ++p) {
    if (queues_[p]->entries.empty()) continue;
    set_state(p, kRequested);
    to_wake.push_back(p);
  }
  lock.unlock();
  for (unsigned p : to_wake) machine_.processor(p).wake();
  const auto done = [&] {
    const std::lock_guard locked(mutex_);
    return flushed(last_ticket);
  };
  SpinWait wait(caller, "a DPC flush");
  while (!done()) {
    caller.check_still_running();
    // A processor runs its own queue here; the caller is at PASSIVE_LEVEL.
    caller.preemption_point();
    if (done()) break;
    wait.pause(done);
  }
}

}  // namespace irqsim::core
