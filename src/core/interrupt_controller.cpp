#include "core/interrupt_controller.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <boost/container/small_vector.hpp>
#include <fmt/format.h>

#include "core/execution_context.hpp"
#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/trace_recorder.hpp"
#include "core/scheduler.hpp"
#include "core/spin_wait.hpp"

namespace irqsim::core {

namespace {
constexpr std::uint16_t irql_bit(Irql level) { return static_cast<std::uint16_t>(1u << level); }
constexpr std::uint16_t bits_above(int level) {
  return level < 0 ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(~((2u << level) - 1u));
}
}  // namespace

InterruptController::InterruptController(Machine& machine, const MachineConfig& config)
    : machine_(machine),
      tracer_(machine.tracer()),
      processor_count_(config.processors),
      policy_(config.delivery),
      storm_threshold_(config.storm_threshold) {
  for (unsigned i = 0; i < processor_count_; ++i) apics_.push_back(std::make_unique<LocalApic>());
  doorbells_to_ring_.reserve(processor_count_);
}

InterruptController::Locked::Locked(InterruptController& controller) : controller_(controller) {
  controller_.mutex_.lock();
}

InterruptController::Locked::~Locked() {
  if (controller_.doorbells_to_ring_.empty() && controller_.activities_finished_ == 0) {
    controller_.mutex_.unlock();
    return;
  }
  boost::container::small_vector<unsigned, 4> doorbells(controller_.doorbells_to_ring_.begin(),
                                                        controller_.doorbells_to_ring_.end());
  controller_.doorbells_to_ring_.clear();
  const unsigned finished = std::exchange(controller_.activities_finished_, 0);
  controller_.mutex_.unlock();
  for (unsigned processor : doorbells) controller_.machine_.processor(processor).wake();
  for (unsigned i = 0; i < finished; ++i) controller_.machine_.activity_finished();
}

namespace {
std::uint32_t checked(std::uint32_t vector) {
  if (vector >= InterruptController::kVectorCount) {
    throw std::out_of_range(fmt::format("irqsim: vector {:#x} is outside 0..{:#x}", vector,
                                        InterruptController::kVectorCount - 1));
  }
  return vector;
}
}  // namespace

InterruptController::Vector& InterruptController::at(std::uint32_t vector) { return vectors_[checked(vector)]; }

const InterruptController::Vector& InterruptController::at(std::uint32_t vector) const {
  return vectors_[checked(vector)];
}

// ---- lines ------------------------------------------------------------------------------

void InterruptController::pulse(std::uint32_t vector) {
  Vector& v = at(vector);
  // An edge while an earlier one is still latched merges with it and changes nothing else, so
  // it takes no lock: a raiser outpacing the processor does not slow it down. Every write of
  // the latch is a read-modify-write, so the exchange in accept() that takes the latched edge
  // reads this one (or a later one): whatever the device did before this edge happens before
  // the ISR that serves it.
  if (!latch_edge(vector, v)) return;
  // Nor does an edge on an owned vector: its owner looks at the latch when it lets go. Each
  // side writes its flag and then reads the other's, sequentially consistent, so at least one
  // of them sees the edge.
  if (v.owned.load(std::memory_order_seq_cst)) return;
  const Locked lock(*this);
  reevaluate(vector);
}

bool InterruptController::latch_edge(std::uint32_t vector, Vector& v) {
  const std::uint64_t number = v.raised.fetch_add(1, std::memory_order_relaxed) + 1;
  if (tracer_ != nullptr) [[unlikely]] {
    tracer_->record(TraceEventKind::Raise, static_cast<std::uint16_t>(vector), tracer_->caller_irql(), 0, number);
  }
  if (!v.latched.exchange(true, std::memory_order_seq_cst)) return true;
  v.coalesced.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void InterruptController::drive_line(std::uint32_t vector, LineDriver driver, bool active) {
  const Locked lock(*this);
  Vector& v = at(vector);
  const auto found = std::ranges::find(v.line_drivers, driver);
  if (active == (found != v.line_drivers.end())) return;
  if (active) {
    v.line_drivers.push_back(driver);
  } else {
    v.line_drivers.erase(found);
  }
  const bool was_asserted = v.line;
  v.line = !v.line_drivers.empty();
  if (v.line == was_asserted) return;
  if (tracer_ != nullptr) {
    tracer_->record(v.line ? TraceEventKind::LineAssert : TraceEventKind::LineDeassert,
                    static_cast<std::uint16_t>(vector), tracer_->caller_irql(), 0, 0);
  }
  if (v.line) {
    // An edge-triggered input sees the rising edge; a level-triggered one sees the level.
    if (connected(v) && v.mode == TriggerMode::Edge) latch_edge(vector, v);
  } else {
    v.unclaimed_in_a_row = 0;
    v.asserted_in_a_row = 0;
  }
  reevaluate(vector);
}

bool InterruptController::line_asserted(std::uint32_t vector) const {
  std::lock_guard lock(mutex_);
  return at(vector).line;
}

void InterruptController::set_masked(std::uint32_t vector, bool masked) {
  const Locked lock(*this);
  at(vector).masked = masked;
  reevaluate(vector);
}

VectorStats InterruptController::stats(std::uint32_t vector) const {
  std::lock_guard lock(mutex_);
  const Vector& v = at(vector);
  VectorStats stats = v.stats;
  stats.raised = v.raised.load(std::memory_order_relaxed);
  stats.coalesced = v.coalesced.load(std::memory_order_relaxed);
  stats.pending = v.latched.load(std::memory_order_relaxed) ? 1 : 0;
  stats.in_service = v.in_service;
  return stats;
}

std::uint64_t InterruptController::interrupts_taken(unsigned processor) const {
  std::lock_guard lock(mutex_);
  return apics_.at(processor)->taken;
}

// ---- connection -------------------------------------------------------------------------

InterruptController::ConnectResult InterruptController::connect(InterruptObject& object) {
  const Locked lock(*this);
  Vector& v = at(object.vector);
  if (connected(v)) {
    if (!v.shareable || !object.shareable) return ConnectResult::NotShareable;
    if (v.mode != object.mode) return ConnectResult::ModeMismatch;
    if (v.irql != object.irql) return ConnectResult::IrqlMismatch;
  } else {
    v.irql = object.irql;
    v.mode = object.mode;
    v.shareable = object.shareable;
  }
  auto chain = v.chain ? std::make_shared<Chain>(*v.chain) : std::make_shared<Chain>();
  chain->push_back(&object);
  v.chain = std::move(chain);
  v.processors |= machine_.topology().processors_in(object.group, object.affinity);
  v.processor_count = v.processors.count();
  object.state.store(InterruptObject::State::Connected, std::memory_order_release);
  reevaluate(object.vector);
  return ConnectResult::Connected;
}

void InterruptController::disconnect(ExecutionContext& caller, InterruptObject& object) {
  {
    const Locked lock(*this);
    Vector& v = at(object.vector);
    auto chain = std::make_shared<Chain>();
    ProcessorSet processors;
    if (!object.active.exchange(true)) --v.inactive_objects;
    for (InterruptObject* other : *v.chain) {
      if (other == &object) continue;
      chain->push_back(other);
      processors |= machine_.topology().processors_in(other->group, other->affinity);
    }
    v.processors = processors;
    v.processor_count = processors.count();
    if (chain->empty()) {
      // Nothing can take the vector any more: withdraw it from wherever it waits, before its
      // IRQL is forgotten (reevaluate() drops a latched edge).
      if (v.routed_to >= 0) take_from_irr(static_cast<unsigned>(v.routed_to), object.vector);
      set_unrouted(object.vector, false);
      v.chain = nullptr;
      v.irql = 0;
      v.shareable = false;
    } else {
      v.chain = std::move(chain);
    }
    ++v.chain_generation;
    v.in_service_of_earlier_chains = v.in_service;
    reevaluate(object.vector);
  }
  // Every processor that accepted the vector before the chain changed may be running the
  // object's service routine; once each has signalled end of interrupt (under the same mutex,
  // which orders its ISR's effects before our return), none can be.
  const auto out_of_service = [this, &object] {
    const Locked lock(*this);
    return vectors_[object.vector].in_service_of_earlier_chains == 0;
  };
  SpinWait wait(caller, "a service routine to finish", reinterpret_cast<std::uintptr_t>(object.routine));
  while (true) {
    if (out_of_service()) return;
    // A processor unwinds when the machine halts. Any other thread keeps waiting even then:
    // the service routines the halt interrupted leave service as their frames unwind, and
    // cleanup code after a bug check must be able to disconnect.
    if (caller.processor() != nullptr) {
      caller.preemption_point();
      caller.check_still_running();
    }
    wait.pause(out_of_service);
  }
}

void InterruptController::set_active(InterruptObject& object, bool active) {
  const Locked lock(*this);
  if (object.active.exchange(active) == active) return;
  Vector& v = at(object.vector);
  if (active) {
    --v.inactive_objects;
  } else {
    ++v.inactive_objects;
  }
  reevaluate(object.vector);
}

// ---- routing ----------------------------------------------------------------------------

bool InterruptController::wants_delivery(const Vector& v) const noexcept {
  if (!connected(v) || v.masked || v.inactive_objects == v.chain->size()) return false;
  const bool level_pending = v.mode == TriggerMode::Level && v.line && v.in_service == 0;
  return v.latched.load(std::memory_order_relaxed) || level_pending;
}

void InterruptController::reevaluate(std::uint32_t vector) {
  Vector& v = vectors_[vector];
  do {
    // An unprogrammed vector ignores edges, as a masked edge-triggered I/O APIC input does:
    // none is kept for a connection that has not been made yet.
    if (!connected(v) && v.latched.exchange(false, std::memory_order_acq_rel)) {
      ++v.stats.dropped;
      if (tracer_ != nullptr) {
        tracer_->record(TraceEventKind::Drop, static_cast<std::uint16_t>(vector), 0, 0,
                        v.raised.load(std::memory_order_relaxed));
      }
    }
    const bool wanted = wants_delivery(v);
    if (!wanted) {
      v.deliverable_since.reset();
    } else if (!v.deliverable_since) {
      v.deliverable_since = machine_.uptime_ns();
    }
    if (wanted && v.routed_to < 0 && !v.unrouted) {
      route(vector);
    } else if (!wanted && v.unrouted) {
      set_unrouted(vector, false);
    }
    update_outstanding(v);
  } while (owner_released_edge(v));
}

void InterruptController::route(std::uint32_t vector) {
  Vector& v = vectors_[vector];
  if (auto target = pick_processor(v)) {
    put_in_irr(*target, vector);
    return;
  }
  // Publish first, then look again: a processor that lowered its IRQL after the first look
  // has either seen the unrouted vector or is seen here.
  set_unrouted(vector, true);
  if (auto target = pick_processor(v)) {
    set_unrouted(vector, false);
    put_in_irr(*target, vector);
  }
}

bool InterruptController::can_take(unsigned candidate, const Vector& v) {
  if (!v.processors.test(candidate)) return false;
  Processor& processor = machine_.processor(candidate);
  // A passive-level interrupt waits for the processor's idle loop whatever its IRQL.
  return !processor.stopping() && (v.irql == irql::kPassive || processor.context().published_irql() < v.irql);
}

std::optional<unsigned> InterruptController::pick_processor(const Vector& v) {
  if (Scheduler* scheduler = machine_.scheduler()) {
    // A deterministic machine's scheduler decides where the interrupt lands, whatever the policy.
    boost::container::small_vector<unsigned, 8> candidates;
    for (unsigned candidate = 0; candidate < processor_count_; ++candidate) {
      if (can_take(candidate, v)) candidates.push_back(candidate);
    }
    if (candidates.empty()) return std::nullopt;
    return scheduler->choose_target({candidates.data(), candidates.size()});
  }
  const unsigned first = policy_ == DeliveryPolicy::RoundRobin ? next_round_robin_ : 0;
  for (unsigned step = 0; step < processor_count_; ++step) {
    const unsigned candidate = (first + step) % processor_count_;
    if (!can_take(candidate, v)) continue;
    next_round_robin_ = (candidate + 1) % processor_count_;
    return candidate;
  }
  return std::nullopt;
}

void InterruptController::put_in_irr(unsigned processor, std::uint32_t vector) {
  Vector& v = vectors_[vector];
  LocalApic& apic = *apics_[processor];
  apic.irr.push_back(vector);
  ++apic.irr_by_irql[v.irql];
  machine_.processor(processor).context().set_attention(irql_bit(v.irql));
  v.routed_to = static_cast<int>(processor);
  doorbells_to_ring_.push_back(processor);
}

void InterruptController::take_from_irr(unsigned processor, std::uint32_t vector) {
  Vector& v = vectors_[vector];
  LocalApic& apic = *apics_[processor];
  std::erase(apic.irr, vector);
  if (--apic.irr_by_irql[v.irql] == 0) machine_.processor(processor).context().clear_attention(irql_bit(v.irql));
  v.routed_to = -1;
}

void InterruptController::set_unrouted(std::uint32_t vector, bool unrouted) {
  Vector& v = vectors_[vector];
  if (v.unrouted == unrouted) return;
  v.unrouted = unrouted;
  if (unrouted) {
    unrouted_.push_back(vector);
    if (unrouted_by_irql_[v.irql]++ == 0) {
      if (unrouted_irqls_.fetch_or(irql_bit(v.irql), std::memory_order_seq_cst) == 0) {
        set_unrouted_attention(true);
      }
    }
  } else {
    std::erase(unrouted_, vector);
    if (--unrouted_by_irql_[v.irql] == 0) {
      const std::uint16_t bit = irql_bit(v.irql);
      if (unrouted_irqls_.fetch_and(static_cast<std::uint16_t>(~bit), std::memory_order_seq_cst) == bit) {
        set_unrouted_attention(false);
      }
    }
  }
}

// Every processor looks at the unrouted vectors at its preemption points while there are any.
void InterruptController::set_unrouted_attention(bool any) {
  for (unsigned p = 0; p < processor_count_; ++p) {
    ExecutionContext& context = machine_.processor(p).context();
    if (any) {
      context.set_attention(attention::kUnrouted);
    } else {
      context.clear_attention(attention::kUnrouted);
    }
  }
}

void InterruptController::update_outstanding(Vector& v) {
  const bool outstanding = v.routed_to >= 0 || v.unrouted || v.in_service > 0;
  if (outstanding == v.outstanding) return;
  v.outstanding = outstanding;
  if (outstanding) {
    machine_.activity_started();
  } else {
    ++activities_finished_;  // once the mutex is released (Locked)
  }
}

// Called wherever the vector's ownership may end (see Vector::owned); true when it just has
// and an edge pulse() left to the owner is latched, which the caller must route.
bool InterruptController::owner_released_edge(Vector& v) {
  const bool owned = v.routed_to >= 0 || v.unrouted || (v.in_service > 0 && v.in_service >= v.processor_count);
  if (owned == v.owned.load(std::memory_order_relaxed)) return false;
  v.owned.store(owned, std::memory_order_seq_cst);
  return !owned && v.latched.load(std::memory_order_seq_cst);
}

// ---- processor side ---------------------------------------------------------------------

bool InterruptController::may_have_work_above(const ExecutionContext& processor, int level) const noexcept {
  const std::uint16_t above = bits_above(level);
  const std::uint32_t pending = processor.attention();
  return (pending & above) != 0 ||
         ((pending & attention::kUnrouted) != 0 && (unrouted_irqls_.load(std::memory_order_seq_cst) & above) != 0);
}

std::optional<Acceptance> InterruptController::accept(unsigned processor, int level) {
  const Locked lock(*this);
  LocalApic& apic = *apics_[processor];
  // Highest IRQL wins; within one IRQL the higher vector, as a local APIC prioritises.
  auto better = [&](std::uint32_t candidate, std::optional<std::uint32_t> best) {
    const Vector& c = vectors_[candidate];
    if (int{c.irql} <= level) return false;
    if (!best) return true;
    const Vector& b = vectors_[*best];
    return c.irql > b.irql || (c.irql == b.irql && candidate > *best);
  };
  std::optional<std::uint32_t> best;
  bool from_irr = false;
  for (std::uint32_t vector : apic.irr) {
    if (better(vector, best)) {
      best = vector;
      from_irr = true;
    }
  }
  for (std::uint32_t vector : unrouted_) {
    if (vectors_[vector].processors.test(processor) && better(vector, best)) {
      best = vector;
      from_irr = false;
    }
  }
  if (!best) return std::nullopt;

  Vector& v = vectors_[*best];
  if (from_irr) {
    take_from_irr(processor, *best);
  } else {
    set_unrouted(*best, false);
  }
  const bool took_edge = v.latched.exchange(false, std::memory_order_acq_rel);
  if (took_edge) ++v.stats.delivered_edges;
  ++v.in_service;
  ++v.stats.deliveries;
  const std::int64_t accepted_at = machine_.uptime_ns();
  std::chrono::nanoseconds latency{0};
  if (v.deliverable_since) {
    latency = std::chrono::nanoseconds(accepted_at - *v.deliverable_since);
    v.stats.latency.add(latency);
    v.deliverable_since.reset();
  }
  ++apic.taken;
  update_outstanding(v);
  if (owner_released_edge(v)) reevaluate(*best);
  // Read for the trace only: a device raising faster than the processor serves it keeps this
  // cache line busy.
  const std::uint64_t edges_raised = took_edge && tracer_ != nullptr ? v.raised.load(std::memory_order_relaxed) : 0;
  return Acceptance{*best, v.irql, v.mode, v.chain, v.chain_generation, took_edge, edges_raised, accepted_at, latency};
}

void InterruptController::abandon(const Acceptance& accepted) {
  const Locked lock(*this);
  Vector& v = vectors_[accepted.vector];
  --v.in_service;
  ++v.stats.abandoned;
  if (accepted.chain_generation != v.chain_generation) --v.in_service_of_earlier_chains;
  reevaluate(accepted.vector);
}

std::optional<std::string> InterruptController::end_of_interrupt(const Acceptance& accepted,
                                                                  const DeliveryOutcome& outcome,
                                                                  std::chrono::nanoseconds service_time) {
  const Locked lock(*this);
  Vector& v = vectors_[accepted.vector];
  --v.in_service;
  if (accepted.chain_generation != v.chain_generation) --v.in_service_of_earlier_chains;
  if (outcome.all_inactive) {
    // IoReportInterruptInactive took effect between the acceptance and the walk of the chain.
    // An interrupt with no active ISR stays pending, so the delivery is undone: its edge is
    // latched again (merging with one that arrived meanwhile), or its line is still asserted.
    --v.stats.deliveries;
    if (accepted.took_edge) {
      --v.stats.delivered_edges;
      if (v.latched.exchange(true, std::memory_order_acq_rel)) v.coalesced.fetch_add(1, std::memory_order_relaxed);
    }
    reevaluate(accepted.vector);
    return std::nullopt;
  }
  v.stats.service_time.add(service_time);
  if (outcome.unexpected) {
    ++v.stats.unexpected;
  } else if (outcome.claimed) {
    ++v.stats.claimed;
  } else {
    ++v.stats.unclaimed;
  }
  // A level line still asserted after delivery either belongs to another device on the line
  // that is next in turn, or nobody is silencing it. Unclaimed deliveries are a storm quickly;
  // claimed ones only after far more, since a busy shared line legitimately stays asserted.
  if (accepted.mode == TriggerMode::Level && v.line) {
    v.unclaimed_in_a_row = outcome.claimed ? 0 : v.unclaimed_in_a_row + 1;
    ++v.asserted_in_a_row;
    if (v.unclaimed_in_a_row >= storm_threshold_) {
      return fmt::format("stayed asserted through {} consecutive deliveries that no ISR claimed", v.unclaimed_in_a_row);
    }
    if (v.asserted_in_a_row >= std::uint64_t{storm_threshold_} * kClaimedStormFactor) {
      return fmt::format("stayed asserted through {} consecutive deliveries although ISRs claimed them",
                         v.asserted_in_a_row);
    }
  } else {
    v.unclaimed_in_a_row = 0;
    v.asserted_in_a_row = 0;
  }
  reevaluate(accepted.vector);
  return std::nullopt;
}

}  // namespace irqsim::core
