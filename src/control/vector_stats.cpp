#include "irqsim/vector_stats.hpp"

#include <fmt/format.h>

namespace irqsim {

std::string VectorStats::to_string() const {
  return fmt::format(
      "raised {} = delivered edges {} + coalesced {} + dropped {} + pending {}{}\n"
      "deliveries {} = claimed {} + unclaimed {} + unexpected {} + abandoned {} + in service {}{}\n"
      "latency: {}\nservice time: {}",
      raised, delivered_edges, coalesced, dropped, pending, edges_add_up() ? "" : "  (does not add up)", deliveries,
      claimed, unclaimed, unexpected, abandoned, in_service, deliveries_add_up() ? "" : "  (does not add up)",
      latency.to_string(), service_time.to_string());
}

}  // namespace irqsim
