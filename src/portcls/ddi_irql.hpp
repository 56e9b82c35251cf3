#pragma once
// The IRQL rule every port-class DDI shares: Driver Verifier's PcIrqlDDIs (0xC4 / 0x00071001).

#include <string_view>

#include "wdk/kernel_call.hpp"

namespace irqsim::portcls {

inline void require_passive(std::string_view api) {
  wdk::require_irql_at_most(wdk::enter(), PASSIVE_LEVEL, bugcheck::kRulePcIrqlDdis, api);
}

}  // namespace irqsim::portcls
