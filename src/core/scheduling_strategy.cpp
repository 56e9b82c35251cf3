#include "core/scheduling_strategy.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

namespace irqsim::core {

std::uint64_t below(std::mt19937_64& engine, std::uint64_t n) {
  // 2^64 mod n: the lowest outputs, past which the rest split evenly among the n results. Taking
  // them too would favour the small results.
  const std::uint64_t skip = (0 - n) % n;
  for (;;) {
    if (const std::uint64_t value = engine(); value >= skip) return value % n;
  }
}

namespace {

unsigned pick(std::mt19937_64& engine, std::span<const unsigned> among) { return among[below(engine, among.size())]; }

class RandomStrategy final : public SchedulingStrategy {
 public:
  explicit RandomStrategy(std::uint64_t seed) : engine_(seed) {}

  unsigned next(std::span<const unsigned> runnable, unsigned /*current*/) override { return pick(engine_, runnable); }
  unsigned target(std::span<const unsigned> candidates) override { return pick(engine_, candidates); }

 private:
  std::mt19937_64 engine_;
};

// Burckhardt et al.'s PCT. Priorities and change points are drawn before the run, whatever it
// then does: the paper's bound (a bug of depth d found with probability at least 1/(n * k^(d-1)))
// rests on that independence.
class PctStrategy final : public SchedulingStrategy {
 public:
  PctStrategy(const Schedule& schedule, unsigned participants) : engine_(schedule.seed), priorities_(participants) {
    std::iota(priorities_.begin(), priorities_.end(), std::int64_t{0});
    for (std::size_t i = priorities_.size(); i > 1; --i) std::swap(priorities_[i - 1], priorities_[below(engine_, i)]);

    // Floyd's sampling: k distinct decisions out of 1..pct_steps in k draws, however many steps.
    // The count, not `last`, ends the loop: `last` would wrap past a pct_steps of 2^64 - 1.
    const std::uint64_t steps = schedule.pct_steps;
    const std::uint64_t count = std::min<std::uint64_t>(schedule.pct_depth - 1, steps);
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t last = steps - count + 1 + i;
      const std::uint64_t drawn = 1 + below(engine_, last);
      const bool taken = std::find(change_points_.begin(), change_points_.end(), drawn) != change_points_.end();
      change_points_.push_back(taken ? last : drawn);
    }
    std::sort(change_points_.begin(), change_points_.end());
  }

  unsigned next(std::span<const unsigned> runnable, unsigned current) override {
    ++decisions_;
    if (passed_ < change_points_.size() && change_points_[passed_] == decisions_) {
      ++passed_;
      priorities_[current] = --lowest_;
    }
    return *std::max_element(runnable.begin(), runnable.end(),
                             [this](unsigned a, unsigned b) { return priorities_[a] < priorities_[b]; });
  }

  unsigned target(std::span<const unsigned> candidates) override { return pick(engine_, candidates); }

 private:
  std::mt19937_64 engine_;
  // By participant; a priority is unique, so "the highest runnable" is never a tie.
  std::vector<std::int64_t> priorities_;
  // The lowest priority given so far; a change point hands out the one below it.
  std::int64_t lowest_ = 0;
  std::vector<std::uint64_t> change_points_;  // ascending
  std::size_t passed_ = 0;
  std::uint64_t decisions_ = 0;
};

}  // namespace

std::unique_ptr<SchedulingStrategy> SchedulingStrategy::make(const Schedule& schedule, unsigned participants) {
  if (schedule.strategy == ScheduleStrategy::Pct) {
    if (schedule.pct_depth < 1) throw std::invalid_argument("irqsim: pct_depth must be at least 1");
    return std::make_unique<PctStrategy>(schedule, participants);
  }
  return std::make_unique<RandomStrategy>(schedule.seed);
}

}  // namespace irqsim::core
