// IoConnectInterruptEx with a parameter block decoded from the input: every Version (invalid
// ones too) with the union member it selects, with IRQLs, masks, groups, vectors, sharing and
// modes that may be wrong, and each pointer chosen from what the simulator can tell apart (NULL,
// the right one, another device's PDO, an object of another kind). A connection that succeeds
// is served once and disconnected, with the matching parameters or with mismatched ones.
//
// What must hold: the status is one the documentation gives for that Version; a failed connect
// connects nothing; a successful one hands out what the documentation says and its ISR runs at
// the IRQL it promises; a disconnect works or is the documented bug check, and afterwards the
// ISR never runs again; the interrupt connected before the fuzzed call (the "resident" one)
// still works. A bug check ends the machine: the same bench is built again and must work.

#include <wdm.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>

#include "fuzz_support.hpp"

namespace {

using irqsim::BugCheckError;
using irqsim::BugCheckReport;
using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::Machine;
using irqsim::MachineConfig;
using namespace irqsim_fuzz;
namespace bugcheck = irqsim::bugcheck;

constexpr std::chrono::seconds kSettle{10};
// A storm is not what this harness looks for: the threshold stays far above the few edges it raises.
constexpr unsigned kStormThreshold = 1000;
// The entry of Calls::irqls for KSERVICE_ROUTINE calls, after those of the message IDs.
constexpr std::size_t kLineSlot = kMaxMessages;

// What the ISRs saw. They run on processor threads, so everything is atomic.
struct Calls {
  std::atomic<unsigned> fuzzed{0};
  std::atomic<unsigned> resident{0};
  // How many more calls the fuzzed ISRs claim. A latched shared chain is walked again until a
  // pass in which no ISR claims, so an ISR that claims every call is the documented storm; a
  // budget of one claim per edge raised is a driver that claims only its device's interrupts.
  std::atomic<unsigned> claims_left{0};
  // Bit L of entry i: a call of the message ISR for message i (or of the ISR, kLineSlot) at IRQL L.
  std::array<std::atomic<std::uint32_t>, kMaxMessages + 1> irqls{};
  std::atomic<bool> message_id_out_of_range{false};

  bool claim() {
    unsigned left = claims_left.load();
    while (left > 0 && !claims_left.compare_exchange_weak(left, left - 1)) {
    }
    return left > 0;
  }

  void reset() {
    fuzzed = 0;
    resident = 0;
    claims_left = 0;
    for (auto& seen : irqls) seen = 0;
    message_id_out_of_range = false;
  }
};

// The ISRs find it without a context, because the fuzzed ServiceContext may be NULL or anything.
Calls calls;

BOOLEAN FuzzedIsr(PKINTERRUPT, PVOID) {
  calls.fuzzed.fetch_add(1);
  calls.irqls[kLineSlot].fetch_or(1u << KeGetCurrentIrql());
  return calls.claim() ? TRUE : FALSE;
}

BOOLEAN FuzzedMessageIsr(PKINTERRUPT, PVOID, ULONG message_id) {
  calls.fuzzed.fetch_add(1);
  if (message_id >= kMaxMessages) {
    calls.message_id_out_of_range = true;
  } else {
    calls.irqls[message_id].fetch_or(1u << KeGetCurrentIrql());
  }
  return calls.claim() ? TRUE : FALSE;
}

// FALSE, so that the ISRs chained after it on a shared vector run too.
BOOLEAN ResidentIsr(PKINTERRUPT, PVOID) {
  calls.resident.fetch_add(1);
  return FALSE;
}

// A machine with the fuzzed device and a second, "resident" device whose one latched line has
// an ISR connected before the fuzzed call.
struct Bench {
  Bench(const MachineConfig& machine_setup, const DeviceConfig& fuzzed_setup, const DeviceConfig& resident_setup)
      : machine(machine_setup),
        fuzzed_config(fuzzed_setup),
        resident_config(resident_setup),
        fuzzed(machine.plug(fuzzed_config)),
        resident(machine.plug(resident_config)) {
    IO_CONNECT_INTERRUPT_PARAMETERS p{};
    p.Version = CONNECT_LINE_BASED;
    p.LineBased.PhysicalDeviceObject = resident.pdo();
    p.LineBased.InterruptObject = &resident_interrupt;
    p.LineBased.ServiceRoutine = ResidentIsr;
    const NTSTATUS status = IoConnectInterruptEx(&p);
    require(status == STATUS_SUCCESS, "connecting the resident ISR failed: {:#x}", static_cast<ULONG>(status));
  }

  // Each interrupt of both devices once, served before this returns.
  void raise_everything() {
    for (std::size_t line = 0; line < fuzzed_config.lines.size(); ++line) fuzzed.pulse_line(line);
    for (std::uint32_t id = 0; id < fuzzed_config.messages.size(); ++id) fuzzed.signal_message(id);
    resident.pulse_line(0);
    settle();
  }

  void settle() {
    try {
      machine.wait_until_quiescent(kSettle);
    } catch (const irqsim::TimeoutError& timeout) {
      fail(fmt::format("a hang: {}", timeout.what()));
    }
  }

  // Checked once the fuzzed connection is gone, so that no claiming ISR stands before it.
  void require_resident_intact() {
    GROUP_AFFINITY affinity{};
    require(IoGetAffinityInterrupt(resident_interrupt, &affinity) == STATUS_SUCCESS,
            "the resident interrupt object was lost");
    const unsigned before = calls.resident.load();
    resident.pulse_line(0);
    settle();
    require(calls.resident.load() > before, "the resident ISR no longer runs for its line");
    IO_DISCONNECT_INTERRUPT_PARAMETERS p{};
    p.Version = CONNECT_LINE_BASED;
    p.ConnectionContext.InterruptObject = resident_interrupt;
    IoDisconnectInterruptEx(&p);
  }

  // The configuration of the device whose PDO `pdo` is, if it is one of the two.
  [[nodiscard]] const DeviceConfig* config_of(PDEVICE_OBJECT pdo) const {
    if (pdo == fuzzed.pdo()) return &fuzzed_config;
    if (pdo == resident.pdo()) return &resident_config;
    return nullptr;
  }

  Machine machine;
  DeviceConfig fuzzed_config;
  DeviceConfig resident_config;
  Device fuzzed;
  Device resident;
  PKINTERRUPT resident_interrupt = nullptr;
};

// The pointers a parameter block may carry, each one the simulator can recognise for what it is.
struct Pointers {
  KSPIN_LOCK lock = 0;
  // Never initialised: an ISR run under it is bug check 0x81.
  KSPIN_LOCK garbage_lock = 0x5A5A'5A5A'5A5A'5A5A;
  // A driver's own device object: a device object, but no simulated device's PDO.
  DEVICE_OBJECT functional_device{};
  PVOID connection = nullptr;
  PKSPIN_LOCK chosen_lock = nullptr;

  // What the out parameter holds before the call, so that a write to it shows.
  [[nodiscard]] PVOID untouched() { return &functional_device; }
};

PDEVICE_OBJECT decode_pdo(Input& in, Bench& bench, Pointers& pointers) {
  return in.pick(std::array<PDEVICE_OBJECT, 5>{bench.fuzzed.pdo(), bench.fuzzed.pdo(), bench.resident.pdo(), nullptr,
                                               &pointers.functional_device});
}
PKSPIN_LOCK decode_lock(Input& in, Pointers& pointers) {
  pointers.chosen_lock = in.pick(std::array<PKSPIN_LOCK, 4>{nullptr, nullptr, &pointers.lock, &pointers.garbage_lock});
  return pointers.chosen_lock;
}
PVOID decode_context(Input& in, Pointers& pointers) {
  return in.pick(std::array<PVOID, 3>{&calls, nullptr, &pointers.functional_device});
}
template <class Routine>
Routine decode_routine(Input& in, Routine routine) {
  return in.rarely() ? nullptr : routine;
}

// Filled from one of the device's translated descriptors as the documentation says, then any
// field may be replaced by a wrong one.
void decode_fully_specified(Input& in, Bench& bench, Pointers& pointers,
                            IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS& f) {
  f.PhysicalDeviceObject = decode_pdo(in, bench, pointers);
  f.InterruptObject = in.rarely() ? nullptr : reinterpret_cast<PKINTERRUPT*>(&pointers.connection);
  f.ServiceRoutine = decode_routine(in, &FuzzedIsr);
  f.ServiceContext = decode_context(in, pointers);
  f.SpinLock = decode_lock(in, pointers);
  const irqsim::Device& device = f.PhysicalDeviceObject == bench.resident.pdo() ? bench.resident : bench.fuzzed;
  const auto descriptors = irqsim_test::InterruptDescriptors(device.translated_resources());
  if (!descriptors.empty()) irqsim_test::FillFromDescriptor(descriptors[in.below(descriptors.size())], f);
  if (in.rarely()) f.Vector = in.flag() ? window_vector(in) : in.take<std::uint32_t>();
  if (in.rarely()) f.Irql = in.irql();
  if (in.rarely()) f.SynchronizeIrql = in.irql();
  if (in.rarely()) f.InterruptMode = static_cast<KINTERRUPT_MODE>(static_cast<int>(in.below(4)) - 1);
  if (in.rarely()) f.ShareVector = in.take<std::uint8_t>();
  if (in.rarely()) f.ProcessorEnableMask = in.take<std::uint64_t>();
  if (in.rarely()) f.Group = in.take<std::uint16_t>();
  f.FloatingSave = in.take<std::uint8_t>();
}

void decode_line_based(Input& in, Bench& bench, Pointers& pointers, IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS& l) {
  l.PhysicalDeviceObject = decode_pdo(in, bench, pointers);
  l.InterruptObject = in.rarely() ? nullptr : reinterpret_cast<PKINTERRUPT*>(&pointers.connection);
  l.ServiceRoutine = decode_routine(in, &FuzzedIsr);
  l.ServiceContext = decode_context(in, pointers);
  l.SpinLock = decode_lock(in, pointers);
  l.SynchronizeIrql = in.rarely() ? in.irql() : PASSIVE_LEVEL;
  l.FloatingSave = in.take<std::uint8_t>();
}

void decode_message_based(Input& in, Bench& bench, Pointers& pointers,
                          IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS& m) {
  m.PhysicalDeviceObject = decode_pdo(in, bench, pointers);
  m.ConnectionContext.Generic = in.rarely() ? nullptr : &pointers.connection;
  m.MessageServiceRoutine = decode_routine(in, &FuzzedMessageIsr);
  m.ServiceContext = decode_context(in, pointers);
  m.SpinLock = decode_lock(in, pointers);
  m.SynchronizeIrql = in.rarely() ? in.irql() : PASSIVE_LEVEL;
  m.FloatingSave = in.take<std::uint8_t>();
  m.FallBackServiceRoutine = in.flag() ? &FuzzedIsr : nullptr;
}

// The Version, then the union member it selects (none for an unknown Version). Never another
// member: its routines would be called through pointers of the wrong type, and one member's
// integers read as another's routine, which no kernel survives either.
IO_CONNECT_INTERRUPT_PARAMETERS decode_parameters(Input& in, Bench& bench, Pointers& pointers) {
  IO_CONNECT_INTERRUPT_PARAMETERS p{};
  const std::size_t version = in.below(8);
  p.Version = version < 7 ? static_cast<ULONG>((version + 1) % 7) : in.take<std::uint32_t>();
  pointers.connection = pointers.untouched();
  switch (p.Version) {
    case CONNECT_FULLY_SPECIFIED:
    case CONNECT_FULLY_SPECIFIED_GROUP:
      decode_fully_specified(in, bench, pointers, p.FullySpecified);
      break;
    case CONNECT_LINE_BASED:
      decode_line_based(in, bench, pointers, p.LineBased);
      break;
    case CONNECT_MESSAGE_BASED:
    case CONNECT_MESSAGE_BASED_PASSIVE:
      decode_message_based(in, bench, pointers, p.MessageBased);
      break;
    default:
      break;
  }
  return p;
}

// The documented STATUS_INVALID_PARAMETER cases nothing else can hide: a known Version whose
// block has no simulated device's PDO, or nowhere to store the connection.
bool lacks_device_or_output(const Bench& bench, const IO_CONNECT_INTERRUPT_PARAMETERS& p) {
  switch (kind_of(p.Version)) {
    case ContextKind::Object:
      if (p.Version == CONNECT_LINE_BASED) {
        return bench.config_of(p.LineBased.PhysicalDeviceObject) == nullptr || p.LineBased.InterruptObject == nullptr;
      }
      return bench.config_of(p.FullySpecified.PhysicalDeviceObject) == nullptr ||
             p.FullySpecified.InterruptObject == nullptr;
    case ContextKind::Table:
      return bench.config_of(p.MessageBased.PhysicalDeviceObject) == nullptr ||
             p.MessageBased.ConnectionContext.Generic == nullptr;
    case ContextKind::None:
      break;
  }
  return false;
}

// What a call that returned STATUS_SUCCESS connected, and the bits of Calls::irqls its ISRs may set.
struct Connection {
  ULONG version;
  PVOID context;
  std::array<std::uint32_t, kMaxMessages + 1> allowed_irqls{};
};

// The interrupt object handed out is connected on existing processors of one group.
void require_connected_object(Bench& bench, PKINTERRUPT object, GROUP_AFFINITY& affinity) {
  require(IoGetAffinityInterrupt(object, &affinity) == STATUS_SUCCESS, "the object handed out is not connected");
  require(affinity.Mask != 0 && (affinity.Mask & ~bench.machine.active_processors(affinity.Group)) == 0,
          "connected on processors {:#x} of group {}, which has {:#x}", affinity.Mask, affinity.Group,
          bench.machine.active_processors(affinity.Group));
}

// The IRQL a line-based connection's ISR runs at: the highest of SynchronizeIrql and the IRQLs of
// the device's lines (or of its one message, for a device that has no lines).
KIRQL line_based_irql(const DeviceConfig& device, KIRQL synchronize_irql) {
  KIRQL highest = synchronize_irql;
  for (const auto& line : device.lines) highest = std::max<KIRQL>(highest, line.irql);
  if (device.lines.empty() && !device.messages.empty()) highest = std::max<KIRQL>(highest, device.messages[0].irql);
  return highest;
}

const DeviceConfig& connected_device(const Bench& bench, PDEVICE_OBJECT pdo) {
  const DeviceConfig* device = bench.config_of(pdo);
  require(device != nullptr, "a connect succeeded for {}, which is no device's PDO", static_cast<const void*>(pdo));
  return *device;
}

// Checks what a successful connect handed out and returns what to disconnect.
Connection check_connection(Bench& bench, const IO_CONNECT_INTERRUPT_PARAMETERS& p, ULONG version_in) {
  Connection c{p.Version, nullptr, {}};
  switch (version_in) {
    case CONNECT_FULLY_SPECIFIED:
    case CONNECT_FULLY_SPECIFIED_GROUP: {
      const auto& f = p.FullySpecified;
      require(p.Version == version_in && f.ServiceRoutine != nullptr,
              "a fully specified connect succeeded with Version {} and ISR {}", p.Version,
              reinterpret_cast<const void*>(f.ServiceRoutine));
      c.context = *f.InterruptObject;
      GROUP_AFFINITY affinity{};
      require_connected_object(bench, *f.InterruptObject, affinity);
      const USHORT group = version_in == CONNECT_FULLY_SPECIFIED_GROUP ? f.Group : 0;
      require(affinity.Group == group && (affinity.Mask & ~f.ProcessorEnableMask) == 0,
              "connected on {:#x} of group {}, asked for {:#x} of group {}", affinity.Mask, affinity.Group,
              f.ProcessorEnableMask, group);
      const bool passive = f.Irql == PASSIVE_LEVEL && f.SynchronizeIrql == PASSIVE_LEVEL;
      c.allowed_irqls[kLineSlot] = 1u << (passive ? PASSIVE_LEVEL : f.SynchronizeIrql);
      return c;
    }
    case CONNECT_LINE_BASED: {
      const auto& l = p.LineBased;
      require(p.Version == version_in && l.ServiceRoutine != nullptr,
              "a line-based connect succeeded with Version {} and ISR {}", p.Version,
              reinterpret_cast<const void*>(l.ServiceRoutine));
      c.context = *l.InterruptObject;
      GROUP_AFFINITY affinity{};
      require_connected_object(bench, *l.InterruptObject, affinity);
      const DeviceConfig& device = connected_device(bench, l.PhysicalDeviceObject);
      c.allowed_irqls[kLineSlot] = 1u << line_based_irql(device, l.SynchronizeIrql);
      return c;
    }
    default:
      break;
  }
  const auto& m = p.MessageBased;
  const DeviceConfig& device = connected_device(bench, m.PhysicalDeviceObject);
  c.context = *m.ConnectionContext.Generic;
  if (device.messages.empty()) {
    // The fallback ISR, connected as line-based; Version says so.
    require(p.Version == CONNECT_LINE_BASED && m.FallBackServiceRoutine != nullptr,
            "a message-based connect of a device without messages returned Version {}", p.Version);
    GROUP_AFFINITY affinity{};
    require_connected_object(bench, *m.ConnectionContext.InterruptObject, affinity);
    c.allowed_irqls[kLineSlot] = 1u << line_based_irql(device, m.SynchronizeIrql);
    return c;
  }
  require(p.Version == version_in && m.MessageServiceRoutine != nullptr,
          "a message-based connect succeeded with Version {} and message ISR {}", p.Version,
          reinterpret_cast<const void*>(m.MessageServiceRoutine));
  const bool passive = version_in == CONNECT_MESSAGE_BASED_PASSIVE;
  const IO_INTERRUPT_MESSAGE_INFO& table = **m.ConnectionContext.InterruptMessageTable;
  require(table.MessageCount == device.messages.size(), "a table of {} messages for a device of {}",
          table.MessageCount, device.messages.size());
  const bool unified = !passive && (m.SpinLock != nullptr || m.SynchronizeIrql != PASSIVE_LEVEL);
  require(unified ? table.UnifiedIrql >= m.SynchronizeIrql : table.UnifiedIrql == 0, "UnifiedIrql {}",
          table.UnifiedIrql);
  for (std::size_t id = 0; id < device.messages.size(); ++id) {
    const IO_INTERRUPT_MESSAGE_INFO_ENTRY& entry = table.MessageInfo[id];
    const auto& message = device.messages[id];
    require(entry.Vector == message.vector && entry.Irql == (passive ? PASSIVE_LEVEL : message.irql) &&
                entry.Mode == Latched,
            "message {}: vector {:#x} IRQL {} in the table, vector {:#x} IRQL {} on the device", id, entry.Vector,
            entry.Irql, message.vector, message.irql);
    require(!unified || table.UnifiedIrql >= entry.Irql, "UnifiedIrql {} below message {}'s IRQL {}",
            table.UnifiedIrql, id, entry.Irql);
    GROUP_AFFINITY affinity{};
    require_connected_object(bench, entry.InterruptObject, affinity);
    require(affinity.Group == message.group && (affinity.Mask & ~message.affinity) == 0,
            "message {} connected on {:#x} of group {}, the device targets {:#x} of group {}", id, affinity.Mask,
            affinity.Group, message.affinity, message.group);
    c.allowed_irqls[id] = 1u << (unified ? table.UnifiedIrql : entry.Irql);
  }
  return c;
}

void require_irqls_allowed(const Connection& connection) {
  require(!calls.message_id_out_of_range.load(), "a message ISR was called with a MessageID beyond the table");
  for (std::size_t slot = 0; slot < calls.irqls.size(); ++slot) {
    const std::uint32_t seen = calls.irqls[slot].load();
    require((seen & ~connection.allowed_irqls[slot]) == 0, "ISR slot {} ran at IRQLs {:#x}; allowed {:#x}", slot,
            seen, connection.allowed_irqls[slot]);
  }
}

// A bug check raised where one may be: `allowed` is what the documentation says for the call.
void require_expected_bug_check(Bench& bench, const BugCheckReport& report, bool allowed, std::string_view call) {
  require_reported(bench.machine, report);
  require(allowed, "{} raised an unexpected bug check:\n{}", call, report.to_string());
}

bool is_verifier_rule(const BugCheckReport& report, std::uint64_t rule) {
  return report.code == bugcheck::kDriverVerifierDetectedViolation && report.parameters[0] == rule;
}

// Disconnects with matching or mismatched parameters; returns false if that bug-checked. A
// disconnect that returns must have disconnected: the ISR never runs again.
bool disconnect(Input& in, Bench& bench, const Connection& connection) {
  IO_DISCONNECT_INTERRUPT_PARAMETERS p{};
  p.Version = connection.version;
  p.ConnectionContext.Generic = connection.context;
  if (in.rarely()) {
    const std::size_t version = in.below(8);
    p.Version = version < 7 ? static_cast<ULONG>(version) : in.take<std::uint32_t>();
  }
  if (in.rarely()) {
    PVOID one_of_set = connection.context;
    if (kind_of(connection.version) == ContextKind::Table) {
      const auto* table = static_cast<const IO_INTERRUPT_MESSAGE_INFO*>(connection.context);
      one_of_set = table->MessageInfo[in.below(table->MessageCount)].InterruptObject;
    }
    p.ConnectionContext.Generic = in.pick(std::array<PVOID, 4>{nullptr, bench.fuzzed.pdo(), one_of_set, &calls});
  }
  const bool fits =
      kind_of(p.Version) == kind_of(connection.version) && p.ConnectionContext.Generic == connection.context;
  const Caller who = caller(in, bench.machine);
  try {
    call_as(bench.machine, who, [&p] { IoDisconnectInterruptEx(&p); });
  } catch (const BugCheckError& error) {
    const BugCheckReport& report = error.report();
    require_expected_bug_check(bench, report,
                               who.irql > PASSIVE_LEVEL ? is_verifier_rule(report, bugcheck::kRuleIrqlIoPassive4)
                                                        : !fits && report.code == bugcheck::kPageFaultInNonpagedArea,
                               "IoDisconnectInterruptEx");
    return false;
  }
  require(who.irql == PASSIVE_LEVEL && fits, "IoDisconnectInterruptEx returned for Version {} context {} at IRQL {}",
          p.Version, p.ConnectionContext.Generic, who.irql);
  const unsigned before = calls.fuzzed.load();
  bench.raise_everything();
  require(calls.fuzzed.load() == before, "an ISR ran after IoDisconnectInterruptEx returned");
  if (!in.flag()) return true;
  // Disconnecting again is a use after free.
  try {
    IoDisconnectInterruptEx(&p);
  } catch (const BugCheckError& error) {
    require_expected_bug_check(bench, error.report(), error.report().code == bugcheck::kPageFaultInFreedSpecialPool,
                               "a second IoDisconnectInterruptEx");
    return false;
  }
  fail("disconnecting twice returned");
}

// One connect and what follows it; returns false once the machine has bug-checked.
bool exercise(Input& in, Bench& bench) {
  Pointers pointers;
  KeInitializeSpinLock(&pointers.lock);
  IO_CONNECT_INTERRUPT_PARAMETERS p = decode_parameters(in, bench, pointers);
  const ULONG version_in = p.Version;
  const PVOID untouched = pointers.untouched();
  const bool hopeless = lacks_device_or_output(bench, p);
  const Caller who = caller(in, bench.machine);
  NTSTATUS status = STATUS_SUCCESS;
  try {
    status = call_as(bench.machine, who, [&p] { return IoConnectInterruptEx(&p); });
  } catch (const BugCheckError& error) {
    const bool raised = who.irql > PASSIVE_LEVEL;
    require_expected_bug_check(bench, error.report(),
                               raised && is_verifier_rule(error.report(), bugcheck::kRuleIrqlIoPassive2),
                               "IoConnectInterruptEx");
    return false;
  }
  require(who.irql == PASSIVE_LEVEL, "IoConnectInterruptEx returned {:#x} at IRQL {}", static_cast<ULONG>(status),
          who.irql);
  require_documented_status(version_in, status);
  require(!hopeless || status == STATUS_INVALID_PARAMETER,
          "Version {} without a device's PDO or an output pointer: {:#x}, not STATUS_INVALID_PARAMETER", version_in,
          static_cast<ULONG>(status));

  if (status != STATUS_SUCCESS) {
    if (status == STATUS_INVALID_PARAMETER_1) {
      require(p.Version == CONNECT_CURRENT_VERSION, "STATUS_INVALID_PARAMETER_1 left Version {}", p.Version);
    }
    require(pointers.connection == nullptr || pointers.connection == untouched,
            "a failed connect stored {}", pointers.connection);
    bench.raise_everything();
    require(calls.fuzzed.load() == 0, "an ISR of a failed connect ran");
    return true;
  }

  const Connection connection = check_connection(bench, p, version_in);
  const bool garbage_lock = pointers.chosen_lock == &pointers.garbage_lock;
  const std::size_t edges = bench.fuzzed_config.lines.size() + bench.fuzzed_config.messages.size();
  if (in.flag()) calls.claims_left = static_cast<unsigned>(edges);
  try {
    bench.raise_everything();
  } catch (const BugCheckError& error) {
    // The only thing an ISR run here can do wrong is the spin lock the driver gave it.
    require_expected_bug_check(bench, error.report(),
                               garbage_lock && error.report().code == bugcheck::kSpinLockInitFailure,
                               "serving the connected interrupts");
    return false;
  }
  require_irqls_allowed(connection);
  return disconnect(in, bench, connection);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  calls.reset();
  const MachineConfig machine_config = irqsim_fuzz::machine_config(in, kStormThreshold);
  const DeviceConfig fuzzed_config = device_config(in, "fuzzed");
  const DeviceConfig resident_config{
      .name = "resident",
      .lines = {{.vector = window_vector(in), .irql = device_irql(in), .trigger = irqsim::Trigger::Latched,
                 .shareable = in.flag()}}};
  std::optional<Bench> bench;
  try {
    bench.emplace(machine_config, fuzzed_config, resident_config);
  } catch (const std::invalid_argument&) {
    return 0;  // a device no PCI bus could have: Machine::plug refuses it, as documented
  }
  if (exercise(in, *bench)) {
    bench->require_resident_intact();
    return 0;
  }
  // A bug check ends a machine; a new one from the same configuration must work as the first did.
  bench.reset();
  bench.emplace(machine_config, fuzzed_config, resident_config);
  bench->require_resident_intact();
  return 0;
}
