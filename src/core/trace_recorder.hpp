#pragma once
// The event recorder of a machine that records a trace (MachineConfig::trace). Every thread that
// records (each simulated processor, and any other thread that raises an interrupt, queues a DPC
// or takes a spin lock) writes into a single-producer ring of its own, so recording costs a clock
// read and a few stores and never waits for another thread. A drainer thread empties the rings
// into per-track stores while the processors keep running, whenever a ring is half full and
// whenever a snapshot is taken; a store keeps the newest MachineConfig::trace_events_per_track
// events of its track.
//
// A machine that does not record has no recorder: every hook is a test of a null pointer.

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "irqsim/irql.hpp"
#include "irqsim/trace.hpp"
#include "platform/doorbell.hpp"

namespace irqsim::core {

class Machine;
class Processor;

class TraceRecorder {
 public:
  // Events a ring holds before its thread drops new ones; the drainer is woken at half. Other
  // threads mostly raise interrupts, a few events each, and a test may start many of them.
  static constexpr std::size_t kProcessorRingCapacity = 16384;
  static constexpr std::size_t kThreadRingCapacity = 1024;

  TraceRecorder(const Machine& machine, unsigned processors, std::size_t events_per_track);
  ~TraceRecorder();
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  // Records an event on the calling thread's track at `time_ns` (Machine::uptime_ns(), or now)
  // and returns the time.
  std::int64_t record(TraceEventKind kind, std::uint16_t vector, Irql irql, std::uint64_t subject,
                      std::uint64_t argument) noexcept;
  std::int64_t record_at(std::int64_t time_ns, TraceEventKind kind, std::uint16_t vector, Irql irql,
                         std::uint64_t subject, std::uint64_t argument) noexcept;

  // The IRQL of the calling thread if it is one of the machine's processors, else PASSIVE_LEVEL.
  [[nodiscard]] Irql caller_irql() const noexcept;

  // Everything recorded so far, without stopping the processors.
  [[nodiscard]] Trace snapshot();

 private:
  struct Store {
    std::deque<TraceEvent> events;
    std::uint64_t lost = 0;
  };
  struct Ring {
    Ring(std::uint32_t track_id, std::size_t size) : track(track_id), events(size) {}
    std::uint32_t track;
    boost::lockfree::spsc_queue<TraceEvent> events;
    std::size_t capacity = events.write_available();
    // Events turned away because the ring was full.
    std::atomic<std::uint64_t> lost{0};
  };

  // On a deterministic machine: empties the full ring into its store and pushes `event`.
  bool push_after_draining(Ring& ring, const TraceEvent& event) noexcept;
  // The calling thread if it is one of this machine's processors, else nullptr.
  [[nodiscard]] const Processor* processor_of_caller() const noexcept;
  // The calling thread's ring, or nullptr if none could be made.
  Ring* ring_of_caller() noexcept;
  Ring* new_thread_ring() noexcept;
  void drain_loop();
  void drain();  // under drain_mutex_
  void drain(Ring& ring);

  const Machine& machine_;
  std::size_t events_per_track_;
  std::vector<std::unique_ptr<Ring>> processor_rings_;
  std::mutex thread_rings_mutex_;
  std::vector<std::unique_ptr<Ring>> thread_rings_;

  std::mutex drain_mutex_;
  std::map<std::uint32_t, Store> stores_;
  std::atomic<bool> drain_requested_{false};
  std::atomic<bool> stopping_{false};
  platform::Doorbell drainer_bell_;
  std::thread drainer_;
};

}  // namespace irqsim::core
