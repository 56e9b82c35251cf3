// CM_RESOURCE_LIST buffers decoded from the input, fed to PcNewResourceList, then to
// PcNewResourceSublist and PcNewInterruptSync, and the interrupt sync objects made from them
// registered, connected, served, synchronized with, disconnected and released.
//
// Every buffer holds exactly what its counts claim (a list cannot be checked against its size,
// on Windows either); what varies is its content: the number of full descriptors and of
// descriptors in each, their types, share dispositions and flags, line and message interrupts
// with any level, vector and affinity, device-specific data of any size, and an untranslated
// list that mirrors the translated one (regrouped, with raw values) or does not.
//
// What must hold: each call returns the status portcls.h documents for what it was given, a
// list holds copies of exactly the descriptors given, an interrupt sync object serves and
// synchronizes at its interrupt's level, and the reference counts come back to zero.

#include <portcls.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>

#include "fuzz_support.hpp"

namespace {

using irqsim::BugCheckError;
using irqsim::Machine;
using namespace irqsim_fuzz;
namespace bugcheck = irqsim::bugcheck;

constexpr std::chrono::seconds kSettle{10};

// ---- resource lists, as the harness builds them -----------------------------------------------

struct Partial {
  CM_PARTIAL_RESOURCE_DESCRIPTOR descriptor{};
  // The device-specific data after a CmResourceTypeDeviceSpecific descriptor: DataSize bytes.
  std::vector<std::uint8_t> data;
};

struct Full {
  INTERFACE_TYPE interface_type = PCIBus;
  ULONG bus_number = 0;
  USHORT version = 1;
  USHORT revision = 1;
  std::vector<Partial> partials;
};

using ListModel = std::vector<Full>;

template <class T>
void append(std::vector<std::byte>& bytes, const T& value, std::size_t size = sizeof(T)) {
  const auto* first = reinterpret_cast<const std::byte*>(&value);
  bytes.insert(bytes.end(), first, first + size);
}

// The list as Windows lays it out: each full descriptor's header, its descriptors back to back
// (device-specific data right after its descriptor), the next full descriptor right after. The
// buffer ends where the last descriptor does, so reading past what the counts claim is caught.
std::vector<std::byte> serialize(const ListModel& model) {
  constexpr std::size_t kListHeader = offsetof(CM_RESOURCE_LIST, List);
  constexpr std::size_t kFullHeader = offsetof(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList) +
                                      offsetof(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors);
  std::vector<std::byte> bytes;
  CM_RESOURCE_LIST list{};
  list.Count = static_cast<ULONG>(model.size());
  append(bytes, list, kListHeader);
  for (const Full& full : model) {
    CM_FULL_RESOURCE_DESCRIPTOR header{};
    header.InterfaceType = full.interface_type;
    header.BusNumber = full.bus_number;
    header.PartialResourceList.Version = full.version;
    header.PartialResourceList.Revision = full.revision;
    header.PartialResourceList.Count = static_cast<ULONG>(full.partials.size());
    append(bytes, header, kFullHeader);
    for (const Partial& partial : full.partials) {
      append(bytes, partial.descriptor);
      for (const std::uint8_t byte : partial.data) bytes.push_back(static_cast<std::byte>(byte));
    }
  }
  return bytes;
}

// Every descriptor in order, as a list made from the model must hold them: without their
// device-specific data, which the copies do not keep (DataSize 0).
std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> flattened(const ListModel& model) {
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> all;
  for (const Full& full : model) {
    for (const Partial& partial : full.partials) {
      all.push_back(partial.descriptor);
      if (partial.descriptor.Type == CmResourceTypeDeviceSpecific) all.back().u.DeviceSpecificData.DataSize = 0;
    }
  }
  return all;
}

constexpr std::array<UCHAR, 14> kTypes{
    CmResourceTypeNull,         CmResourceTypePort,        CmResourceTypeInterrupt,     CmResourceTypeInterrupt,
    CmResourceTypeInterrupt,    CmResourceTypeMemory,      CmResourceTypeDma,           CmResourceTypeDeviceSpecific,
    CmResourceTypeBusNumber,    CmResourceTypeMemoryLarge, CmResourceTypeDevicePrivate, CmResourceTypePcCardConfig,
    CmResourceTypeMfCardConfig, CmResourceTypeConnection};

void decode_interrupt(Input& in, CM_PARTIAL_RESOURCE_DESCRIPTOR& d) {
  d.Flags = in.rarely() ? in.take<std::uint16_t>()
                        : in.pick(std::array<USHORT, 3>{CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE,
                                                        CM_RESOURCE_INTERRUPT_LATCHED,
                                                        CM_RESOURCE_INTERRUPT_LATCHED | CM_RESOURCE_INTERRUPT_MESSAGE});
  // Mostly a device IRQL; sometimes any level at all.
  const auto level = static_cast<USHORT>(in.rarely() ? in.take<std::uint16_t>() : 3 + in.below(13));
  const auto group = static_cast<USHORT>(in.rarely() ? in.take<std::uint16_t>() : 0);
  const std::uint32_t vector = in.rarely() ? in.take<std::uint32_t>() : window_vector(in);
  const KAFFINITY mask = affinity(in);
  if ((d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) != 0) {
    d.u.MessageInterrupt.Translated = {level, group, vector, mask};
  } else {
    d.u.Interrupt = {level, group, vector, mask};
  }
}

Partial decode_partial(Input& in) {
  Partial partial;
  CM_PARTIAL_RESOURCE_DESCRIPTOR& d = partial.descriptor;
  const std::size_t type = in.below(kTypes.size() + 1);
  d.Type = type < kTypes.size() ? kTypes[type] : in.take<std::uint8_t>();
  d.ShareDisposition = in.rarely() ? in.take<std::uint8_t>() : static_cast<UCHAR>(CmResourceShareShared - in.below(3));
  if (d.Type == CmResourceTypeInterrupt) {
    decode_interrupt(in, d);
  } else if (d.Type == CmResourceTypeDeviceSpecific) {
    // Any size, so that what follows the data need not be aligned.
    partial.data.resize(in.below(24));
    for (std::uint8_t& byte : partial.data) byte = in.take<std::uint8_t>();
    d.u.DeviceSpecificData.DataSize = static_cast<ULONG>(partial.data.size());
  } else if (in.rarely()) {
    const std::array<std::uint32_t, 4> raw{in.take<std::uint32_t>(), in.take<std::uint32_t>(),
                                           in.take<std::uint32_t>(), in.take<std::uint32_t>()};
    std::memcpy(&d.u, raw.data(), sizeof(d.u));
    d.Flags = in.take<std::uint16_t>();
  }
  return partial;
}

// 0..3 full descriptors (a 0 byte gives one) of 0..6 descriptors each.
ListModel decode_list(Input& in) {
  ListModel model((in.below(4) + 1) % 4);
  for (Full& full : model) {
    if (in.rarely()) {
      full.interface_type = static_cast<INTERFACE_TYPE>(static_cast<int>(in.below(20)) - 1);
      full.bus_number = in.take<std::uint8_t>();
      full.version = in.take<std::uint16_t>();
      full.revision = in.take<std::uint16_t>();
    }
    for (std::size_t count = in.below(7); count > 0; --count) full.partials.push_back(decode_partial(in));
  }
  return model;
}

// The untranslated list a bus driver would report beside `translated`: the same descriptors in
// the same order, possibly grouped into other full descriptors, with bus-relative interrupt
// values; rarely a descriptor of another type.
ListModel mirror(Input& in, const ListModel& translated) {
  ListModel model(1);
  for (const Full& full : translated) {
    for (Partial partial : full.partials) {
      if (in.rarely()) model.emplace_back();
      CM_PARTIAL_RESOURCE_DESCRIPTOR& d = partial.descriptor;
      if (d.Type == CmResourceTypeInterrupt && (d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) == 0) {
        d.u.Interrupt.Vector = 16 + (d.u.Interrupt.Vector & 0x1F);
        d.u.Interrupt.Level = static_cast<USHORT>(d.u.Interrupt.Vector);
      }
      if (in.rarely()) {
        d.Type = in.take<std::uint8_t>();
        // Still exactly what the descriptor claims: data follows a device-specific one only.
        if (d.Type != CmResourceTypeDeviceSpecific) partial.data.clear();
        d.u.DeviceSpecificData.DataSize = static_cast<ULONG>(partial.data.size());
      }
      model.back().partials.push_back(partial);
    }
  }
  return model;
}

bool same_types(const std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>& a,
                const std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].Type != b[i].Type) return false;
  }
  return true;
}

bool same_descriptor(const CM_PARTIAL_RESOURCE_DESCRIPTOR* found, const CM_PARTIAL_RESOURCE_DESCRIPTOR& expected) {
  return found != nullptr && std::memcmp(found, &expected, sizeof(expected)) == 0;
}

// ---- what the list objects must hold -----------------------------------------------------------

// Entries are found by type and by index among the entries of that type, on both sides.
void require_entries(IResourceList& list, const std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>& translated,
                     const std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>& untranslated) {
  require(list.NumberOfEntries() == translated.size(), "{} entries instead of {}", list.NumberOfEntries(),
          translated.size());
  std::array<ULONG, 256> of_type{};
  for (std::size_t i = 0; i < translated.size(); ++i) {
    const UCHAR type = translated[i].Type;
    const ULONG index = of_type[type]++;
    require(same_descriptor(list.FindTranslatedEntry(type, index), translated[i]) &&
                same_descriptor(list.FindUntranslatedEntry(type, index), untranslated[i]),
            "entry {} (type {}, index {}) is not the descriptor given", i, type, index);
  }
  for (std::size_t type = 0; type < of_type.size(); ++type) {
    if (of_type[type] == 0) continue;
    const auto t = static_cast<CM_RESOURCE_TYPE>(type);
    require(list.NumberOfEntriesOfType(t) == of_type[type], "{} entries of type {} instead of {}",
            list.NumberOfEntriesOfType(t), type, of_type[type]);
    require(list.FindTranslatedEntry(t, of_type[type]) == nullptr &&
                list.FindUntranslatedEntry(t, of_type[type]) == nullptr,
            "an entry of type {} past the last one", type);
  }
  const CM_PARTIAL_RESOURCE_LIST& whole = list.TranslatedList()->List[0].PartialResourceList;
  require(list.TranslatedList()->Count == 1 && whole.Count == translated.size(),
          "TranslatedList() has {} full descriptors and {} entries", list.TranslatedList()->Count, whole.Count);
  for (std::size_t i = 0; i < translated.size(); ++i) {
    require(same_descriptor(&whole.PartialDescriptors[i], translated[i]), "TranslatedList() entry {} differs", i);
  }
}

// Only IUnknown and IResourceList are answered, each with a reference added.
void require_interfaces(Input& in, IResourceList& list) {
  const IID other{in.take<std::uint32_t>(), 0, 0, {}};
  const IID& asked =
      *in.pick(std::array<const IID*, 4>{&IID_IUnknown, &IID_IResourceList, &IID_IInterruptSync, &other});
  PVOID object = &list;
  const NTSTATUS status = list.QueryInterface(asked, &object);
  if (IsEqualIID(asked, IID_IUnknown) || IsEqualIID(asked, IID_IResourceList)) {
    require(status == STATUS_SUCCESS && object == static_cast<IResourceList*>(&list),
            "QueryInterface for an interface the list has: {:#x}", static_cast<ULONG>(status));
    static_cast<IResourceList*>(object)->Release();
  } else {
    require(status == STATUS_INVALID_PARAMETER && object == nullptr,
            "QueryInterface for an interface the list lacks: {:#x}", static_cast<ULONG>(status));
  }
}

// ---- interrupt sync objects --------------------------------------------------------------------

// What one interrupt sync object's routines saw; they run on processor threads.
struct Served {
  Machine* machine = nullptr;
  ULONG vector = 0;
  bool level_triggered = false;
  KIRQL level = 0;
  std::atomic<bool> pending{false};
  std::atomic<unsigned> calls{0};
  // Bit L: a routine ran at IRQL L.
  std::atomic<std::uint32_t> irqls{0};
  NTSTATUS synchronized_result = STATUS_SUCCESS;
};

// Claims one interrupt per raise, and acknowledges a level-triggered one, as a miniport's
// service routine does; a routine that always claimed would be the documented storm.
NTSTATUS Service(PINTERRUPTSYNC, PVOID context) {
  auto& served = *static_cast<Served*>(context);
  served.calls.fetch_add(1);
  served.irqls.fetch_or(1u << KeGetCurrentIrql());
  if (!served.pending.exchange(false)) return STATUS_UNSUCCESSFUL;
  if (served.level_triggered) served.machine->deassert_line(served.vector);
  return STATUS_SUCCESS;
}

NTSTATUS Synchronized(PINTERRUPTSYNC, PVOID context) {
  auto& served = *static_cast<Served*>(context);
  served.irqls.fetch_or(1u << KeGetCurrentIrql());
  return served.synchronized_result;
}

void settle(Machine& machine) {
  try {
    machine.wait_until_quiescent(kSettle);
  } catch (const irqsim::TimeoutError& timeout) {
    fail(fmt::format("a hang: {}", timeout.what()));
  }
}

// Raises the interrupt the object is connected to, the way its descriptor says it signals.
void raise(Served& served) {
  served.pending = true;
  if (served.level_triggered) {
    served.machine->assert_line(served.vector);
  } else {
    served.machine->pulse(served.vector);
  }
  settle(*served.machine);
}

// Would IoConnectInterrupt take this descriptor? Nothing else is connected on the machine.
bool connectable(Machine& machine, const CM_PARTIAL_RESOURCE_DESCRIPTOR& d) {
  const auto& line = d.u.Interrupt;
  return line.Vector < Machine::kVectorCount && line.Level >= irqsim::irql::kDeviceLowest &&
         line.Level <= irqsim::irql::kDeviceHighest && (line.Affinity & machine.active_processors(0)) != 0;
}

// Registers, connects, serves, synchronizes with, disconnects and releases one object made for
// the interrupt `d`.
void exercise_sync(Input& in, Machine& machine, PINTERRUPTSYNC sync, const CM_PARTIAL_RESOURCE_DESCRIPTOR& d) {
  Served served;
  served.machine = &machine;
  served.vector = d.u.Interrupt.Vector;
  served.level_triggered = (d.Flags & CM_RESOURCE_INTERRUPT_LATCHED) == 0;
  served.level = static_cast<KIRQL>(d.u.Interrupt.Level);
  served.synchronized_result = static_cast<NTSTATUS>(in.take<std::uint32_t>());
  const std::uint32_t allowed = 1u << served.level;

  std::size_t registered = 0;
  for (std::size_t routines = in.below(4); routines > 0; --routines) {
    const bool null = in.rarely();
    const NTSTATUS status = sync->RegisterServiceRoutine(null ? nullptr : Service, &served, in.take<std::uint8_t>());
    require(status == (null ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS), "RegisterServiceRoutine: {:#x}",
            static_cast<ULONG>(status));
    if (!null) ++registered;
  }
  const NTSTATUS status = sync->Connect();
  if (registered == 0) {
    require(status == STATUS_UNSUCCESSFUL, "Connect without a routine: {:#x}", static_cast<ULONG>(status));
  } else if (!connectable(machine, d)) {
    require(status == STATUS_INVALID_PARAMETER, "Connect of an interrupt IoConnectInterrupt refuses: {:#x}",
            static_cast<ULONG>(status));
  } else {
    require(status == STATUS_SUCCESS, "Connect: {:#x}", static_cast<ULONG>(status));
  }
  require((sync->GetKInterrupt() != nullptr) == (status == STATUS_SUCCESS), "GetKInterrupt after Connect {:#x}",
          static_cast<ULONG>(status));
  if (status == STATUS_SUCCESS) {
    require(sync->Connect() == STATUS_INVALID_DEVICE_STATE, "a second Connect");
    raise(served);
    require(served.calls.load() > 0 && !served.pending.load(), "the connected service routines did not serve");
  }

  const bool null = in.rarely();
  const NTSTATUS result = sync->CallSynchronizedRoutine(null ? nullptr : Synchronized, &served);
  require(result == (null ? STATUS_INVALID_PARAMETER : served.synchronized_result),
          "CallSynchronizedRoutine returned {:#x}", static_cast<ULONG>(result));
  require((served.irqls.load() & ~allowed) == 0, "routines ran at IRQLs {:#x}, the interrupt's level is {}",
          served.irqls.load(), served.level);

  // The last Release disconnects an object still connected; Disconnect before it may be repeated.
  for (std::size_t disconnects = in.below(3); disconnects > 0; --disconnects) sync->Disconnect();
  if (status == STATUS_SUCCESS && sync->GetKInterrupt() == nullptr) {
    const unsigned before = served.calls.load();
    raise(served);
    require(served.calls.load() == before, "a service routine ran after Disconnect");
    if (served.level_triggered) machine.deassert_line(served.vector);
  }
  require(sync->Release() == 0, "an interrupt sync object outlived its last reference");
}

// ---- the input ---------------------------------------------------------------------------------

PRESOURCELIST pick_list(Input& in, PRESOURCELIST list, PRESOURCELIST other) {
  return in.pick(std::array<PRESOURCELIST, 4>{list, list, other, nullptr});
}

void exercise_sublist(Input& in, PRESOURCELIST list, PRESOURCELIST device_list) {
  PRESOURCELIST parent = pick_list(in, list, device_list);
  const bool outer = in.rarely();
  // A 0 byte gives room for one entry.
  const ULONG maximum = in.rarely() ? in.take<std::uint16_t>() : static_cast<ULONG>((in.below(4) + 1) % 4);
  PRESOURCELIST sublist = nullptr;
  const NTSTATUS status =
      PcNewResourceSublist(&sublist, outer ? device_list : nullptr, NonPagedPool, parent, maximum);
  const NTSTATUS expected = parent == nullptr || outer || maximum == 0 ? STATUS_INVALID_PARAMETER
                            : maximum > 1024                         ? STATUS_INSUFFICIENT_RESOURCES
                                                                     : STATUS_SUCCESS;
  require(status == expected && (sublist != nullptr) == (status == STATUS_SUCCESS),
          "PcNewResourceSublist: {:#x}, expected {:#x}", static_cast<ULONG>(status), static_cast<ULONG>(expected));
  if (sublist == nullptr) return;
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> translated;
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> untranslated;
  for (std::size_t adds = in.below(6); adds > 0; --adds) {
    PRESOURCELIST from = pick_list(in, list, device_list);
    const auto type = static_cast<CM_RESOURCE_TYPE>(in.pick(kTypes));
    const auto index = static_cast<ULONG>(in.below(3));
    const PCM_PARTIAL_RESOURCE_DESCRIPTOR t = from == nullptr ? nullptr : from->FindTranslatedEntry(type, index);
    const NTSTATUS added = sublist->AddEntryFromParent(from, type, index);
    const bool full = translated.size() >= maximum;
    if (t == nullptr) {
      require(added == STATUS_INVALID_PARAMETER || (full && added == STATUS_INSUFFICIENT_RESOURCES),
              "AddEntryFromParent of an entry the parent lacks: {:#x}", static_cast<ULONG>(added));
      continue;
    }
    require(added == (full ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS), "AddEntryFromParent: {:#x}",
            static_cast<ULONG>(added));
    if (added != STATUS_SUCCESS) continue;
    translated.push_back(*t);
    untranslated.push_back(*from->FindUntranslatedEntry(type, index));
  }
  require_entries(*sublist, translated, untranslated);
  require(sublist->Release() == 0, "a sublist outlived its last reference");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  Machine machine({.processors = 1 + static_cast<unsigned>(in.below(2)), .interrupt_object_capacity = 4});
  // A device's own lists: a well-formed parent for sublists, and a real object to pass where
  // OuterUnknown must be NULL.
  irqsim::Device card = machine.plug({.name = "card", .lines = {{.vector = kVectorBase, .irql = 5}}});
  PRESOURCELIST device_list = nullptr;
  require(PcNewResourceList(&device_list, nullptr, NonPagedPool, card.translated_resources(), card.raw_resources()) ==
              STATUS_SUCCESS,
          "PcNewResourceList of a device's own lists failed");

  const ListModel translated_model = decode_list(in);
  std::optional<ListModel> untranslated_model;
  const std::size_t untranslated_kind = in.below(6);
  if (untranslated_kind < 3) untranslated_model = mirror(in, translated_model);
  if (untranslated_kind == 3) untranslated_model = decode_list(in);
  std::vector<std::byte> translated_bytes = serialize(translated_model);
  std::vector<std::byte> untranslated_bytes =
      untranslated_model ? serialize(*untranslated_model) : std::vector<std::byte>{};
  auto* translated = reinterpret_cast<PCM_RESOURCE_LIST>(translated_bytes.data());
  // 4: the translated list passed for both; 5: none.
  auto* untranslated = untranslated_kind == 4   ? translated
                       : untranslated_model ? reinterpret_cast<PCM_RESOURCE_LIST>(untranslated_bytes.data())
                                            : nullptr;
  const auto translated_entries = flattened(translated_model);
  const auto untranslated_entries = untranslated_model ? flattened(*untranslated_model) : translated_entries;

  if (in.rarely()) translated = nullptr;
  const bool outer = in.rarely();
  const bool no_output = in.rarely();
  const Caller who = caller(in, machine);
  PRESOURCELIST list = nullptr;
  NTSTATUS status = STATUS_SUCCESS;
  try {
    status = call_as(machine, who, [&] {
      return PcNewResourceList(no_output ? nullptr : &list, outer ? device_list : nullptr, NonPagedPool, translated,
                               untranslated);
    });
  } catch (const BugCheckError& error) {
    require_reported(machine, error.report());
    require(who.irql > PASSIVE_LEVEL && error.report().code == bugcheck::kDriverVerifierDetectedViolation &&
                error.report().parameters[0] == bugcheck::kRulePcIrqlDdis,
            "PcNewResourceList raised an unexpected bug check:\n{}", error.report().to_string());
    // The halted machine is not used again; the call created nothing.
    device_list->Release();
    return 0;
  }
  const NTSTATUS expected = no_output || outer || translated == nullptr || untranslated == nullptr ||
                                    !same_types(translated_entries, untranslated_entries)
                                ? STATUS_INVALID_PARAMETER
                                : STATUS_SUCCESS;
  require(who.irql == PASSIVE_LEVEL && status == expected && (list != nullptr) == (status == STATUS_SUCCESS),
          "PcNewResourceList at IRQL {}: {:#x}, expected {:#x}", who.irql, static_cast<ULONG>(status),
          static_cast<ULONG>(expected));
  if (list != nullptr) {
    require_entries(*list, translated_entries, untranslated_entries);
    if (!translated_entries.empty()) {
      CM_PARTIAL_RESOURCE_DESCRIPTOR t = translated_entries.front();
      CM_PARTIAL_RESOURCE_DESCRIPTOR u = untranslated_entries.front();
      require(list->AddEntry(&t, &u) == STATUS_INSUFFICIENT_RESOURCES, "a list made by PcNewResourceList grew");
    }
    require_interfaces(in, *list);
  }
  exercise_sublist(in, list, device_list);

  for (std::size_t syncs = in.below(3); syncs > 0; --syncs) {
    PRESOURCELIST from = pick_list(in, list, device_list);
    const ULONG interrupts = from == nullptr ? 0 : from->NumberOfInterrupts();
    const auto index = static_cast<ULONG>(in.rarely() ? in.take<std::uint32_t>() : in.below(interrupts + 2));
    const auto mode = static_cast<INTERRUPTSYNCMODE>(in.rarely() ? in.take<std::uint32_t>() : 1 + in.below(3));
    const bool sync_outer = in.rarely();
    PINTERRUPTSYNC sync = nullptr;
    const NTSTATUS made = PcNewInterruptSync(&sync, sync_outer ? device_list : nullptr, from, index, mode);
    const PCM_PARTIAL_RESOURCE_DESCRIPTOR d = index < interrupts ? from->FindTranslatedInterrupt(index) : nullptr;
    const bool good = !sync_outer && d != nullptr &&
                      one_of(mode, {InterruptSyncModeNormal, InterruptSyncModeAll, InterruptSyncModeRepeat}) &&
                      d->u.Interrupt.Level > DISPATCH_LEVEL && d->u.Interrupt.Level <= HIGH_LEVEL;
    require(made == (good ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER) && (sync != nullptr) == good,
            "PcNewInterruptSync: {:#x}", static_cast<ULONG>(made));
    if (sync == nullptr) continue;
    try {
      exercise_sync(in, machine, sync, *d);
    } catch (const BugCheckError& error) {
      fail(fmt::format("an interrupt sync object raised a bug check:\n{}", error.report().to_string()));
    }
  }

  if (list != nullptr) require(list->Release() == 0, "a resource list outlived its last reference");
  require(device_list->Release() == 0, "a device's resource list outlived its last reference");
  return 0;
}
