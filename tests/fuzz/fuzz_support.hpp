#pragma once
// What the libFuzzer harnesses share: reading an input as a stream of decisions, reporting a
// broken invariant so that libFuzzer records the input, and the machines and devices decoded
// from an input.

#include <wdm.h>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <irqsim/bugcheck.hpp>
#include <irqsim/device.hpp>
#include <irqsim/machine.hpp>

#include "connect_ex_parameters.hpp"

namespace irqsim_fuzz {

// The input as a sequence of decisions, read from the front. Past the end every read gives 0,
// so a prefix of an input (what libFuzzer tries when it shrinks one) is still a whole input,
// and the seed files can be written byte by byte in the order the harness reads them.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}

  [[nodiscard]] bool exhausted() const noexcept { return bytes_.empty(); }

  // Little-endian.
  template <std::unsigned_integral T>
  T take() {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T) && !bytes_.empty(); ++i) {
      value = static_cast<T>(value | static_cast<T>(static_cast<T>(bytes_.front()) << (8 * i)));
      bytes_ = bytes_.subspan(1);
    }
    return value;
  }
  bool flag() { return (take<std::uint8_t>() & 1) != 0; }
  // True for one byte value in four; false for 0, so that zeros keep the documented choice.
  bool rarely() { return take<std::uint8_t>() >= 0xC0; }
  // 0 .. count-1, for count <= 256.
  std::size_t below(std::size_t count) { return take<std::uint8_t>() % count; }
  template <class T, std::size_t N>
  T pick(const std::array<T, N>& choices) {
    return choices[below(N)];
  }
  // An IRQL: mostly 0..15, sometimes a value no IRQL has.
  KIRQL irql() {
    const auto value = take<std::uint8_t>();
    return static_cast<KIRQL>(value >= 0xF0 ? value : value % (HIGH_LEVEL + 1));
  }

 private:
  std::span<const std::uint8_t> bytes_;
};

// A broken invariant: a trap is what libFuzzer reports as a crash and saves the input for.
[[noreturn]] inline void fail(std::string_view what) {
  fmt::print(stderr, "irqsim fuzz: invariant broken: {}\n", what);
  __builtin_trap();
}

// The message is formatted only when the invariant is broken: the harnesses check thousands of
// them per second.
template <class... Args>
void require(bool holds, fmt::format_string<Args...> what, Args&&... args) {
  if (!holds) fail(fmt::format(what, std::forward<Args>(args)...));
}

template <class T>
bool one_of(T value, std::initializer_list<T> allowed) {
  for (const T& candidate : allowed) {
    if (candidate == value) return true;
  }
  return false;
}

// A bug check must leave the machine halted with the same report, under a documented code
// (bugcheck.hpp names every code irqsim raises).
inline void require_reported(const irqsim::Machine& machine, const irqsim::BugCheckReport& report) {
  require(machine.halted(), "a bug check did not halt the machine:\n{}", report.to_string());
  const auto kept = machine.bug_check();
  require(kept.has_value() && kept->code == report.code, "the machine keeps another report than it threw:\n{}",
          report.to_string());
  require(report.name() != "UNKNOWN_BUG_CHECK_CODE", "an undocumented bug-check code:\n{}", report.to_string());
}

// Vectors come from a narrow window, so that lines and messages of different devices land on
// one vector often: the sharing, trigger-mode and IRQL conflicts are what connection must sort out.
inline constexpr std::uint32_t kVectorBase = 0x40;
inline constexpr std::uint32_t kVectorWindow = 12;
// Enough messages for every message path (MSI blocks of 1..8, MSI-X tables) while each input
// stays quick.
inline constexpr std::size_t kMaxMessages = 8;

// Small machines (1..4 processors, sometimes in several groups), so that affinity masks and
// groups miss processors often. The interrupt objects are few (16 for a 0 byte, down to 1), so
// that running out of them (STATUS_INSUFFICIENT_RESOURCES) happens too.
inline irqsim::MachineConfig machine_config(Input& in, unsigned storm_threshold) {
  irqsim::MachineConfig config;
  config.processors = 1 + static_cast<unsigned>(in.below(4));
  const auto group_size = static_cast<unsigned>(in.below(4));
  config.processors_per_group = group_size == 0 ? 64 : group_size;
  config.delivery = in.flag() ? irqsim::DeliveryPolicy::LowestNumbered : irqsim::DeliveryPolicy::RoundRobin;
  config.interrupt_object_capacity = 16 - in.below(16);
  config.storm_threshold = storm_threshold;
  // Low-importance DPCs wait for a clock tick: a short one keeps every wait short.
  config.clock_tick = std::chrono::milliseconds(1);
  return config;
}

inline std::uint32_t window_vector(Input& in) {
  return kVectorBase + static_cast<std::uint32_t>(in.below(kVectorWindow));
}
inline irqsim::Irql device_irql(Input& in) {
  return static_cast<irqsim::Irql>(irqsim::irql::kDeviceLowest + in.below(10));
}
// Mostly every processor; otherwise a small mask that may name none that exists (plug rejects it).
inline std::uint64_t affinity(Input& in) { return in.rarely() ? in.take<std::uint8_t>() : ~std::uint64_t{0}; }
// Mostly group 0, which every machine has.
inline std::uint16_t group(Input& in) { return in.rarely() ? 1 : 0; }

// A device as its configuration is decoded from the input: 0..3 lines (a 0 byte gives one), and
// no messages, an MSI block or an MSI-X table. Machine::plug may reject it (std::invalid_argument)
// as documented.
inline irqsim::DeviceConfig device_config(Input& in, std::string name) {
  irqsim::DeviceConfig config{.name = std::move(name)};
  for (std::size_t lines = (in.below(4) + 1) % 4; lines > 0; --lines) {
    config.lines.push_back({.vector = window_vector(in),
                            .irql = device_irql(in),
                            .trigger = in.flag() ? irqsim::Trigger::Latched : irqsim::Trigger::Level,
                            .shareable = in.flag(),
                            .group = group(in),
                            .affinity = affinity(in)});
  }
  switch (in.below(3)) {
    case 0:
      break;
    case 1: {
      config.message_kind = irqsim::MessageKind::Msi;
      const std::size_t count = std::size_t{1} << in.below(4);
      const irqsim::MessageConfig first{.vector = window_vector(in),
                                        .irql = device_irql(in),
                                        .group = group(in),
                                        .affinity = affinity(in)};
      for (std::size_t id = 0; id < count; ++id) {
        irqsim::MessageConfig message = first;
        message.vector += static_cast<std::uint32_t>(id);
        config.messages.push_back(message);
      }
      break;
    }
    default:
      config.message_kind = irqsim::MessageKind::MsiX;
      for (std::size_t count = 1 + in.below(kMaxMessages); count > 0; --count) {
        config.messages.push_back({.vector = window_vector(in),
                                   .irql = device_irql(in),
                                   .group = group(in),
                                   .affinity = affinity(in)});
      }
      break;
  }
  return config;
}

// Where a WDK call is made from: the fuzzer's own thread (a caller that is not a simulated
// processor), or a simulated processor through Machine::run_on; either at `irql`, raised with
// KeRaiseIrql first.
struct Caller {
  std::optional<unsigned> processor;
  KIRQL irql = PASSIVE_LEVEL;
};

// Mostly PASSIVE_LEVEL, where the connection routines must be called; sometimes above it.
inline Caller caller(Input& in, const irqsim::Machine& machine) {
  Caller result;
  if (in.flag()) result.processor = static_cast<unsigned>(in.below(machine.processor_count()));
  if (in.rarely()) result.irql = in.pick(std::array<KIRQL, 3>{APC_LEVEL, DISPATCH_LEVEL, 5});
  return result;
}

// Runs `f` as `caller`. A bug check in `f` leaves the IRQL raised: the machine is halted then,
// and a halted machine is never used again.
template <class F>
auto call_as(irqsim::Machine& machine, const Caller& caller, F&& f) -> std::invoke_result_t<F&> {
  const auto at_irql = [&caller, &f]() -> std::invoke_result_t<F&> {
    KIRQL old = PASSIVE_LEVEL;
    KeRaiseIrql(caller.irql, &old);
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      f();
      KeLowerIrql(old);
    } else {
      auto result = f();
      KeLowerIrql(old);
      return result;
    }
  };
  if (!caller.processor) return at_irql();
  return machine.run_on(*caller.processor, at_irql);
}

// ---- IoConnectInterruptEx ------------------------------------------------------------------------

// What IoDisconnectInterruptEx takes as the context of a Version: the interrupt object, the
// message table, or nothing (a Version no connect returns).
enum class ContextKind { Object, Table, None };

inline ContextKind kind_of(ULONG version) {
  switch (version) {
    case CONNECT_FULLY_SPECIFIED:
    case CONNECT_FULLY_SPECIFIED_GROUP:
    case CONNECT_LINE_BASED:
      return ContextKind::Object;
    case CONNECT_MESSAGE_BASED:
    case CONNECT_MESSAGE_BASED_PASSIVE:
      return ContextKind::Table;
    default:
      return ContextKind::None;
  }
}

// The statuses wdm.h documents for IoConnectInterruptEx with this Version (as given, before the
// call rewrites it).
inline void require_documented_status(ULONG version, NTSTATUS status) {
  const auto code = static_cast<ULONG>(status);
  switch (version) {
    case CONNECT_FULLY_SPECIFIED:
    case CONNECT_FULLY_SPECIFIED_GROUP:
      require(one_of(status, {STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER_10, STATUS_NOT_FOUND,
                              STATUS_INSUFFICIENT_RESOURCES}),
              "fully specified: undocumented status {:#x}", code);
      break;
    case CONNECT_LINE_BASED:
      require(one_of(status, {STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_INVALID_DEVICE_REQUEST,
                              STATUS_INSUFFICIENT_RESOURCES}),
              "line based: undocumented status {:#x}", code);
      break;
    case CONNECT_MESSAGE_BASED:
    case CONNECT_MESSAGE_BASED_PASSIVE:
      require(one_of(status,
                     {STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_INSUFFICIENT_RESOURCES}),
              "message based: undocumented status {:#x}", code);
      break;
    default:
      require(status == STATUS_INVALID_PARAMETER_1, "Version {:#x}: {:#x} instead of STATUS_INVALID_PARAMETER_1",
              version, code);
      break;
  }
}

}  // namespace irqsim_fuzz
