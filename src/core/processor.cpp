#include "core/processor.hpp"

#include "core/interrupt_dispatch.hpp"
#include "core/machine.hpp"
#include "core/scheduler.hpp"
#include "core/trace_recorder.hpp"
#include "platform/backoff.hpp"

#include <chrono>

#include <fmt/format.h>

namespace irqsim::core {

Processor::Processor(Machine& machine, unsigned index)
    : machine_(machine),
      index_(index),
      group_(machine.topology().group_of(index)),
      number_in_group_(machine.topology().number_in_group(index)),
      context_(machine, this, machine.lock_token_for(index)) {
  thread_ = std::thread([this] { main(); });
}

Processor::~Processor() {
  request_stop();
  join();
  std::shared_ptr<WorkItem>* holder = nullptr;
  while (work_.pop(holder)) delete holder;
}

Processor* Processor::current() noexcept {
  return detail::processor_context != nullptr ? detail::processor_context->processor() : nullptr;
}

void Processor::submit(std::shared_ptr<WorkItem> item) {
  work_.push(new std::shared_ptr<WorkItem>(std::move(item)));
  wake();
}

void Processor::request_stop() noexcept {
  stop_.store(true, std::memory_order_release);
  context_.set_attention(attention::kHalting);
  wake();
}

void Processor::join() {
  if (thread_.joinable()) thread_.join();
}

void Processor::main() {
  detail::processor_context = &context_;
  irqsim_current_processor = &context_.shared_state();
  if (Scheduler* scheduler = machine_.scheduler()) scheduler->wait_for_first_turn(index_);
  try {
    serve();
  } catch (const ProcessorHalt&) {
    // The machine halted (or is stopping) under some driver code: its frames are gone now.
  }
  // A halted processor stays frozen, but work queued to it must not wait forever.
  while (!stopping()) {
    const std::uint32_t seen = doorbell_.read();
    abandon_queued_work();
    if (!stopping()) park(seen);
  }
  abandon_queued_work();
}

void Processor::serve() {
  while (!stopping()) {
    const std::uint32_t seen = doorbell_.read();
    context_.check_still_running();
    take_pending_interrupts_when_idle(context_);
    machine_.dpcs().retire(context_);
    if (auto item = next_work()) {
      run(*item);
      continue;
    }
    idle_until_woken(seen);
  }
}

void Processor::idle_until_woken(std::uint32_t seen) {
  if (const Scheduler* scheduler = machine_.scheduler(); scheduler != nullptr && !scheduler->released()) {
    park(seen);
    return;
  }
  // Poll first (MachineConfig::idle_spin): in a busy test the next interrupt is usually
  // microseconds away, and a parked thread needs a host wake-up to run again. Elapsed time is
  // compared in the config's unit, so a huge idle_spin cannot overflow.
  const std::chrono::microseconds spin = machine_.config().idle_spin;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start) < spin) {
    for (int poll = 0; poll < kPollsPerClockRead; ++poll) {
      if (doorbell_.read() != seen) return;
      platform::cpu_relax();
    }
  }
  park(seen);
}

void Processor::park(std::uint32_t seen) {
  Scheduler* scheduler = machine_.scheduler();
  if (scheduler == nullptr || scheduler->released()) {
    doorbell_.sleep_unless_rung_since(seen);
    return;
  }
  scheduler->wait(index_, {.what = "nothing (idle)", .wakes_on_doorbell = true, .doorbell_seen = seen});
}

std::shared_ptr<WorkItem> Processor::next_work() {
  std::shared_ptr<WorkItem>* holder = nullptr;
  if (!work_.pop(holder)) return nullptr;
  std::shared_ptr<WorkItem> item = std::move(*holder);
  delete holder;
  return item;
}

void Processor::run(WorkItem& item) {
  const unsigned outer = begin_work();
  try {
    call(item);
  } catch (const ProcessorHalt&) {
    end_work(outer);
    finish(item, WorkItem::State::Abandoned);
    throw;
  }
  end_work(outer);
  if (item.detached && item.failure) machine_.record_posted_failure(std::move(item.failure));
  finish(item, WorkItem::State::Done);
}

void Processor::call(WorkItem& item) {
  try {
    item.function();
  } catch (const ProcessorHalt&) {
    throw;
  } catch (...) {
    // An exception (a failed test assertion, say) unwound driver code: whatever IRQL and
    // locks it left behind belong to frames that no longer exist.
    item.failure = std::current_exception();
    context_.reset();
  }
  // Checked before the item counts as finished, so whoever waits for it finds the machine
  // halted with the report.
  if (const Irql left_at = context_.irql(); left_at != irql::kPassive) {
    machine_.bug_check(context_, bugcheck::kWorkerThreadReturnedAtBadIrql,
                       {0, left_at, reinterpret_cast<std::uintptr_t>(&item), 0},
                       fmt::format("A function run on processor {} at PASSIVE_LEVEL returned at IRQL {}; "
                                   "code run by a worker thread must return at PASSIVE_LEVEL.",
                                   index_, left_at));
  }
}

unsigned Processor::begin_work() {
  const std::int64_t now = machine_.uptime_ns();
  if (TraceRecorder* tracer = context_.tracer()) tracer->record_at(now, TraceEventKind::WorkBegin, 0, 0, 0, 0);
  return times_.enter(irql::kPassive, now);
}

void Processor::end_work(unsigned outer) {
  const std::int64_t now = machine_.uptime_ns();
  if (TraceRecorder* tracer = context_.tracer()) tracer->record_at(now, TraceEventKind::WorkEnd, 0, 0, 0, 0);
  times_.enter(outer, now);
}

void Processor::finish(WorkItem& item, WorkItem::State state) {
  item.state.store(state, std::memory_order_seq_cst);
  machine_.activity_finished();
  machine_.notify_waiters();
}

void Processor::abandon_queued_work() {
  while (auto item = next_work()) finish(*item, WorkItem::State::Abandoned);
}

}  // namespace irqsim::core
