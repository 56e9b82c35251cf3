#pragma once
// The turn-taking of a deterministic machine (ExecutionMode::Deterministic). Its processors, its
// device clock and the test's thread are the participants: each is still a thread, but exactly
// one holds the turn and runs while the others wait at scheduling points. Whenever the holder
// reaches one (a preemption point, a spin-wait, idleness), the seeded strategy picks who runs
// next, so one seed gives one interleaving.
//
// Time is virtual: every decision moves the clock by Schedule::step_time, and when nobody can
// run the clock jumps to the earliest deadline (a stall, a device timer, the test's run_for).
// When nobody can run and nothing is due, the machine is deadlocked; when the test's wait has
// seen Schedule::step_limit decisions, it is livelocked. Either halts the machine with a
// HangReport.
//
// The scheduler's own state belongs to the turn holder and needs no lock: the turn passes
// through a semaphore per participant, whose release and acquire order everything the previous
// holder did before everything the next one does.
//
// Code that blocks a participant's thread on a host primitive keeps the turn, and nothing else
// can run; the test's thread, waiting for its turn, says so on stderr after
// Schedule::stuck_turn_warning without a decision.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/scheduling_strategy.hpp"
#include "irqsim/schedule.hpp"
#include "platform/semaphore.hpp"

namespace irqsim::core {

class ExecutionContext;
class Machine;

class Scheduler {
 public:
  // What a participant waits for. It can run again once `ready()` holds, the clock reaches
  // `until`, or (for a processor that `wakes_on_doorbell`) its doorbell rang after it read
  // `doorbell_seen`: an interrupt or work arrived.
  struct Wait {
    // For reports: "idle", "spin lock", "stall", "quiescence", ...
    const char* what = "";
    // An address the wait is about (the spin lock), for reports; 0 if none.
    std::uint64_t subject = 0;
    std::function<bool()> ready{};
    std::optional<std::int64_t> until{};
    // `until` only bounds the wait (a test's timeout): the clock runs on to it when something
    // else moves it there, but never jumps to it, so a deadlock is reported as one.
    bool until_is_timeout = false;
    bool wakes_on_doorbell = false;
    std::uint32_t doorbell_seen = 0;
  };

  // Participants 0..processors-1 are the processors; then the device clock; then the test.
  Scheduler(Machine& machine, const Schedule& schedule, unsigned processors);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  [[nodiscard]] unsigned clock_participant() const noexcept { return processors_; }
  [[nodiscard]] unsigned test_participant() const noexcept { return processors_ + 1; }
  [[nodiscard]] const Schedule& schedule() const noexcept { return schedule_; }

  // The virtual clock, in nanoseconds since the machine was created.
  [[nodiscard]] std::int64_t now() const noexcept { return now_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t decisions() const noexcept { return decisions_.load(std::memory_order_relaxed); }

  // Who the calling thread is: its processor, the device clock's thread, or else the test.
  [[nodiscard]] unsigned participant_of(const ExecutionContext& context) const;
  // The same for a thread that is not a processor.
  [[nodiscard]] unsigned participant_of_this_thread() const;
  // The device clock's thread starts when the test starts its first timer: the turn holder
  // makes it a participant before it runs.
  void join_clock(std::thread::id thread);
  // A participant's thread starts: it waits for its first turn.
  void wait_for_first_turn(unsigned participant);

  // A scheduling point: the strategy may give the turn to another participant, and this one
  // waits until it comes back.
  void yield(unsigned participant);
  // Gives the turn away until `wait` is over.
  void wait(unsigned participant, Wait wait);
  // The processor an interrupt lands on, among `candidates` (sorted, not empty).
  unsigned choose_target(std::span<const unsigned> candidates);

  // Teardown: every participant gets the turn at once and every later call returns at once, so
  // the threads run freely to their end. Irreversible.
  void release();
  [[nodiscard]] bool released() const noexcept { return released_.load(std::memory_order_acquire); }

  // What each participant waits for, for a hang report: "" while it can run.
  [[nodiscard]] std::string waiting_for(unsigned participant) const;

 private:
  enum class State : std::uint8_t { Absent, Runnable, Waiting };
  struct Participant {
    State state = State::Runnable;
    Wait wait{};
    // Released when this participant is given the turn; it sleeps on it otherwise. Counting, so
    // that the teardown may release a participant that already has its token.
    platform::Semaphore turn;
  };

  [[nodiscard]] bool can_run(unsigned participant) const;
  // Picks who runs next and hands the turn over, moving the clock; on a hang, halts the
  // machine first (which lets the test's thread run to report it).
  void decide(unsigned current);
  [[nodiscard]] std::optional<std::int64_t> earliest_deadline() const;
  void report_hang(HangReport::Kind kind);
  void hand_turn(unsigned from, unsigned to);
  // The test's thread waits for its turn, warning while no decision is made.
  void wait_for_turn_watching(platform::Semaphore& mine);
  [[nodiscard]] std::string participant_name(unsigned participant) const;

  Machine& machine_;
  Schedule schedule_;
  unsigned processors_;
  std::unique_ptr<SchedulingStrategy> strategy_;
  // The strategy is also asked for targets by whichever thread routes an interrupt, which on a
  // misused machine may be a thread outside the turns.
  std::mutex strategy_mutex_;
  std::vector<std::unique_ptr<Participant>> participants_;
  std::thread::id clock_thread_{};
  std::atomic<std::int64_t> now_{0};
  // Written by the turn holder only; atomic because the test's thread watches it (and who holds
  // the turn) while it waits.
  std::atomic<std::uint64_t> decisions_{0};
  std::atomic<unsigned> holder_{0};
  // Decisions when the test's thread last started to wait: a wait that sees step_limit more is
  // a livelock.
  std::uint64_t test_wait_started_ = 0;
  std::atomic<bool> released_{false};
  std::vector<unsigned> runnable_;
};

}  // namespace irqsim::core
