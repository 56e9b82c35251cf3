#pragma once
// A deterministic machine's scheduling decisions, made from its Schedule's seed: who runs after
// each decision point, and where each interrupt lands. The same seed makes the same decisions on
// every platform, so that a failing seed found on one machine replays on another.

#include <cstdint>
#include <memory>
#include <random>
#include <span>

#include "irqsim/schedule.hpp"

namespace irqsim::core {

// A uniform value in [0, n), n > 0. The standard fixes mt19937_64's output but leaves
// uniform_int_distribution's (and so std::shuffle's) to the library: this is what keeps a seed's
// decisions the same everywhere.
[[nodiscard]] std::uint64_t below(std::mt19937_64& engine, std::uint64_t n);

class SchedulingStrategy {
 public:
  virtual ~SchedulingStrategy() = default;

  // Who runs after a decision point. `runnable`: sorted ascending, non-empty participant ids
  // (0..participants-1). `current`: the participant making the decision; it may or may not be in
  // `runnable` (it is not when it is about to block).
  virtual unsigned next(std::span<const unsigned> runnable, unsigned current) = 0;
  // Which processor an interrupt lands on among `candidates` (sorted ascending, non-empty).
  virtual unsigned target(std::span<const unsigned> candidates) = 0;

  // The strategy the schedule names, for `participants` participants. Throws
  // std::invalid_argument for a PCT depth below 1.
  static std::unique_ptr<SchedulingStrategy> make(const Schedule& schedule, unsigned participants);
};

}  // namespace irqsim::core
