#include "wdk/kernel_call.hpp"

#include <fmt/format.h>

#include "core/machine.hpp"

namespace irqsim::wdk {

core::ExecutionContext& enter() {
  core::ExecutionContext& context = core::current_context();
  context.preemption_point();
  return context;
}

void bug_check(core::ExecutionContext& context, std::uint32_t code, std::array<std::uint64_t, 4> parameters,
               std::string rule) {
  context.machine().bug_check(context, code, parameters, std::move(rule));
}

unsigned storm_threshold(const core::ExecutionContext& context) { return context.machine().config().storm_threshold; }

std::string irql_name(Irql level) {
  switch (level) {
    case irql::kPassive: return "PASSIVE_LEVEL (0)";
    case irql::kApc: return "APC_LEVEL (1)";
    case irql::kDispatch: return "DISPATCH_LEVEL (2)";
    case irql::kClock: return "CLOCK_LEVEL (13)";
    case irql::kIpi: return "IPI_LEVEL (14)";
    case irql::kHigh: return "HIGH_LEVEL (15)";
    default: return fmt::format("{}", level);
  }
}

namespace {

// Driver Verifier's DDI-compliance codes (0x0002xxxx) pass a pointer to a description of the
// broken rule as parameter 2; the classic IRQL codes pass the current IRQL.
std::uint64_t second_parameter(std::uint64_t verifier_code, Irql current) {
  switch (verifier_code) {
    case bugcheck::kRuleIrqlIoPassive2:
      return address("IrqlIoPassive2: IoConnectInterrupt is called only at PASSIVE_LEVEL");
    case bugcheck::kRuleIrqlIoPassive4:
      return address("IrqlIoPassive4: IoDisconnectInterrupt is called only at PASSIVE_LEVEL");
    case bugcheck::kRuleIrqlKeApcLte1:
      return address("IrqlKeApcLte1: KeQueryActiveProcessors is called only at IRQL <= APC_LEVEL");
    case bugcheck::kRuleIrqlKeDispatchLte:
      return address("IrqlKeDispatchLte: KeRaiseIrqlToDpcLevel is called only at IRQL <= DISPATCH_LEVEL");
    case bugcheck::kRulePcIrqlDdis:
      return address("PcIrqlDDIs: a port-class DDI is called only at the IRQL it allows (PASSIVE_LEVEL for the "
                     "factories and for IInterruptSync::Connect, Disconnect and RegisterServiceRoutine)");
    default:
      return current;
  }
}

}  // namespace

void require_irql_at_most(core::ExecutionContext& context, Irql highest, std::uint64_t verifier_code,
                          std::string_view api, std::uint64_t parameter3) {
  const Irql current = context.irql();
  if (current <= highest) return;
  const std::string rule = fmt::format("{} was called at IRQL {}, but it may be called only at IRQL <= {}.", api,
                                       irql_name(current), irql_name(highest));
  bug_check(context, bugcheck::kDriverVerifierDetectedViolation,
            {verifier_code, second_parameter(verifier_code, current), parameter3, 0}, rule);
}

void require_irql_at_least(core::ExecutionContext& context, Irql lowest, std::uint64_t verifier_code,
                           std::string_view api, std::uint64_t parameter3) {
  const Irql current = context.irql();
  if (current >= lowest) return;
  const std::string rule = fmt::format("{} was called at IRQL {}, but it may be called only at IRQL >= {}.", api,
                                       irql_name(current), irql_name(lowest));
  bug_check(context, bugcheck::kDriverVerifierDetectedViolation,
            {verifier_code, second_parameter(verifier_code, current), parameter3, 0}, rule);
}

void require_irql_not_above(core::ExecutionContext& context, Irql level, std::string_view level_name,
                            std::string_view api, std::uint64_t parameter3) {
  const Irql current = context.irql();
  if (current <= level) return;
  bug_check(context, bugcheck::kIrqlNotGreaterOrEqual, {current, level, parameter3, 0},
            fmt::format("{} was called at IRQL {}, above the interrupt's {} {}; it may be called only at IRQL <= {}.",
                        api, irql_name(current), level_name, irql_name(level), level_name));
}

void require_pointer(core::ExecutionContext& context, const void* pointer, std::string_view api,
                     std::string_view parameter) {
  if (pointer != nullptr) return;
  const Irql current = context.irql();
  const std::string rule = fmt::format("{} was passed a NULL {} and dereferenced it at IRQL {}.", api, parameter,
                                       irql_name(current));
  constexpr std::uint64_t kWrite = 1;
  if (current >= irql::kDispatch) bug_check(context, bugcheck::kIrqlNotLessOrEqual, {0, current, kWrite, 0}, rule);
  bug_check(context, bugcheck::kPageFaultInNonpagedArea, {0, kWrite, 0, 0}, rule);
}

void lower_irql(core::ExecutionContext& context, Irql level, std::string_view api) {
  const Irql current = context.irql();
  if (level > current) {
    bug_check(context, bugcheck::kDriverVerifierDetectedViolation,
              {bugcheck::kVerifierLowerToHigherIrql, current, level, 0},
              fmt::format("{} was asked to lower the IRQL from {} to {}, which is higher; the new IRQL must be "
                          "the one saved when it was raised.",
                          api, irql_name(current), irql_name(level)));
  }
  if (context.in_dpc_routine() && level < irql::kDispatch) {
    constexpr std::uint64_t kInsideDpcRoutine = 1;
    bug_check(context, bugcheck::kDriverVerifierDetectedViolation,
              {bugcheck::kVerifierLowerToHigherIrql, current, level, kInsideDpcRoutine},
              fmt::format("{} lowered the IRQL to {} inside a DPC routine, which runs at DISPATCH_LEVEL (2) and must "
                          "not lower it.",
                          api, irql_name(level)));
  }
  if (auto held = context.highest_held_lock_level(); held && level < *held) {
    bug_check(context, bugcheck::kSpinLockAlreadyOwned, {0, 0, 0, 0},
              fmt::format("{} lowered the IRQL to {} while a spin lock used at IRQL {} is still held; release "
                          "the lock before lowering the IRQL below its level.",
                          api, irql_name(level), irql_name(*held)));
  }
  context.lower_to(level);
}

}  // namespace irqsim::wdk
