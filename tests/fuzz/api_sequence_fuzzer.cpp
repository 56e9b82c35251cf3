// The input as a sequence of at most kMaxOperations operations against one machine with two
// devices: connecting and disconnecting line and message interrupts (IoConnectInterrupt and every
// version of IoConnectInterruptEx), pulsing, asserting, deasserting and masking lines and
// messages, KeSynchronizeExecution and the interrupt spin lock, DPCs, executive spin locks and
// IRQL changes run on a processor through Machine::run_on, reporting connections inactive and
// active, and bounded waits for quiescence. Calls are made from the fuzzer's thread or from a
// processor, at PASSIVE_LEVEL or above it, so that misuse happens too.
//
// What must hold: statuses are the documented ones; every bug check carries a documented code
// and halts the machine (a new one, built the same way, takes over); a connected interrupt
// object stays valid until it is disconnected; DPC routines run at DISPATCH_LEVEL and a DPC
// never queued is never found queued; and at the end, with every line dropped and every
// connection gone, the machine settles within a bound.

#include <wdm.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>

#include "fuzz_support.hpp"

namespace {

using irqsim::BugCheckError;
using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::Machine;
using irqsim::MachineConfig;
using namespace irqsim_fuzz;
namespace bugcheck = irqsim::bugcheck;

// Short inputs keep each run short: a few hundred operations a second is what finds things.
constexpr std::size_t kMaxOperations = 48;
// Small, so that a line nobody acknowledges storms after few deliveries.
constexpr unsigned kStormThreshold = 16;
// What an operation may wait for the machine to settle, and what the final wait may: after it
// the machine is hung.
constexpr std::chrono::milliseconds kShortWait{20};
constexpr std::chrono::seconds kSettle{10};

// What an ISR does, fixed before its connection is made: it runs on processor threads.
struct Behaviour {
  Machine* machine = nullptr;
  const Device* device = nullptr;
  const DeviceConfig* config = nullptr;
  bool claims = false;
  // Stops the device and the test from driving its lines, as an ISR that silences its device does.
  bool acknowledges = false;
  PKDPC dpc = nullptr;
};

BOOLEAN Isr(PKINTERRUPT, PVOID context) {
  const auto& behaviour = *static_cast<const Behaviour*>(context);
  if (behaviour.acknowledges) {
    Device device = *behaviour.device;
    for (std::size_t line = 0; line < behaviour.config->lines.size(); ++line) {
      device.deassert_line(line);
      behaviour.machine->deassert_line(behaviour.config->lines[line].vector);
    }
  }
  if (behaviour.dpc != nullptr) KeInsertQueueDpc(behaviour.dpc, nullptr, nullptr);
  return behaviour.claims ? TRUE : FALSE;
}

BOOLEAN MessageIsr(PKINTERRUPT interrupt, PVOID context, ULONG) { return Isr(interrupt, context); }

std::atomic<bool> dpc_below_dispatch{false};

VOID DpcRoutine(PKDPC, PVOID, PVOID, PVOID) {
  if (KeGetCurrentIrql() != DISPATCH_LEVEL) dpc_below_dispatch = true;
}

// KeSynchronizeExecution's routine: records the IRQL it ran at and returns the value it is given.
struct Synchronized {
  BOOLEAN result = FALSE;
  KIRQL irql = 0;
};

BOOLEAN SynchronizedRoutine(PVOID context) {
  auto& synchronized = *static_cast<Synchronized*>(context);
  synchronized.irql = KeGetCurrentIrql();
  return synchronized.result;
}

// One connection the sequence made.
struct Slot {
  enum class Kind { Empty, Classic, Ex };
  Kind kind = Kind::Empty;
  ULONG version = 0;
  PVOID context = nullptr;
  // For IoConnectInterrupt connections: the IRQL KeSynchronizeExecution runs its routine at.
  KIRQL synchronize_irql = 0;
  Behaviour behaviour;
};

enum class Operation : std::uint8_t {
  Connect,
  ConnectEx,
  Disconnect,
  Pulse,
  Assert,
  Deassert,
  Mask,
  Synchronize,
  InterruptSpinLock,
  Dpc,
  FlushDpcs,
  SpinLocks,
  Irql,
  Wait,
  ReportState,
  Affinity,
  Count
};

class World {
 public:
  World(const MachineConfig& machine_config, std::array<DeviceConfig, 2> device_configs)
      : machine_config_(machine_config), device_configs_(std::move(device_configs)) {
    start();
  }

  void run(Input& in) {
    const auto operation = static_cast<Operation>(in.below(static_cast<std::size_t>(Operation::Count)));
    try {
      perform(in, operation);
    } catch (const BugCheckError& error) {
      require_reported(*machine_, error.report());
      restart();
    }
  }

  // Every line dropped, every vector unmasked, every connection gone: the machine must settle.
  void finish() {
    try {
      for (std::size_t d = 0; d < devices_.size(); ++d) {
        for (std::size_t line = 0; line < device_configs_[d].lines.size(); ++line) devices_[d].deassert_line(line);
      }
      for (std::uint32_t v = kVectorBase; v < kVectorBase + kVectorWindow + kMaxMessages; ++v) {
        machine_->deassert_line(v);
        machine_->unmask(v);
      }
      for (Slot& slot : slots_) {
        if (slot.kind != Slot::Kind::Empty) disconnect(slot);
      }
      machine_->wait_until_quiescent(kSettle);
      // Everything is disconnected and settled: nothing may be left connected or queued, and
      // every interrupt the sequence raised must be accounted for.
      const irqsim::LeakReport leaks = machine_->check_leaks();
      require(leaks.interrupts.empty() && leaks.dpcs.empty(), "left behind after the teardown:\n{}", leaks.to_string());
      for (std::uint32_t v = kVectorBase; v < kVectorBase + kVectorWindow + kMaxMessages; ++v) {
        const irqsim::VectorStats stats = machine_->stats(v);
        require(stats.edges_add_up() && stats.deliveries_add_up(), "vector {:#x}:\n{}", v, stats.to_string());
      }
    } catch (const BugCheckError& error) {
      // What the sequence left behind may still end in a bug check (a storm building up, a DPC
      // object it broke); a documented one, and then the machine is halted.
      require_reported(*machine_, error.report());
    } catch (const irqsim::TimeoutError& timeout) {
      fail(fmt::format("a hang: nothing left to deliver, yet {}", timeout.what()));
    }
    require(!dpc_below_dispatch.load(), "a DPC routine ran below DISPATCH_LEVEL");
  }

 private:
  void start() {
    machine_.emplace(machine_config_);
    devices_.clear();
    for (const DeviceConfig& config : device_configs_) devices_.push_back(machine_->plug(config));
    slots_ = {};
    stale_.clear();
    for (KDPC& dpc : dpcs_) KeInitializeDpc(&dpc, DpcRoutine, nullptr);
    may_be_queued_ = {};
    for (KSPIN_LOCK& lock : locks_) KeInitializeSpinLock(&lock);
  }

  // A bug check halted the machine: a new one from the same configuration takes over. The
  // devices plug in again as they did the first time.
  void restart() {
    machine_.reset();
    start();
  }

  void perform(Input& in, Operation operation) {
    switch (operation) {
      case Operation::Connect: connect(in); break;
      case Operation::ConnectEx: connect_ex(in); break;
      case Operation::Disconnect: disconnect_some(in); break;
      case Operation::Pulse: pulse(in); break;
      case Operation::Assert: drive(in, true); break;
      case Operation::Deassert: drive(in, false); break;
      case Operation::Mask: mask(in); break;
      case Operation::Synchronize: synchronize(in); break;
      case Operation::InterruptSpinLock: interrupt_spin_lock(in); break;
      case Operation::Dpc: dpc_call(in); break;
      case Operation::FlushDpcs: flush_dpcs(in); break;
      case Operation::SpinLocks: spin_locks(in); break;
      case Operation::Irql: raise_and_lower(in); break;
      case Operation::Wait: wait(); break;
      case Operation::ReportState: report_state(in); break;
      case Operation::Affinity: query_affinity(in); break;
      case Operation::Count: break;
    }
  }

  // ---- connections -------------------------------------------------------------------------

  Slot* empty_slot(Input& in) {
    Slot& slot = slots_[in.below(slots_.size())];
    return slot.kind == Slot::Kind::Empty ? &slot : nullptr;
  }

  Slot* connected_slot(Input& in) {
    Slot& slot = slots_[in.below(slots_.size())];
    return slot.kind == Slot::Kind::Empty ? nullptr : &slot;
  }

  void decode_behaviour(Input& in, Slot& slot, std::size_t device) {
    slot.behaviour = Behaviour{&*machine_, &devices_[device], &device_configs_[device], in.flag(), in.flag(), nullptr};
    if (in.flag()) {
      const std::size_t dpc = in.below(dpcs_.size());
      slot.behaviour.dpc = &dpcs_[dpc];
      may_be_queued_[dpc] = true;
    }
  }

  PKSPIN_LOCK decode_lock(Input& in) {
    const std::size_t choice = in.below(locks_.size() + 2);
    return choice < locks_.size() ? &locks_[choice] : nullptr;
  }

  // IoConnectInterrupt on one of the devices' vectors (or a vector near them), mostly as the
  // translated resources say.
  void connect(Input& in) {
    Slot* slot = empty_slot(in);
    if (slot == nullptr) return;
    const std::size_t device = in.below(devices_.size());
    decode_behaviour(in, *slot, device);
    IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS f{};
    const auto descriptors = irqsim_test::InterruptDescriptors(devices_[device].translated_resources());
    if (!descriptors.empty()) irqsim_test::FillFromDescriptor(descriptors[in.below(descriptors.size())], f);
    if (in.rarely()) f.Vector = window_vector(in);
    if (in.rarely()) f.Irql = in.irql();
    f.SynchronizeIrql = static_cast<KIRQL>(f.Irql + (in.rarely() ? in.below(4) : 0));
    if (in.rarely()) f.ShareVector = in.flag();
    PKINTERRUPT object = nullptr;
    const Caller who = caller(in, *machine_);
    PKSPIN_LOCK lock = decode_lock(in);
    const NTSTATUS status = call_as(*machine_, who, [&] {
      return IoConnectInterrupt(&object, Isr, &slot->behaviour, lock, f.Vector, f.Irql, f.SynchronizeIrql,
                                f.InterruptMode, f.ShareVector, f.ProcessorEnableMask, FALSE);
    });
    require(one_of(status, {STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_INSUFFICIENT_RESOURCES}),
            "IoConnectInterrupt: undocumented status {:#x}", static_cast<ULONG>(status));
    require((status == STATUS_SUCCESS) == (object != nullptr), "IoConnectInterrupt {:#x} stored {}",
            static_cast<ULONG>(status), static_cast<void*>(object));
    if (status != STATUS_SUCCESS) return;
    slot->kind = Slot::Kind::Classic;
    slot->context = object;
    forget_stale(object);
    slot->synchronize_irql = f.SynchronizeIrql;
  }

  // IoConnectInterruptEx in one of its versions, with the parameters a driver would pass.
  void connect_ex(Input& in) {
    Slot* slot = empty_slot(in);
    if (slot == nullptr) return;
    const std::size_t device = in.below(devices_.size());
    decode_behaviour(in, *slot, device);
    IO_CONNECT_INTERRUPT_PARAMETERS p{};
    p.Version = static_cast<ULONG>(1 + in.below(CONNECT_CURRENT_VERSION));
    const PDEVICE_OBJECT pdo = devices_[device].pdo();
    PKSPIN_LOCK lock = decode_lock(in);
    const KIRQL synchronize_irql = in.rarely() ? in.irql() : PASSIVE_LEVEL;
    switch (kind_of(p.Version)) {
      case ContextKind::Object:
        if (p.Version == CONNECT_LINE_BASED) {
          p.LineBased = {pdo, reinterpret_cast<PKINTERRUPT*>(&slot->context), Isr, &slot->behaviour, lock,
                         synchronize_irql, FALSE};
          break;
        }
        p.FullySpecified.PhysicalDeviceObject = pdo;
        p.FullySpecified.InterruptObject = reinterpret_cast<PKINTERRUPT*>(&slot->context);
        p.FullySpecified.ServiceRoutine = Isr;
        p.FullySpecified.ServiceContext = &slot->behaviour;
        p.FullySpecified.SpinLock = lock;
        if (const auto descriptors = irqsim_test::InterruptDescriptors(devices_[device].translated_resources());
            !descriptors.empty()) {
          irqsim_test::FillFromDescriptor(descriptors[in.below(descriptors.size())], p.FullySpecified);
        }
        break;
      case ContextKind::Table:
      case ContextKind::None:
        p.MessageBased = {pdo, {&slot->context}, MessageIsr, &slot->behaviour, lock, synchronize_irql, FALSE,
                          in.flag() ? Isr : nullptr};
        break;
    }
    const ULONG version = p.Version;
    const Caller who = caller(in, *machine_);
    const NTSTATUS status = call_as(*machine_, who, [&p] { return IoConnectInterruptEx(&p); });
    require_documented_status(version, status);
    if (status != STATUS_SUCCESS) {
      slot->context = nullptr;
      return;
    }
    slot->kind = Slot::Kind::Ex;
    slot->version = p.Version;
    if (kind_of(p.Version) == ContextKind::Object) forget_stale(slot->context);
  }

  // A handle a new connection was given is no longer stale: the pool reuses a freed object only
  // after every other one, but small pools come round quickly.
  void forget_stale(PVOID handle) { std::erase(stale_, static_cast<PKINTERRUPT>(handle)); }

  // Disconnects the slot's connection the matching way; its handle becomes stale.
  void disconnect(Slot& slot, const Caller& who = {}) {
    if (slot.kind == Slot::Kind::Classic) {
      call_as(*machine_, who, [&slot] { IoDisconnectInterrupt(static_cast<PKINTERRUPT>(slot.context)); });
    } else {
      IO_DISCONNECT_INTERRUPT_PARAMETERS p{};
      p.Version = slot.version;
      p.ConnectionContext.Generic = slot.context;
      call_as(*machine_, who, [&p] { IoDisconnectInterruptEx(&p); });
    }
    if (kind_of(slot.version) != ContextKind::Table) stale_.push_back(static_cast<PKINTERRUPT>(slot.context));
    slot = Slot{};
  }

  void disconnect_some(Input& in) {
    if (Slot* slot = connected_slot(in)) {
      disconnect(*slot, caller(in, *machine_));
    } else if (!stale_.empty() && in.flag()) {
      // A use after free (bug check 0xCC), or, for an object reused as one of the objects of a
      // newer connection, the use of one object of a set (0x50).
      IoDisconnectInterrupt(stale_[in.below(stale_.size())]);
      fail("disconnecting a stale interrupt object returned");
    }
  }

  // An interrupt object to use: a slot's (for a message table, one message's), else a stale one
  // or rarely NULL; nothing when there is none of those, so that most operations do something.
  std::optional<PKINTERRUPT> some_object(Input& in, const Slot** slot) {
    *slot = connected_slot(in);
    if (*slot == nullptr) {
      if (!stale_.empty() && in.flag()) return stale_[in.below(stale_.size())];
      return in.rarely() ? std::optional<PKINTERRUPT>(nullptr) : std::nullopt;
    }
    if (kind_of((*slot)->version) != ContextKind::Table) return static_cast<PKINTERRUPT>((*slot)->context);
    const auto* table = static_cast<const IO_INTERRUPT_MESSAGE_INFO*>((*slot)->context);
    return table->MessageInfo[in.below(table->MessageCount)].InterruptObject;
  }

  // ---- lines and messages ------------------------------------------------------------------

  // The devices' vectors (MSI blocks reach past the window) and the vectors between them.
  static std::uint32_t some_vector(Input& in) {
    return kVectorBase + static_cast<std::uint32_t>(in.below(kVectorWindow + kMaxMessages));
  }

  void pulse(Input& in) {
    const std::size_t d = in.below(devices_.size());
    const DeviceConfig& config = device_configs_[d];
    switch (in.below(3)) {
      case 0: machine_->pulse(some_vector(in)); break;
      case 1:
        if (!config.lines.empty()) devices_[d].pulse_line(in.below(config.lines.size()));
        break;
      default:
        if (!config.messages.empty()) {
          devices_[d].signal_message(static_cast<std::uint32_t>(in.below(config.messages.size())));
        }
        break;
    }
  }

  void drive(Input& in, bool active) {
    const std::size_t d = in.below(devices_.size());
    const DeviceConfig& config = device_configs_[d];
    if (in.flag() || config.lines.empty()) {
      const std::uint32_t vector = some_vector(in);
      if (active) {
        machine_->assert_line(vector);
      } else {
        machine_->deassert_line(vector);
      }
      return;
    }
    const std::size_t line = in.below(config.lines.size());
    if (active) {
      devices_[d].assert_line(line);
    } else {
      devices_[d].deassert_line(line);
    }
  }

  void mask(Input& in) {
    const std::uint32_t vector = some_vector(in);
    if (in.flag()) {
      machine_->mask(vector);
    } else {
      machine_->unmask(vector);
    }
  }

  void wait() {
    try {
      machine_->wait_until_quiescent(kShortWait);
    } catch (const irqsim::TimeoutError&) {
      // A line held active, a masked vector with an edge, a processor at a raised IRQL: not
      // settling within a short wait is allowed; the final wait bounds it.
    }
  }

  // ---- synchronization ---------------------------------------------------------------------

  void synchronize(Input& in) {
    const Slot* slot = nullptr;
    const std::optional<PKINTERRUPT> object = some_object(in, &slot);
    if (!object) return;
    Synchronized synchronized{static_cast<BOOLEAN>(in.take<std::uint8_t>()), 0};
    const bool null_routine = in.rarely();
    const Caller who = caller(in, *machine_);
    const BOOLEAN result = call_as(*machine_, who, [&] {
      return KeSynchronizeExecution(*object, null_routine ? nullptr : SynchronizedRoutine, &synchronized);
    });
    require(result == synchronized.result, "KeSynchronizeExecution returned {} for a routine that returned {}",
            result, synchronized.result);
    if (slot != nullptr && slot->kind == Slot::Kind::Classic) {
      require(synchronized.irql == slot->synchronize_irql, "the routine ran at IRQL {}, SynchronizeIrql is {}",
              synchronized.irql, slot->synchronize_irql);
    }
  }

  void interrupt_spin_lock(Input& in) {
    const Slot* slot = nullptr;
    const std::optional<PKINTERRUPT> object = some_object(in, &slot);
    if (!object) return;
    const Caller who = caller(in, *machine_);
    // Only a processor may keep it: its routine then returns at a raised IRQL, which is a bug
    // check. The fuzzer's thread keeping it would hang the ISRs that need it, as on Windows.
    const bool release = !who.processor || !in.rarely();
    call_as(*machine_, who, [&] {
      const KIRQL old = KeAcquireInterruptSpinLock(*object);
      if (release) KeReleaseInterruptSpinLock(*object, old);
    });
  }

  // ---- DPCs ----------------------------------------------------------------------------------

  void dpc_call(Input& in) {
    const std::size_t index = in.below(dpcs_.size());
    KDPC& dpc = dpcs_[index];
    const Caller who = caller(in, *machine_);
    switch (in.below(6)) {
      case 0:
        may_be_queued_[index] = true;
        call_as(*machine_, who, [&dpc] { KeInsertQueueDpc(&dpc, nullptr, nullptr); });
        break;
      case 1: {
        const BOOLEAN removed = call_as(*machine_, who, [&dpc] { return KeRemoveQueueDpc(&dpc); });
        require(!removed || may_be_queued_[index], "KeRemoveQueueDpc found a DPC queued that never was");
        break;
      }
      case 2: {
        const auto importance = static_cast<KDPC_IMPORTANCE>(in.below(4));
        call_as(*machine_, who, [&] { KeSetImportanceDpc(&dpc, importance); });
        break;
      }
      case 3: {
        const auto number = static_cast<CCHAR>(in.take<std::uint8_t>() % 6);
        call_as(*machine_, who, [&] { KeSetTargetProcessorDpc(&dpc, number); });
        break;
      }
      case 4: {
        PROCESSOR_NUMBER number{static_cast<USHORT>(in.below(3)), static_cast<UCHAR>(in.below(5)), 0};
        const NTSTATUS status = call_as(*machine_, who, [&] { return KeSetTargetProcessorDpcEx(&dpc, &number); });
        require(one_of(status, {STATUS_SUCCESS, STATUS_INVALID_PARAMETER}), "KeSetTargetProcessorDpcEx: {:#x}",
                static_cast<ULONG>(status));
        break;
      }
      default:
        // A DPC object that was never initialised, or whose memory was reused: KeInsertQueueDpc
        // must recognise it (bug check 0xC7) whenever it is queued next.
        dpc.Type = 0;
        break;
    }
  }

  void flush_dpcs(Input& in) {
    const Caller who = caller(in, *machine_);
    call_as(*machine_, who, [] { KeFlushQueuedDpcs(); });
  }

  // ---- executive spin locks and IRQL -------------------------------------------------------

  // A lock taken with KeAcquireSpinLock, maybe a second one nested in it at DISPATCH_LEVEL,
  // released in reverse order, as a driver does; rarely any call replaced by another.
  void spin_locks(Input& in) {
    enum Call : std::size_t { kAcquire, kRelease, kAcquireAtDpcLevel, kReleaseFromDpcLevel, kTryAtDpcLevel, kCalls };
    struct Step {
      std::size_t call;
      PKSPIN_LOCK lock;
    };
    const std::size_t outer = in.below(locks_.size());
    std::vector<Step> steps{{kAcquire, &locks_[outer]}, {kRelease, &locks_[outer]}};
    if (in.flag()) {
      PKSPIN_LOCK inner = &locks_[in.rarely() ? outer : (outer + 1) % locks_.size()];
      steps.insert(steps.begin() + 1, {{kAcquireAtDpcLevel, inner}, {kReleaseFromDpcLevel, inner}});
    }
    for (Step& step : steps) {
      if (in.rarely()) step.call = in.below(kCalls);
    }
    const auto processor = static_cast<unsigned>(in.below(machine_->processor_count()));
    machine_->run_on(processor, [&steps] {
      KIRQL old = PASSIVE_LEVEL;
      for (const Step& step : steps) {
        switch (step.call) {
          case kAcquire: old = KeAcquireSpinLockRaiseToDpc(step.lock); break;
          case kRelease: KeReleaseSpinLock(step.lock, old); break;
          case kAcquireAtDpcLevel: KeAcquireSpinLockAtDpcLevel(step.lock); break;
          case kReleaseFromDpcLevel: KeReleaseSpinLockFromDpcLevel(step.lock); break;
          default: KeTryToAcquireSpinLockAtDpcLevel(step.lock); break;
        }
      }
    });
  }

  // A raise and a lower, either of which may be wrong, around a short stall.
  void raise_and_lower(Input& in) {
    const KIRQL raise = in.irql();
    const bool lower = !in.rarely();
    const KIRQL lower_to = in.rarely() ? in.irql() : PASSIVE_LEVEL;
    const bool to_dpc = in.rarely();
    const auto stall = static_cast<ULONG>(in.below(20));
    const auto processor = static_cast<unsigned>(in.below(machine_->processor_count()));
    machine_->run_on(processor, [=] {
      const KIRQL old = to_dpc ? KeRaiseIrqlToDpcLevel() : KfRaiseIrql(raise);
      KeStallExecutionProcessor(stall);
      if (lower) KeLowerIrql(lower_to == PASSIVE_LEVEL ? old : lower_to);
    });
  }

  // ---- connection state ------------------------------------------------------------------------

  void report_state(Input& in) {
    Slot* slot = connected_slot(in);
    if (slot == nullptr || slot->kind != Slot::Kind::Ex) return;
    IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS p{};
    p.Version = slot->version;
    p.ConnectionContext.Generic = slot->context;
    const bool active = in.flag();
    const Caller who = caller(in, *machine_);
    call_as(*machine_, who, [&] {
      if (active) {
        IoReportInterruptActive(&p);
      } else {
        IoReportInterruptInactive(&p);
      }
    });
  }

  // A connected object is connected on existing processors until it is disconnected.
  void query_affinity(Input& in) {
    const Slot* slot = nullptr;
    const std::optional<PKINTERRUPT> object = some_object(in, &slot);
    if (!object) return;
    GROUP_AFFINITY affinity{};
    const NTSTATUS status = IoGetAffinityInterrupt(*object, &affinity);
    if (slot == nullptr) {
      require(one_of(status, {STATUS_SUCCESS, STATUS_INVALID_PARAMETER}), "IoGetAffinityInterrupt: {:#x}",
              static_cast<ULONG>(status));
      return;
    }
    require(status == STATUS_SUCCESS && affinity.Mask != 0 &&
                (affinity.Mask & ~machine_->active_processors(affinity.Group)) == 0,
            "IoGetAffinityInterrupt of a connected object: {:#x}, mask {:#x} of group {}", static_cast<ULONG>(status),
            affinity.Mask, affinity.Group);
  }

  MachineConfig machine_config_;
  std::array<DeviceConfig, 2> device_configs_;
  std::optional<Machine> machine_;
  std::vector<Device> devices_;
  std::array<Slot, 4> slots_{};
  std::vector<PKINTERRUPT> stale_;
  std::array<KDPC, 3> dpcs_{};
  // Whether each DPC may have been queued since the machine started.
  std::array<bool, 3> may_be_queued_{};
  std::array<KSPIN_LOCK, 2> locks_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  dpc_below_dispatch = false;
  const MachineConfig machine_config = irqsim_fuzz::machine_config(in, kStormThreshold);
  std::array<DeviceConfig, 2> device_configs{device_config(in, "first"), device_config(in, "second")};
  std::optional<World> world;
  try {
    world.emplace(machine_config, std::move(device_configs));
  } catch (const std::invalid_argument&) {
    return 0;  // a device no PCI bus could have: Machine::plug refuses it, as documented
  }
  for (std::size_t operations = 0; operations < kMaxOperations && !in.exhausted(); ++operations) world->run(in);
  world->finish();
  return 0;
}
