#include "control/duration_text.hpp"

#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace irqsim::control {

namespace {

struct Unit {
  std::string_view name;
  double nanoseconds;
};

constexpr std::array<Unit, 3> kUnits{{{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}}};

}  // namespace

std::string duration_text(std::chrono::nanoseconds duration) {
  const double nanoseconds = static_cast<double>(duration.count());
  if (std::abs(nanoseconds) < 1000) return fmt::format("{} ns", duration.count());
  // 999.7 us rounds to 1000 at three digits: it reads better as 1.00 ms.
  const Unit* unit = &kUnits.back();
  for (const Unit& candidate : kUnits) {
    if (std::abs(nanoseconds) / candidate.nanoseconds < 999.5) {
      unit = &candidate;
      break;
    }
  }
  const double value = nanoseconds / unit->nanoseconds;
  const int decimals = std::abs(value) < 9.995 ? 2 : std::abs(value) < 99.95 ? 1 : 0;
  return fmt::format("{:.{}f} {}", value, decimals, unit->name);
}

}  // namespace irqsim::control
