#include <fmt/format.h>

#include "irqsim/bugcheck.hpp"

namespace irqsim {

namespace bugcheck {

std::string_view name(std::uint32_t code) {
  switch (code) {
    case 0x3: return "INVALID_AFFINITY_SET";
    case 0x8: return "IRQL_NOT_DISPATCH_LEVEL";
    case 0x9: return "IRQL_NOT_GREATER_OR_EQUAL";
    case 0xA: return "IRQL_NOT_LESS_OR_EQUAL";
    case 0xF: return "SPIN_LOCK_ALREADY_OWNED";
    case 0x10: return "SPIN_LOCK_NOT_OWNED";
    case 0x1D: return "NO_SPIN_LOCK_AVAILABLE";
    case 0x1E: return "KMODE_EXCEPTION_NOT_HANDLED";
    case 0x3D: return "INTERRUPT_EXCEPTION_NOT_HANDLED";
    case 0x50: return "PAGE_FAULT_IN_NONPAGED_AREA";
    case 0x81: return "SPIN_LOCK_INIT_FAILURE";
    case 0xB8: return "ATTEMPTED_SWITCH_FROM_DPC";
    case 0xC4: return "DRIVER_VERIFIER_DETECTED_VIOLATION";
    case 0xC7: return "TIMER_OR_DPC_INVALID";
    case 0xC8: return "IRQL_UNEXPECTED_VALUE";
    case 0xCC: return "PAGE_FAULT_IN_FREED_SPECIAL_POOL";
    case 0xD1: return "DRIVER_IRQL_NOT_LESS_OR_EQUAL";
    case 0xE1: return "WORKER_THREAD_RETURNED_AT_BAD_IRQL";
    case 0xF2: return "HARDWARE_INTERRUPT_STORM";
    case 0x133: return "DPC_WATCHDOG_VIOLATION";
    case 0x13B: return "PASSIVE_INTERRUPT_ERROR";
    default: return "UNKNOWN_BUG_CHECK_CODE";
  }
}

}  // namespace bugcheck

std::string BugCheckReport::to_string() const {
  const std::string where = processor ? fmt::format("processor {}", *processor)
                                      : std::string("a thread that is not a simulated processor");
  return fmt::format(
      "*** STOP: {:#010x} ({:#018x}, {:#018x}, {:#018x}, {:#018x})\n"
      "{}\n"
      "on {} at IRQL {}\n"
      "{}",
      code, parameters[0], parameters[1], parameters[2], parameters[3], name(), where, irql, rule);
}

BugCheckError::BugCheckError(BugCheckReport report)
    : std::runtime_error(report.to_string()), report_(std::move(report)) {}

}  // namespace irqsim
