#pragma once
// Deferred procedure calls: the kernel's way of running the bulk of interrupt handling at
// DISPATCH_LEVEL. One queue per processor; a DPC object is in at most one queue at a time;
// a processor runs its queue when its IRQL drops below DISPATCH_LEVEL and processing has been
// requested, when it is idle, or at its next clock tick.
//
// The queues are short and need insertion at the head and removal from the middle, so they
// are plain deques under one mutex rather than lock-free queues.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "irqsim/machine_stats.hpp"

namespace irqsim::core {

class ExecutionContext;
class Machine;

// One queued call. `object` identifies it (the driver's DPC object); `run` calls the driver's
// routine with the arguments given when it was queued; `routine` is that routine's address,
// for reports.
struct Dpc {
  void* object = nullptr;
  void (*run)(void* object, void* argument1, void* argument2) = nullptr;
  const void* routine = nullptr;
  void* argument1 = nullptr;
  void* argument2 = nullptr;
};

enum class DpcPlacement : std::uint8_t { Tail, Head };

class DpcQueues {
 public:
  DpcQueues(Machine& machine, unsigned processors);

  // Queues `dpc` on `processor`. Returns false, changing nothing, if its object is already
  // queued anywhere. `request_processing` asks the processor to run its queue as soon as its
  // IRQL is below DISPATCH_LEVEL; otherwise the DPC waits for the processor to be idle, for
  // its next clock tick or for its queue to grow past the machine's depth limit.
  bool insert(unsigned processor, const Dpc& dpc, DpcPlacement placement, bool request_processing);
  // Takes the object's DPC out of its queue. False if it was not queued (it may be running).
  bool remove(const void* object);
  [[nodiscard]] std::size_t depth(unsigned processor) const;
  // Every DPC still queued, with its processor: for leak reports.
  [[nodiscard]] std::vector<std::pair<unsigned, Dpc>> queued() const;
  // The run times of every routine that ran, by address.
  [[nodiscard]] std::vector<DpcRoutineStats> routine_stats() const;

  // The processor side: run the queue at DISPATCH_LEVEL until it is empty. The caller is
  // below DISPATCH_LEVEL. `retire_if_due` runs it only when processing was requested or a
  // clock tick has passed since the first DPC in it was queued; the idle loop runs it always.
  void retire_if_due(ExecutionContext& context);
  void retire(ExecutionContext& context);

  // Returns once every DPC queued before the call has run (KeFlushQueuedDpcs). Queues that
  // hold such DPCs are asked to process them at once.
  void flush(ExecutionContext& caller);

 private:
  enum State : std::uint8_t { kEmpty, kDeferred, kRequested };
  struct Entry {
    Dpc dpc;
    std::uint64_t ticket;
  };
  struct Queue {
    std::deque<Entry> entries;
    std::uint64_t running_ticket = 0;  // 0: none running
    std::atomic<std::uint8_t> state{kEmpty};
    // Machine::uptime_ns() of the clock interrupt that processes a deferred queue.
    std::atomic<std::int64_t> tick_deadline{0};
  };

  void set_state(unsigned processor, State state);
  [[nodiscard]] std::int64_t next_clock_tick() const;
  [[nodiscard]] bool flushed(std::uint64_t last_ticket) const;
  void run_one(ExecutionContext& context, Queue& queue, const Entry& entry);

  Machine& machine_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::unordered_map<const void*, unsigned> queued_on_;
  std::map<const void*, DurationHistogram> routine_durations_;
  std::uint64_t next_ticket_ = 1;
};

}  // namespace irqsim::core
