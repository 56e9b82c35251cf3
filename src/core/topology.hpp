#pragma once
// How a machine numbers its processors: system-wide indexes 0..N-1, split into processor
// groups of at most 64 (a KAFFINITY has 64 bits). Group g holds the indexes
// g*per_group .. g*per_group + per_group - 1; the last group may be smaller.

#include <bitset>
#include <cstdint>
#include <optional>

#include "irqsim/machine.hpp"

namespace irqsim::core {

using ProcessorSet = std::bitset<irqsim::Machine::kMaxProcessors>;

class Topology {
 public:
  Topology(unsigned processors, unsigned per_group) : processors_(processors), per_group_(per_group) {}

  [[nodiscard]] unsigned processor_count() const noexcept { return processors_; }
  [[nodiscard]] unsigned group_count() const noexcept { return (processors_ + per_group_ - 1) / per_group_; }
  [[nodiscard]] std::uint16_t group_of(unsigned index) const noexcept {
    return static_cast<std::uint16_t>(index / per_group_);
  }
  [[nodiscard]] unsigned number_in_group(unsigned index) const noexcept { return index % per_group_; }
  [[nodiscard]] unsigned group_size(std::uint16_t group) const noexcept;
  // The system-wide index of processor `number` of `group`, if the machine has it.
  [[nodiscard]] std::optional<unsigned> index_of(std::uint16_t group, unsigned number) const noexcept {
    if (number >= group_size(group)) return std::nullopt;
    return group * per_group_ + number;
  }
  // The processors of `group` as a KAFFINITY; 0 for a group the machine does not have.
  [[nodiscard]] std::uint64_t active_mask(std::uint16_t group) const noexcept;
  // The processors of `group` whose bits are set in `mask` (bits without a processor ignored).
  [[nodiscard]] ProcessorSet processors_in(std::uint16_t group, std::uint64_t mask) const noexcept;

 private:
  unsigned processors_;
  unsigned per_group_;
};

}  // namespace irqsim::core
