#include "core/scheduler.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/execution_context.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/running_routine.hpp"

namespace irqsim::core {

Scheduler::Scheduler(Machine& machine, const Schedule& schedule, unsigned processors)
    : machine_(machine),
      schedule_(schedule),
      processors_(processors),
      strategy_(SchedulingStrategy::make(schedule, processors + 2)) {
  for (unsigned p = 0; p < processors + 2; ++p) participants_.push_back(std::make_unique<Participant>());
  // The device clock has no thread until the test starts a timer.
  participants_[clock_participant()]->state = State::Absent;
  // The test's thread made the machine and holds the turn until it waits for it.
  holder_.store(test_participant(), std::memory_order_relaxed);
  runnable_.reserve(participants_.size());
}

unsigned Scheduler::participant_of(const ExecutionContext& context) const {
  if (const Processor* processor = context.processor()) return processor->index();
  return participant_of_this_thread();
}

unsigned Scheduler::participant_of_this_thread() const {
  return std::this_thread::get_id() == clock_thread_ ? clock_participant() : test_participant();
}

void Scheduler::join_clock(std::thread::id thread) {
  clock_thread_ = thread;
  participants_[clock_participant()]->state = State::Runnable;
}

void Scheduler::wait_for_first_turn(unsigned participant) { participants_[participant]->turn.acquire(); }

void Scheduler::yield(unsigned participant) {
  if (released()) return;
  decide(participant);
}

void Scheduler::wait(unsigned participant, Wait wait) {
  if (released()) return;
  Participant& waiter = *participants_[participant];
  waiter.state = State::Waiting;
  waiter.wait = std::move(wait);
  if (participant == test_participant()) test_wait_started_ = decisions();
  decide(participant);
}

unsigned Scheduler::choose_target(std::span<const unsigned> candidates) {
  std::lock_guard lock(strategy_mutex_);
  return strategy_->target(candidates);
}

void Scheduler::release() {
  released_.store(true, std::memory_order_release);
  for (const std::unique_ptr<Participant>& participant : participants_) participant->turn.release();
}

bool Scheduler::can_run(unsigned participant) const {
  const Participant& candidate = *participants_[participant];
  if (candidate.state != State::Waiting) return candidate.state == State::Runnable;
  const Wait& wait = candidate.wait;
  if (wait.until && now() >= *wait.until) return true;
  if (wait.wakes_on_doorbell && machine_.processor(participant).doorbell_rings() != wait.doorbell_seen) return true;
  return wait.ready && wait.ready();
}

std::optional<std::int64_t> Scheduler::earliest_deadline() const {
  std::optional<std::int64_t> earliest;
  for (const std::unique_ptr<Participant>& participant : participants_) {
    const Wait& wait = participant->wait;
    if (participant->state != State::Waiting || !wait.until || wait.until_is_timeout) continue;
    if (!earliest || *wait.until < *earliest) earliest = wait.until;
  }
  return earliest;
}

void Scheduler::decide(unsigned current) {
  const bool test_waits = participants_[test_participant()]->state == State::Waiting;
  if (test_waits && decisions() - test_wait_started_ >= schedule_.step_limit && !machine_.halted()) {
    report_hang(HangReport::Kind::Livelock);
  }
  for (;;) {
    runnable_.clear();
    for (unsigned p = 0; p < participants_.size(); ++p) {
      if (can_run(p)) runnable_.push_back(p);
    }
    if (!runnable_.empty()) break;
    if (const std::optional<std::int64_t> due = earliest_deadline()) {
      now_.store(std::max(now(), *due), std::memory_order_relaxed);
      continue;
    }
    if (machine_.halted()) {
      // Nothing can run even on a halted machine (a test thread that does not wait for it):
      // let every thread go its own way rather than hang the process.
      release();
      return;
    }
    report_hang(HangReport::Kind::Deadlock);
  }
  unsigned next = 0;
  {
    std::lock_guard lock(strategy_mutex_);
    next = strategy_->next(runnable_, current);
  }
  decisions_.store(decisions() + 1, std::memory_order_relaxed);
  now_.store(now() + schedule_.step_time.count(), std::memory_order_relaxed);
  Participant& chosen = *participants_[next];
  chosen.state = State::Runnable;
  chosen.wait = Wait{};
  if (next != current) hand_turn(current, next);
}

void Scheduler::hand_turn(unsigned from, unsigned to) {
  holder_.store(to, std::memory_order_relaxed);
  participants_[to]->turn.release();
  platform::Semaphore& mine = participants_[from]->turn;
  if (from == test_participant()) {
    wait_for_turn_watching(mine);
  } else {
    mine.acquire();
  }
}

void Scheduler::wait_for_turn_watching(platform::Semaphore& mine) {
  std::uint64_t seen = decisions();
  bool warned = false;
  while (!mine.try_acquire_for(schedule_.stuck_turn_warning)) {
    const std::uint64_t now_seen = decisions();
    if (now_seen != seen || warned || released()) {
      seen = now_seen;
      continue;
    }
    warned = true;
    fmt::print(stderr,
               "irqsim: a deterministic machine ({}) has made no scheduling decision for {} ms after decision {}: "
               "{} keeps the turn. Code running there that blocks on a host primitive (a mutex, an atomic "
               "wait, a condition variable) or spins without WDK calls stops every other participant; see "
               "docs/deterministic-mode.md.\n",
               schedule_.to_string(), schedule_.stuck_turn_warning.count(), seen,
               participant_name(holder_.load(std::memory_order_relaxed)));
  }
}

std::string Scheduler::participant_name(unsigned participant) const {
  if (participant < processors_) return fmt::format("processor {}", participant);
  return participant == clock_participant() ? "the device clock's thread" : "the test's thread";
}

std::string Scheduler::waiting_for(unsigned participant) const {
  const Participant& waiter = *participants_[participant];
  if (waiter.state != State::Waiting) return "";
  const Wait& wait = waiter.wait;
  if (wait.subject != 0) return fmt::format("{} {:#x}", wait.what, wait.subject);
  if (wait.until && !wait.until_is_timeout) return fmt::format("{} until {} ns", wait.what, *wait.until);
  return wait.what;
}

void Scheduler::report_hang(HangReport::Kind kind) {
  HangReport report;
  report.kind = kind;
  report.test_waits_for = participants_[test_participant()]->wait.what;
  report.schedule = schedule_;
  report.decisions = decisions();
  report.time_ns = now();
  for (unsigned p = 0; p < processors_; ++p) {
    const ExecutionContext& context = machine_.processor(p).context();
    HungProcessor& hung = report.processors.emplace_back();
    hung.processor = p;
    hung.irql = context.irql();
    hung.held_locks = context.held_lock_addresses();
    if (const RunningRoutine* routine = context.running_routine()) {
      hung.routine = reinterpret_cast<std::uintptr_t>(routine->routine());
      hung.routine_kind = routine->kind() == RoutineKind::InterruptService ? "ISR" : "DPC";
    }
    hung.waiting_for = waiting_for(p);
  }
  machine_.halt_hung(std::move(report));
}

}  // namespace irqsim::core
