#pragma once
// The simulated interrupt controller: an I/O APIC that routes vectors to processors and one
// local APIC per processor holding the vectors routed to it (its IRR).
//
// A vector is pending while its line is asserted (level-triggered) or an edge has been latched.
// A pending vector that is connected and unmasked is routed to a processor in its affinity whose
// IRQL is below the vector's; if there is none it waits, unrouted, until one lowers its IRQL.
// A processor accepts the highest-IRQL vector it holds above its current IRQL, runs the chain
// of interrupt objects, and signals end of interrupt, after which a level line that is still
// asserted is routed again.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/interrupt_object.hpp"
#include "core/topology.hpp"
#include "irqsim/machine.hpp"
#include "platform/short_mutex.hpp"

namespace irqsim::core {

class ExecutionContext;
class Machine;
class TraceRecorder;

using Chain = std::vector<InterruptObject*>;

// A vector a processor has accepted, with the chain of objects as it was at that moment.
// Disconnecting an object waits for the end of interrupt of every acceptance whose chain may
// still contain it.
struct Acceptance {
  std::uint32_t vector;
  Irql irql;
  TriggerMode mode;
  std::shared_ptr<const Chain> chain;
  std::uint64_t chain_generation;
  bool took_edge;  // the acceptance consumed a latched edge
  // VectorStats::raised at the acceptance, if it took an edge on a machine that records a trace
  // (for its raise-to-delivery arrows), else 0.
  std::uint64_t edges_raised;
  std::int64_t accepted_at_ns;  // Machine::uptime_ns() at the acceptance
  std::chrono::nanoseconds latency;
};

struct DeliveryOutcome {
  bool claimed = false;
  bool unexpected = false;  // no interrupt object for this processor
  // This processor's objects all went inactive after the acceptance: nothing was called.
  bool all_inactive = false;
};

class InterruptController {
 public:
  static constexpr std::uint32_t kVectorCount = irqsim::Machine::kVectorCount;
  static constexpr unsigned kClaimedStormFactor = 100;

  enum class ConnectResult : std::uint8_t { Connected, NotShareable, ModeMismatch, IrqlMismatch };

  InterruptController(Machine& machine, const MachineConfig& config);

  // Lines, driven by test code playing the devices. A line is a wired OR, as a shared PCI
  // interrupt pin is: asserted while any of its drivers (a device's pin, or the test driving
  // the vector directly) holds it active. A driver is identified by any address unique to it.
  using LineDriver = const void*;
  void pulse(std::uint32_t vector);
  void drive_line(std::uint32_t vector, LineDriver driver, bool active);
  [[nodiscard]] bool line_asserted(std::uint32_t vector) const;
  void set_masked(std::uint32_t vector, bool masked);
  [[nodiscard]] VectorStats stats(std::uint32_t vector) const;
  [[nodiscard]] std::uint64_t interrupts_taken(unsigned processor) const;

  // Connection, by the kernel layer. The object's vector, IRQLs, mode, sharing and affinity
  // must be filled in. A successful connect may deliver at once.
  ConnectResult connect(InterruptObject& object);
  // Returns once no processor can still be running the object's service routine.
  void disconnect(ExecutionContext& caller, InterruptObject& object);
  // A soft disconnect or reconnect: an inactive object's service routine is not called, and
  // a vector whose objects are all inactive stays pending without being delivered.
  void set_active(InterruptObject& object, bool active);

  // Processor side: what a processor running at `level` may take, where kIdle (below
  // PASSIVE_LEVEL) also takes passive-level interrupts, which run only from an idle loop as
  // Windows runs them on a worker thread. The first is a lock-free hint checked at every
  // preemption point.
  static constexpr int kIdle = -1;
  [[nodiscard]] bool may_have_work_above(const ExecutionContext& processor, int level) const noexcept;
  std::optional<Acceptance> accept(unsigned processor, int level);
  // Returns what is wrong when the vector is storming: a level line still asserted after
  // storm_threshold consecutive unclaimed deliveries, or after kClaimedStormFactor times as many
  // deliveries whether claimed or not.
  // `service_time` runs from the acceptance to this end of interrupt.
  std::optional<std::string> end_of_interrupt(const Acceptance& accepted, const DeliveryOutcome& outcome,
                                              std::chrono::nanoseconds service_time);
  // The machine halted (or an exception escaped) while the chain ran: the vector leaves service,
  // counted as abandoned rather than claimed or not, so a disconnect waiting for it can finish
  // (a line still asserted is routed again).
  void abandon(const Acceptance& accepted);

 private:
  // Bytes in a cache line of the hosts irqsim runs on (x86-64, arm64).
  static constexpr std::size_t kCacheLine = 64;

  struct Vector {
    // An edge waits to be taken. Written only by read-modify-writes (see pulse()), on a cache
    // line of its own: a device raising faster than a processor serves it hammers this flag,
    // and the processor should not lose the rest of the vector's state to it each time.
    alignas(kCacheLine) std::atomic<bool> latched{false};
    // The vector waits in a request register or unrouted, or every processor that could take
    // it is serving it: whoever changes that looks at the latch again (owner_released_edge()),
    // so pulse() needs no lock while this holds. Written under the mutex, read beside the latch.
    std::atomic<bool> owned{false};
    // VectorStats::raised and ::coalesced, counted where pulse() decides without the mutex.
    std::atomic<std::uint64_t> raised{0};
    std::atomic<std::uint64_t> coalesced{0};
    // Programmed by the first connection, cleared when the last one goes.
    alignas(kCacheLine) Irql irql = 0;
    TriggerMode mode = TriggerMode::Level;
    bool shareable = false;
    ProcessorSet processors;
    std::size_t processor_count = 0;  // of `processors`, which changes only on (dis)connection
    std::shared_ptr<const Chain> chain;
    unsigned inactive_objects = 0;
    // Line and delivery state.
    bool masked = false;
    std::vector<LineDriver> line_drivers;
    bool line = false;  // some driver holds the line active
    // Machine::uptime_ns() when the vector last became deliverable; a delivery's latency is
    // measured from here.
    std::optional<std::int64_t> deliverable_since;
    unsigned in_service = 0;
    // Bumped when an object leaves the chain; acceptances of earlier generations still in
    // service may be running it.
    std::uint64_t chain_generation = 0;
    unsigned in_service_of_earlier_chains = 0;
    int routed_to = -1;
    bool unrouted = false;
    bool outstanding = false;
    unsigned unclaimed_in_a_row = 0;
    std::uint64_t asserted_in_a_row = 0;
    // The counters kept under the mutex; stats() adds the rest.
    VectorStats stats;
  };

  struct LocalApic {
    // The interrupt request register, as the vectors it holds: rarely more than a few, so a
    // list is scanned faster than a 256-bit register.
    std::vector<std::uint32_t> irr;
    std::array<std::uint16_t, irql::kHigh + 1> irr_by_irql{};
    std::uint64_t taken = 0;
  };

  Vector& at(std::uint32_t vector);
  // Latches an edge; false if it merged with one already pending.
  bool latch_edge(std::uint32_t vector, Vector& v);
  const Vector& at(std::uint32_t vector) const;
  [[nodiscard]] bool connected(const Vector& v) const noexcept { return v.chain != nullptr; }
  [[nodiscard]] bool wants_delivery(const Vector& v) const noexcept;
  void reevaluate(std::uint32_t vector);
  void route(std::uint32_t vector);
  [[nodiscard]] bool can_take(unsigned processor, const Vector& v);
  std::optional<unsigned> pick_processor(const Vector& v);
  void put_in_irr(unsigned processor, std::uint32_t vector);
  void take_from_irr(unsigned processor, std::uint32_t vector);
  void set_unrouted(std::uint32_t vector, bool unrouted);
  void set_unrouted_attention(bool any);
  void update_outstanding(Vector& v);
  bool owner_released_edge(Vector& v);

  // The mutex, held. What would make another thread run (ringing a processor's doorbell,
  // finishing an activity a test waits for) is collected while it is held and done once it
  // is released, so the woken thread never finds the mutex still held by its waker's system
  // call.
  class Locked {
   public:
    explicit Locked(InterruptController& controller);
    ~Locked();
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;

   private:
    InterruptController& controller_;
  };

  Machine& machine_;
  TraceRecorder* tracer_;
  unsigned processor_count_;
  DeliveryPolicy policy_;
  unsigned storm_threshold_;

  // On a cache line of its own: both sides of every delivery write it, and pulse() reads the
  // read-mostly members above without taking it.
  alignas(kCacheLine) mutable platform::ShortMutex mutex_;
  // Deferred by Locked until the mutex is released.
  std::vector<unsigned> doorbells_to_ring_;
  unsigned activities_finished_ = 0;
  std::array<Vector, kVectorCount> vectors_{};
  std::vector<std::unique_ptr<LocalApic>> apics_;
  std::vector<std::uint32_t> unrouted_;
  std::array<std::uint16_t, irql::kHigh + 1> unrouted_by_irql_{};
  std::atomic<std::uint16_t> unrouted_irqls_{0};
  unsigned next_round_robin_ = 0;
};

}  // namespace irqsim::core
