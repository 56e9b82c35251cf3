#include "core/topology.hpp"

#include <algorithm>

namespace irqsim::core {

unsigned Topology::group_size(std::uint16_t group) const noexcept {
  const unsigned first = unsigned{group} * per_group_;
  return first >= processors_ ? 0 : std::min(per_group_, processors_ - first);
}

std::uint64_t Topology::active_mask(std::uint16_t group) const noexcept {
  const unsigned size = group_size(group);
  return size == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << size) - 1;
}

ProcessorSet Topology::processors_in(std::uint16_t group, std::uint64_t mask) const noexcept {
  ProcessorSet set;
  const std::uint64_t present = mask & active_mask(group);
  const unsigned first = unsigned{group} * per_group_;
  for (unsigned bit = 0; bit < 64; ++bit) {
    if ((present >> bit & 1u) != 0) set.set(first + bit);
  }
  return set;
}

}  // namespace irqsim::core
