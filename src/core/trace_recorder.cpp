#include "core/trace_recorder.hpp"

#include <array>

#include <fmt/format.h>

#include "core/machine.hpp"
#include "core/processor.hpp"

namespace irqsim::core {

TraceRecorder::TraceRecorder(const Machine& machine, unsigned processors, std::size_t events_per_track)
    : machine_(machine), events_per_track_(events_per_track) {
  processor_rings_.reserve(processors);
  for (unsigned p = 0; p < processors; ++p) {
    processor_rings_.push_back(std::make_unique<Ring>(p, kProcessorRingCapacity));
    stores_[p];
  }
  drainer_ = std::thread([this] { drain_loop(); });
}

TraceRecorder::~TraceRecorder() {
  stopping_.store(true, std::memory_order_release);
  drainer_bell_.ring();
  drainer_.join();
}

std::int64_t TraceRecorder::record(TraceEventKind kind, std::uint16_t vector, Irql irql, std::uint64_t subject,
                                   std::uint64_t argument) noexcept {
  return record_at(machine_.uptime_ns(), kind, vector, irql, subject, argument);
}

std::int64_t TraceRecorder::record_at(std::int64_t time_ns, TraceEventKind kind, std::uint16_t vector, Irql irql,
                                      std::uint64_t subject, std::uint64_t argument) noexcept {
  Ring* ring = ring_of_caller();
  if (ring == nullptr) return time_ns;
  const TraceEvent event{time_ns, subject, argument, ring->track, vector, kind, irql};
  if (!ring->events.push(event) && !push_after_draining(*ring, event)) {
    ring->lost.fetch_add(1, std::memory_order_relaxed);
  } else if (ring->events.write_available() < ring->capacity / 2 &&
             !drain_requested_.exchange(true, std::memory_order_acq_rel)) {
    drainer_bell_.ring();
  }
  return time_ns;
}

bool TraceRecorder::push_after_draining(Ring& ring, const TraceEvent& event) noexcept {
  // Which events a full ring loses depends on when the drainer ran: a deterministic machine's
  // trace would differ from run to run. There, the recording thread drains the ring itself.
  if (machine_.scheduler() == nullptr) return false;
  try {
    std::lock_guard lock(drain_mutex_);
    drain(ring);
  } catch (...) {
    return false;  // out of memory: the event is lost, as on a free-running machine
  }
  return ring.events.push(event);
}

const Processor* TraceRecorder::processor_of_caller() const noexcept {
  const Processor* processor = Processor::current();
  return processor != nullptr && &processor->context().machine() == &machine_ ? processor : nullptr;
}

Irql TraceRecorder::caller_irql() const noexcept {
  const Processor* processor = processor_of_caller();
  return processor != nullptr ? processor->context().irql() : irql::kPassive;
}

TraceRecorder::Ring* TraceRecorder::ring_of_caller() noexcept {
  if (const Processor* processor = processor_of_caller()) return processor_rings_[processor->index()].get();
  // A thread's rings are found again by their machines' serials, which no later machine reuses.
  // A few are remembered, so a test alternating between two machines does not make a ring per
  // call; one forgotten gets a new ring (and track) if its machine is used again.
  struct Remembered {
    std::uint64_t machine = 0;
    Ring* ring = nullptr;
  };
  thread_local std::array<Remembered, 4> remembered{};
  thread_local std::size_t next_slot = 0;
  for (const Remembered& entry : remembered) {
    if (entry.machine == machine_.serial()) return entry.ring;
  }
  Ring* ring = new_thread_ring();
  remembered[next_slot] = {machine_.serial(), ring};
  next_slot = (next_slot + 1) % remembered.size();
  return ring;
}

TraceRecorder::Ring* TraceRecorder::new_thread_ring() noexcept {
  try {
    std::lock_guard lock(thread_rings_mutex_);
    const auto track = static_cast<std::uint32_t>(TraceTrack::kFirstThreadTrack + thread_rings_.size());
    thread_rings_.push_back(std::make_unique<Ring>(track, kThreadRingCapacity));
    return thread_rings_.back().get();
  } catch (...) {
    return nullptr;  // out of memory: this thread's events go unrecorded rather than crash it
  }
}

void TraceRecorder::drain_loop() {
  while (!stopping_.load(std::memory_order_acquire)) {
    const std::uint32_t seen = drainer_bell_.read();
    drain_requested_.store(false, std::memory_order_release);
    {
      std::lock_guard lock(drain_mutex_);
      drain();
    }
    if (!stopping_.load(std::memory_order_acquire)) drainer_bell_.sleep_unless_rung_since(seen);
  }
}

void TraceRecorder::drain() {
  for (const std::unique_ptr<Ring>& ring : processor_rings_) drain(*ring);
  std::vector<Ring*> threads;
  {
    std::lock_guard lock(thread_rings_mutex_);
    for (const std::unique_ptr<Ring>& ring : thread_rings_) threads.push_back(ring.get());
  }
  for (Ring* ring : threads) drain(*ring);
}

void TraceRecorder::drain(Ring& ring) {
  Store& store = stores_[ring.track];
  ring.events.consume_all([&](const TraceEvent& event) {
    store.events.push_back(event);
    if (store.events.size() > events_per_track_) {
      store.events.pop_front();
      ++store.lost;
    }
  });
}

Trace TraceRecorder::snapshot() {
  std::lock_guard lock(drain_mutex_);
  drain();
  Trace trace;
  for (const auto& [id, store] : stores_) {
    TraceTrack& track = trace.tracks.emplace_back();
    track.id = id;
    if (id < TraceTrack::kFirstThreadTrack) {
      track.processor = id;
      track.name = fmt::format("CPU {}", id);
      track.lost = processor_rings_[id]->lost.load(std::memory_order_relaxed);
    } else {
      track.name = fmt::format("thread {}", id - TraceTrack::kFirstThreadTrack + 1);
      std::lock_guard threads(thread_rings_mutex_);
      track.lost = thread_rings_[id - TraceTrack::kFirstThreadTrack]->lost.load(std::memory_order_relaxed);
    }
    track.lost += store.lost;
    track.events.assign(store.events.begin(), store.events.end());
  }
  return trace;
}

}  // namespace irqsim::core
