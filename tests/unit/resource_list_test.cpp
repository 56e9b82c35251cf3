// IResourceList, PcNewResourceList and PcNewResourceSublist: the resource list port class hands
// an audio miniport, what it finds in it (by type and index, translated and untranslated), how
// lists are built from a device's CM_RESOURCE_LISTs and from a parent list, their IUnknown, the
// interface identifiers, argument validation, the PASSIVE_LEVEL rule of the factories, and that
// every list is freed by its last Release.

#include <portcls.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using irqsim::Device;
using irqsim::Machine;
using irqsim::MessageKind;
using irqsim::Trigger;
using namespace irqsim_test;

// ---- reading descriptors ------------------------------------------------------------------------

// Descriptors are compared byte for byte: a copy must carry every field, including the ones a
// test did not think of (the union's unused bytes stay as the source had them).
bool SameBytes(const CM_PARTIAL_RESOURCE_DESCRIPTOR& a, const CM_PARTIAL_RESOURCE_DESCRIPTOR& b) {
  return std::memcmp(&a, &b, sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR)) == 0;
}

// The descriptors of a list's first full descriptor, which is all a device's lists and a
// resource list's TranslatedList()/UntranslatedList() have.
std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> Descriptors(PCM_RESOURCE_LIST list) {
  const CM_PARTIAL_RESOURCE_LIST& partial = list->List[0].PartialResourceList;
  return {partial.PartialDescriptors, partial.PartialDescriptors + partial.Count};
}

// Entry `index` of the first full descriptor, as a pointer: what Find* must return into.
PCM_PARTIAL_RESOURCE_DESCRIPTOR EntryOf(PCM_RESOURCE_LIST list, ULONG index) {
  return &list->List[0].PartialResourceList.PartialDescriptors[index];
}

// ---- hand-made descriptors and lists ------------------------------------------------------------

// A descriptor of `type` whose u.DevicePrivate.Data[1] carries `tag`, so that tests can tell
// entries, and the translated from the untranslated copy, apart. Data[0] stays 0: for a
// device-specific entry it is DataSize, and no data follows these descriptors.
CM_PARTIAL_RESOURCE_DESCRIPTOR Tagged(CM_RESOURCE_TYPE type, ULONG tag) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR descriptor{};
  descriptor.Type = static_cast<UCHAR>(type);
  descriptor.ShareDisposition = CmResourceShareDeviceExclusive;
  descriptor.u.DevicePrivate.Data[1] = tag;
  return descriptor;
}

ULONG TagOf(const CM_PARTIAL_RESOURCE_DESCRIPTOR* descriptor) { return descriptor->u.DevicePrivate.Data[1]; }

// The tags of a list's entries, in order.
std::vector<ULONG> Tags(PCM_RESOURCE_LIST list) {
  std::vector<ULONG> tags;
  for (const auto& descriptor : Descriptors(list)) tags.push_back(TagOf(&descriptor));
  return tags;
}

// One full descriptor of a hand-made list.
struct Bus {
  INTERFACE_TYPE interface_type = PCIBus;
  ULONG number = 0;
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> entries;
  // Data after the last entry, which is then a CmResourceTypeDeviceSpecific one (its DataSize).
  std::vector<std::byte> device_specific_data{};
};

// A CM_RESOURCE_LIST laid out as the PnP manager lays it out: `Count` full descriptors back to
// back, each starting right after the last partial descriptor of the one before. It lives in a
// heap block of exactly that size, so that AddressSanitizer reports a read past its end.
class HandMadeList {
 public:
  explicit HandMadeList(const std::vector<Bus>& buses) {
    std::size_t size = kListHeader;
    for (const Bus& bus : buses) {
      size += kFullHeader + bus.entries.size() * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR) + bus.device_specific_data.size();
    }
    bytes_.resize(size);
    const auto count = static_cast<ULONG>(buses.size());
    std::memcpy(bytes_.data(), &count, sizeof count);
    std::size_t offset = kListHeader;
    for (const Bus& bus : buses) {
      CM_FULL_RESOURCE_DESCRIPTOR header{};
      header.InterfaceType = bus.interface_type;
      header.BusNumber = bus.number;
      header.PartialResourceList.Version = 1;
      header.PartialResourceList.Revision = 1;
      header.PartialResourceList.Count = static_cast<ULONG>(bus.entries.size());
      std::memcpy(bytes_.data() + offset, &header, kFullHeader);
      offset += kFullHeader;
      const std::size_t entry_bytes = bus.entries.size() * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR);
      if (entry_bytes != 0) std::memcpy(bytes_.data() + offset, bus.entries.data(), entry_bytes);
      offset += entry_bytes;
      if (!bus.device_specific_data.empty()) {
        std::memcpy(bytes_.data() + offset, bus.device_specific_data.data(), bus.device_specific_data.size());
      }
      offset += bus.device_specific_data.size();
    }
  }

  [[nodiscard]] PCM_RESOURCE_LIST get() { return reinterpret_cast<PCM_RESOURCE_LIST>(bytes_.data()); }

 private:
  // Bytes before the first full descriptor, and before a full descriptor's first partial one.
  static constexpr std::size_t kListHeader = offsetof(CM_RESOURCE_LIST, List);
  static constexpr std::size_t kFullHeader =
      offsetof(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList) + offsetof(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors);

  std::vector<std::byte> bytes_;
};

// The untranslated twin of a translated entry in hand-made lists: same type, tag + kRawTag.
constexpr ULONG kRawTag = 0x10000;

// Two hand-made lists, translated and untranslated, with the same buses and entry types; the
// untranslated entries' tags are the translated ones plus kRawTag.
struct HandMadePair {
  explicit HandMadePair(const std::vector<Bus>& buses) : translated(buses), untranslated(Untranslated(buses)) {}

  static std::vector<Bus> Untranslated(std::vector<Bus> buses) {
    for (Bus& bus : buses) {
      for (auto& entry : bus.entries) entry.u.DevicePrivate.Data[1] += kRawTag;
    }
    return buses;
  }

  HandMadeList translated;
  HandMadeList untranslated;
};

// ---- creating lists -----------------------------------------------------------------------------

// Drops a port-class reference; for the lists a test does not count references of.
struct Releaser {
  void operator()(IUnknown* object) const { object->Release(); }
};
using ResourceListPtr = std::unique_ptr<IResourceList, Releaser>;

// A new resource list, or null after recording the factory's failure.
ResourceListPtr NewList(PCM_RESOURCE_LIST translated, PCM_RESOURCE_LIST untranslated) {
  PRESOURCELIST list = nullptr;
  EXPECT_EQ(PcNewResourceList(&list, nullptr, NonPagedPool, translated, untranslated), STATUS_SUCCESS);
  return ResourceListPtr(list);
}

ResourceListPtr NewList(HandMadePair& lists) { return NewList(lists.translated.get(), lists.untranslated.get()); }

// A new empty sublist of `parent`, or null after recording the factory's failure.
ResourceListPtr NewSublist(IResourceList* parent, ULONG maximum_entries) {
  PRESOURCELIST list = nullptr;
  EXPECT_EQ(PcNewResourceSublist(&list, nullptr, NonPagedPool, parent, maximum_entries), STATUS_SUCCESS);
  return ResourceListPtr(list);
}

// What a factory's out-pointer holds before a call that must clear it.
PRESOURCELIST Garbage() { return reinterpret_cast<PRESOURCELIST>(std::uintptr_t{0xBAD0}); }

// ================================================================================================
// A list made from a plugged device
// ================================================================================================

// An audio card with registers, two lines (level-triggered shared, latched exclusive) and three
// MSI-X messages: six entries, memory first, then the lines, then the messages.
class DeviceResourceList : public ::testing::Test {
 protected:
  static constexpr ULONG kEntries = 6;

  Machine m{{.processors = 4}};
  Device card = m.plug({.name = "audio",
                        .lines = {{.vector = 0x51, .irql = 5},
                                  {.vector = 0x62, .irql = 6, .trigger = Trigger::Latched, .shareable = false}},
                        .message_kind = MessageKind::MsiX,
                        .messages = {{.vector = 0x70, .irql = 7, .affinity = 1},
                                     {.vector = 0x81, .irql = 8, .affinity = 2},
                                     {.vector = 0x92, .irql = 9, .affinity = 4}},
                        .register_bytes = 0x1000});
  ResourceListPtr list = NewList(card.translated_resources(), card.raw_resources());
};

TEST_F(DeviceResourceList, CountsEveryEntryAndTheEntriesOfEachType) {
  ASSERT_TRUE(list);
  EXPECT_EQ(list->NumberOfEntries(), kEntries);
  EXPECT_EQ(list->NumberOfMemories(), 1u);
  EXPECT_EQ(list->NumberOfInterrupts(), 5u);  // two lines and three MSI-X messages
  EXPECT_EQ(list->NumberOfPorts(), 0u);
  EXPECT_EQ(list->NumberOfDmas(), 0u);
  EXPECT_EQ(list->NumberOfEntriesOfType(CmResourceTypeMemoryLarge), 0u);
}

TEST_F(DeviceResourceList, FindsTheLinesAndMessagesByInterruptIndex) {
  ASSERT_TRUE(list);
  PCM_PARTIAL_RESOURCE_DESCRIPTOR first_line = list->FindTranslatedInterrupt(0);
  ASSERT_NE(first_line, nullptr);
  EXPECT_EQ(first_line->Flags, CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE);
  EXPECT_EQ(first_line->ShareDisposition, CmResourceShareShared);
  EXPECT_EQ(first_line->u.Interrupt.Level, 5);
  EXPECT_EQ(first_line->u.Interrupt.Vector, 0x51u);

  PCM_PARTIAL_RESOURCE_DESCRIPTOR second_line = list->FindTranslatedInterrupt(1);
  ASSERT_NE(second_line, nullptr);
  EXPECT_EQ(second_line->Flags, CM_RESOURCE_INTERRUPT_LATCHED);
  EXPECT_EQ(second_line->ShareDisposition, CmResourceShareDeviceExclusive);
  EXPECT_EQ(second_line->u.Interrupt.Vector, 0x62u);

  const ULONG message_vectors[] = {0x70, 0x81, 0x92};
  for (ULONG message = 0; message < 3; ++message) {
    SCOPED_TRACE(testing::Message() << "message " << message);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR entry = list->FindTranslatedInterrupt(2 + message);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->Flags, CM_RESOURCE_INTERRUPT_LATCHED | CM_RESOURCE_INTERRUPT_MESSAGE);
    EXPECT_EQ(entry->u.MessageInterrupt.Translated.Vector, message_vectors[message]);
    EXPECT_EQ(entry->u.MessageInterrupt.Translated.Level, 7 + message);
    EXPECT_EQ(KAFFINITY{entry->u.MessageInterrupt.Translated.Affinity}, KAFFINITY{1} << message);
  }

  PCM_PARTIAL_RESOURCE_DESCRIPTOR memory = list->FindTranslatedMemory(0);
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(static_cast<std::uint64_t>(memory->u.Memory.Start.QuadPart), card.register_address());
  EXPECT_EQ(memory->u.Memory.Length, 0x1000u);
}

TEST_F(DeviceResourceList, UntranslatedEntriesAreTheRawOnes) {
  ASSERT_TRUE(list);
  // The raw list's line vector is the bus's IRQ, not the system vector.
  PCM_PARTIAL_RESOURCE_DESCRIPTOR raw_line = list->FindUntranslatedInterrupt(0);
  ASSERT_NE(raw_line, nullptr);
  EXPECT_EQ(raw_line->u.Interrupt.Vector, Descriptors(card.raw_resources())[1].u.Interrupt.Vector);
  EXPECT_NE(raw_line->u.Interrupt.Vector, list->FindTranslatedInterrupt(0)->u.Interrupt.Vector);
  PCM_PARTIAL_RESOURCE_DESCRIPTOR raw_message = list->FindUntranslatedInterrupt(4);
  ASSERT_NE(raw_message, nullptr);
  EXPECT_EQ(raw_message->u.MessageInterrupt.Raw.MessageCount, 1);
}

TEST_F(DeviceResourceList, EveryEntryIsACopyOfTheDevicesInTheSameOrder) {
  ASSERT_TRUE(list);
  const auto translated = Descriptors(card.translated_resources());
  const auto raw = Descriptors(card.raw_resources());
  ASSERT_EQ(translated.size(), kEntries);
  std::vector<ULONG> seen_of_type(256, 0);
  for (ULONG i = 0; i < kEntries; ++i) {
    SCOPED_TRACE(testing::Message() << "entry " << i);
    const CM_RESOURCE_TYPE type = translated[i].Type;
    const ULONG index = seen_of_type[translated[i].Type]++;
    PCM_PARTIAL_RESOURCE_DESCRIPTOR found = list->FindTranslatedEntry(type, index);
    ASSERT_NE(found, nullptr);
    EXPECT_TRUE(SameBytes(*found, translated[i]));
    EXPECT_EQ(found, EntryOf(list->TranslatedList(), i));
    PCM_PARTIAL_RESOURCE_DESCRIPTOR found_raw = list->FindUntranslatedEntry(type, index);
    ASSERT_NE(found_raw, nullptr);
    EXPECT_TRUE(SameBytes(*found_raw, raw[i]));
    EXPECT_EQ(found_raw, EntryOf(list->UntranslatedList(), i));
  }
}

TEST_F(DeviceResourceList, FindingPastTheLastEntryOfATypeReturnsNull) {
  ASSERT_TRUE(list);
  EXPECT_EQ(list->FindTranslatedInterrupt(5), nullptr);
  EXPECT_EQ(list->FindUntranslatedInterrupt(5), nullptr);
  EXPECT_EQ(list->FindTranslatedMemory(1), nullptr);
  EXPECT_EQ(list->FindUntranslatedMemory(1), nullptr);
  EXPECT_EQ(list->FindTranslatedPort(0), nullptr);
  EXPECT_EQ(list->FindTranslatedInterrupt(~ULONG{0}), nullptr);
}

TEST_F(DeviceResourceList, WholeListsAreOneFullDescriptorOnTheDevicesBusHoldingOwnCopies) {
  ASSERT_TRUE(list);
  for (const auto& [name, whole, device_list] :
       {std::tuple{"translated", list->TranslatedList(), card.translated_resources()},
        std::tuple{"untranslated", list->UntranslatedList(), card.raw_resources()}}) {
    SCOPED_TRACE(name);
    ASSERT_NE(whole, nullptr);
    EXPECT_NE(whole, device_list);
    EXPECT_EQ(whole->Count, 1u);
    EXPECT_EQ(whole->List[0].InterfaceType, PCIBus);
    EXPECT_EQ(whole->List[0].BusNumber, 0u);
    EXPECT_EQ(whole->List[0].PartialResourceList.Version, 1);
    EXPECT_EQ(whole->List[0].PartialResourceList.Revision, 1);
    const auto copies = Descriptors(whole);
    const auto originals = Descriptors(device_list);
    ASSERT_EQ(copies.size(), originals.size());
    for (std::size_t i = 0; i < copies.size(); ++i) EXPECT_TRUE(SameBytes(copies[i], originals[i])) << "entry " << i;
  }
}

TEST_F(DeviceResourceList, IsFullSoAddingAnEntryFails) {
  ASSERT_TRUE(list);
  ResourceListPtr other = NewList(card.translated_resources(), card.raw_resources());
  ASSERT_TRUE(other);
  EXPECT_EQ(list->AddEntry(other->FindTranslatedMemory(0), other->FindUntranslatedMemory(0)),
            STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(list->AddInterruptFromParent(other.get(), 0), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(list->NumberOfEntries(), kEntries);
  EXPECT_EQ(list->TranslatedList()->List[0].PartialResourceList.Count, kEntries);
}

// ================================================================================================
// Sublists
// ================================================================================================

using DeviceSublist = DeviceResourceList;

TEST_F(DeviceSublist, StartsEmptyUnderTheParentsBus) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 4);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->NumberOfEntries(), 0u);
  EXPECT_EQ(sub->NumberOfInterrupts(), 0u);
  EXPECT_EQ(sub->FindTranslatedInterrupt(0), nullptr);
  EXPECT_EQ(sub->FindUntranslatedMemory(0), nullptr);
  for (PCM_RESOURCE_LIST whole : {sub->TranslatedList(), sub->UntranslatedList()}) {
    ASSERT_NE(whole, nullptr);
    EXPECT_EQ(whole->Count, 1u);
    EXPECT_EQ(whole->List[0].InterfaceType, PCIBus);
    EXPECT_EQ(whole->List[0].PartialResourceList.Count, 0u);
  }
}

TEST_F(DeviceSublist, AddingFromTheParentCopiesBothHalvesOfTheEntry) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 2);
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->AddInterruptFromParent(list.get(), 3), STATUS_SUCCESS);  // the second MSI-X message
  ASSERT_EQ(sub->AddMemoryFromParent(list.get(), 0), STATUS_SUCCESS);
  EXPECT_EQ(sub->NumberOfEntries(), 2u);
  EXPECT_EQ(sub->NumberOfInterrupts(), 1u);
  EXPECT_EQ(sub->NumberOfMemories(), 1u);
  ASSERT_NE(sub->FindTranslatedInterrupt(0), nullptr);
  EXPECT_NE(sub->FindTranslatedInterrupt(0), list->FindTranslatedInterrupt(3));
  EXPECT_TRUE(SameBytes(*sub->FindTranslatedInterrupt(0), *list->FindTranslatedInterrupt(3)));
  EXPECT_TRUE(SameBytes(*sub->FindUntranslatedInterrupt(0), *list->FindUntranslatedInterrupt(3)));
  EXPECT_TRUE(SameBytes(*sub->FindTranslatedMemory(0), *list->FindTranslatedMemory(0)));
  // The whole lists show the entries in the order they were added.
  EXPECT_EQ(sub->TranslatedList()->List[0].PartialResourceList.Count, 2u);
  EXPECT_EQ(EntryOf(sub->TranslatedList(), 0), sub->FindTranslatedInterrupt(0));
  EXPECT_EQ(EntryOf(sub->UntranslatedList(), 1), sub->FindUntranslatedMemory(0));
}

TEST_F(DeviceSublist, EntriesOutliveTheParent) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 1);
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->AddInterruptFromParent(list.get(), 1), STATUS_SUCCESS);
  const CM_PARTIAL_RESOURCE_DESCRIPTOR expected = *list->FindTranslatedInterrupt(1);
  EXPECT_EQ(list.release()->Release(), 0u);
  // AddressSanitizer reports a use after free if the sublist only pointed into its parent.
  ASSERT_NE(sub->FindTranslatedInterrupt(0), nullptr);
  EXPECT_TRUE(SameBytes(*sub->FindTranslatedInterrupt(0), expected));
}

TEST_F(DeviceSublist, HoldsAtMostMaximumEntries) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 2);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->AddInterruptFromParent(list.get(), 0), STATUS_SUCCESS);
  EXPECT_EQ(sub->AddInterruptFromParent(list.get(), 1), STATUS_SUCCESS);
  EXPECT_EQ(sub->AddInterruptFromParent(list.get(), 2), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(sub->AddEntry(list->FindTranslatedMemory(0), list->FindUntranslatedMemory(0)),
            STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(sub->NumberOfEntries(), 2u);
  EXPECT_EQ(sub->FindTranslatedInterrupt(2), nullptr);
}

TEST_F(DeviceSublist, AMissingParentEntryIsAnInvalidParameter) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 4);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->AddInterruptFromParent(list.get(), 5), STATUS_INVALID_PARAMETER);  // index == count
  EXPECT_EQ(sub->AddMemoryFromParent(list.get(), 1), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->AddPortFromParent(list.get(), 0), STATUS_INVALID_PARAMETER);      // no entry of the type
  EXPECT_EQ(sub->AddInterruptFromParent(nullptr, 0), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->NumberOfEntries(), 0u);
}

TEST_F(DeviceSublist, DescriptorsDoNotMoveAsEntriesAreAdded) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), kEntries);
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->AddMemoryFromParent(list.get(), 0), STATUS_SUCCESS);
  const PCM_PARTIAL_RESOURCE_DESCRIPTOR translated = sub->FindTranslatedMemory(0);
  const PCM_PARTIAL_RESOURCE_DESCRIPTOR untranslated = sub->FindUntranslatedMemory(0);
  const PCM_RESOURCE_LIST whole = sub->TranslatedList();
  const CM_PARTIAL_RESOURCE_DESCRIPTOR expected = *translated;
  for (ULONG i = 0; i < 4; ++i) ASSERT_EQ(sub->AddInterruptFromParent(list.get(), i), STATUS_SUCCESS);
  CM_PARTIAL_RESOURCE_DESCRIPTOR port = Tagged(CmResourceTypePort, 1);
  ASSERT_EQ(sub->AddEntry(&port, &port), STATUS_SUCCESS);
  EXPECT_EQ(sub->FindTranslatedMemory(0), translated);
  EXPECT_EQ(sub->FindUntranslatedMemory(0), untranslated);
  EXPECT_EQ(sub->TranslatedList(), whole);
  EXPECT_TRUE(SameBytes(*translated, expected));
  EXPECT_EQ(whole->List[0].PartialResourceList.Count, kEntries);
}

TEST_F(DeviceSublist, CanBeItsOwnParent) {
  ResourceListPtr sublist = NewSublist(list.get(), 2);
  ASSERT_TRUE(sublist);
  ASSERT_EQ(sublist->AddMemoryFromParent(list.get(), 0), STATUS_SUCCESS);
  EXPECT_EQ(sublist->AddMemoryFromParent(sublist.get(), 0), STATUS_SUCCESS);
  EXPECT_EQ(sublist->NumberOfMemories(), 2u);
  EXPECT_TRUE(SameBytes(*sublist->FindTranslatedMemory(1), *list->FindTranslatedMemory(0)));
}

TEST_F(DeviceSublist, CanBeTheParentOfAnotherSublist) {
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 2);
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->AddInterruptFromParent(list.get(), 2), STATUS_SUCCESS);
  ResourceListPtr subsub = NewSublist(sub.get(), 1);
  ASSERT_TRUE(subsub);
  ASSERT_EQ(subsub->AddInterruptFromParent(sub.get(), 0), STATUS_SUCCESS);
  EXPECT_TRUE(SameBytes(*subsub->FindTranslatedInterrupt(0), *list->FindTranslatedInterrupt(2)));
}

TEST(PcNewResourceSublistArguments, NullPointersAndAnOuterUnknownAreInvalid) {
  Machine m;
  HandMadePair empty({});
  ResourceListPtr parent = NewList(empty);
  ASSERT_TRUE(parent);
  EXPECT_EQ(PcNewResourceSublist(nullptr, nullptr, NonPagedPool, parent.get(), 1), STATUS_INVALID_PARAMETER);
  auto expect_invalid = [](PUNKNOWN outer, PRESOURCELIST parent_list) {
    PRESOURCELIST sub = Garbage();
    EXPECT_EQ(PcNewResourceSublist(&sub, outer, NonPagedPool, parent_list, 1), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(sub, nullptr);
  };
  expect_invalid(nullptr, nullptr);
  expect_invalid(parent.get(), parent.get());
  EXPECT_EQ(parent->AddRef(), 2u);  // the failed calls kept no reference to the parent or outer object
  EXPECT_EQ(parent->Release(), 1u);
}

TEST(PcNewResourceSublistArguments, ACapacityOfZeroIsInvalidAndAbove1024IsTooMuch) {
  Machine m;
  HandMadePair empty({});
  ResourceListPtr parent = NewList(empty);
  ASSERT_TRUE(parent);
  struct Case {
    ULONG maximum_entries;
    NTSTATUS status;
  };
  for (const Case c : {Case{0, STATUS_INVALID_PARAMETER}, Case{1025, STATUS_INSUFFICIENT_RESOURCES},
                       Case{~ULONG{0}, STATUS_INSUFFICIENT_RESOURCES}}) {
    SCOPED_TRACE(testing::Message() << "MaximumEntries " << c.maximum_entries);
    PRESOURCELIST sub = Garbage();
    EXPECT_EQ(PcNewResourceSublist(&sub, nullptr, NonPagedPool, parent.get(), c.maximum_entries), c.status);
    EXPECT_EQ(sub, nullptr);
  }
}

TEST(ResourceSublistCapacity, A1024EntrySublistTakes1024Entries) {
  Machine m;
  HandMadePair one({{.entries = {Tagged(CmResourceTypePort, 7)}}});
  ResourceListPtr parent = NewList(one);
  ASSERT_TRUE(parent);
  ResourceListPtr sub = NewSublist(parent.get(), 1024);
  ASSERT_TRUE(sub);
  for (ULONG i = 0; i < 1024; ++i) ASSERT_EQ(sub->AddPortFromParent(parent.get(), 0), STATUS_SUCCESS) << i;
  EXPECT_EQ(sub->AddPortFromParent(parent.get(), 0), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(sub->NumberOfPorts(), 1024u);
  EXPECT_EQ(TagOf(sub->FindTranslatedPort(1023)), 7u);
  EXPECT_EQ(TagOf(sub->FindUntranslatedPort(1023)), 7u + kRawTag);
}

// ================================================================================================
// AddEntry
// ================================================================================================

class ResourceListAddEntry : public ::testing::Test {
 protected:
  Machine m;
  HandMadePair empty{{}};
  ResourceListPtr parent = NewList(empty);
  ResourceListPtr sub = parent ? NewSublist(parent.get(), 2) : nullptr;
};

TEST_F(ResourceListAddEntry, CopiesBothDescriptors) {
  ASSERT_TRUE(sub);
  CM_PARTIAL_RESOURCE_DESCRIPTOR translated = Tagged(CmResourceTypeDma, 1);
  CM_PARTIAL_RESOURCE_DESCRIPTOR untranslated = Tagged(CmResourceTypeDma, 2);
  ASSERT_EQ(sub->AddEntry(&translated, &untranslated), STATUS_SUCCESS);
  translated.u.DevicePrivate.Data[1] = 99;  // the caller's descriptors are its own again
  untranslated.u.DevicePrivate.Data[1] = 99;
  EXPECT_EQ(sub->NumberOfDmas(), 1u);
  EXPECT_EQ(TagOf(sub->FindTranslatedDma(0)), 1u);
  EXPECT_EQ(TagOf(sub->FindUntranslatedDma(0)), 2u);
}

TEST_F(ResourceListAddEntry, RefusesNullOrDifferentlyTypedDescriptors) {
  ASSERT_TRUE(sub);
  CM_PARTIAL_RESOURCE_DESCRIPTOR port = Tagged(CmResourceTypePort, 1);
  CM_PARTIAL_RESOURCE_DESCRIPTOR memory = Tagged(CmResourceTypeMemory, 2);
  EXPECT_EQ(sub->AddEntry(nullptr, &port), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->AddEntry(&port, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->AddEntry(nullptr, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->AddEntry(&port, &memory), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->NumberOfEntries(), 0u);
  EXPECT_EQ(sub->TranslatedList()->List[0].PartialResourceList.Count, 0u);
}

// ================================================================================================
// Lists made from hand-made CM_RESOURCE_LISTs
// ================================================================================================

TEST(HandMadeResourceList, FlattensEveryFullDescriptorInOrderUnderTheFirstOnesBus) {
  Machine m;
  HandMadePair lists({{.interface_type = PCIBus,
                       .number = 3,
                       .entries = {Tagged(CmResourceTypeMemory, 1), Tagged(CmResourceTypeInterrupt, 2)}},
                      {.interface_type = Isa,
                       .number = 0,
                       .entries = {Tagged(CmResourceTypePort, 3), Tagged(CmResourceTypeInterrupt, 4),
                                   Tagged(CmResourceTypeDma, 5)}}});
  ResourceListPtr list = NewList(lists);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->NumberOfEntries(), 5u);
  EXPECT_EQ(list->NumberOfInterrupts(), 2u);
  EXPECT_EQ(TagOf(list->FindTranslatedInterrupt(1)), 4u);
  EXPECT_EQ(TagOf(list->FindUntranslatedInterrupt(1)), 4u + kRawTag);
  EXPECT_EQ(TagOf(list->FindTranslatedDma(0)), 5u);
  EXPECT_THAT(Tags(list->TranslatedList()), testing::ElementsAre(1u, 2u, 3u, 4u, 5u));
  EXPECT_THAT(Tags(list->UntranslatedList()),
              testing::ElementsAre(1u + kRawTag, 2u + kRawTag, 3u + kRawTag, 4u + kRawTag, 5u + kRawTag));
  for (PCM_RESOURCE_LIST whole : {list->TranslatedList(), list->UntranslatedList()}) {
    EXPECT_EQ(whole->Count, 1u);
    EXPECT_EQ(whole->List[0].InterfaceType, PCIBus);
    EXPECT_EQ(whole->List[0].BusNumber, 3u);
  }
}

TEST(HandMadeResourceList, AnEmptyFullDescriptorIsSteppedOver) {
  Machine m;
  HandMadePair lists({{.entries = {}}, {.entries = {Tagged(CmResourceTypeInterrupt, 1)}}, {.entries = {}}});
  ResourceListPtr list = NewList(lists);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->NumberOfEntries(), 1u);
  EXPECT_EQ(TagOf(list->FindTranslatedInterrupt(0)), 1u);
  EXPECT_EQ(TagOf(list->FindUntranslatedInterrupt(0)), 1u + kRawTag);
}

TEST(HandMadeResourceList, HowTheEntriesAreSplitIntoFullDescriptorsDoesNotMatter) {
  Machine m;
  // Entry i of one list must describe entry i of the other; the full descriptors are flattened
  // first, so a different split with the same entries is accepted.
  HandMadeList translated({{.entries = {Tagged(CmResourceTypeMemory, 1), Tagged(CmResourceTypeInterrupt, 2),
                                        Tagged(CmResourceTypePort, 3)}}});
  HandMadeList untranslated({{.entries = {Tagged(CmResourceTypeMemory, 11)}},
                             {.entries = {Tagged(CmResourceTypeInterrupt, 12), Tagged(CmResourceTypePort, 13)}}});
  ResourceListPtr list = NewList(translated.get(), untranslated.get());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->NumberOfEntries(), 3u);
  EXPECT_THAT(Tags(list->UntranslatedList()), testing::ElementsAre(11u, 12u, 13u));
}

TEST(HandMadeResourceList, DeviceSpecificDataIsSteppedOverAndNotCopied) {
  Machine m;
  CM_PARTIAL_RESOURCE_DESCRIPTOR specific = Tagged(CmResourceTypeDeviceSpecific, 2);
  specific.u.DeviceSpecificData.DataSize = 8;
  const std::vector<std::byte> data(8, std::byte{0xEE});
  HandMadePair lists({{.entries = {Tagged(CmResourceTypeMemory, 1), specific}, .device_specific_data = data},
                      {.number = 1, .entries = {Tagged(CmResourceTypeInterrupt, 3)}}});
  ResourceListPtr list = NewList(lists);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->NumberOfEntries(), 3u);
  ASSERT_EQ(list->NumberOfInterrupts(), 1u);
  EXPECT_EQ(TagOf(list->FindTranslatedInterrupt(0)), 3u);
  EXPECT_EQ(TagOf(list->FindUntranslatedInterrupt(0)), 3u + kRawTag);
  // The copy keeps the descriptor but not the data, so nobody reads past it.
  EXPECT_EQ(list->FindTranslatedDeviceSpecific(0)->u.DeviceSpecificData.DataSize, 0u);
  EXPECT_EQ(list->FindUntranslatedDeviceSpecific(0)->u.DeviceSpecificData.DataSize, 0u);
}

TEST(HandMadeResourceList, EachSideKeepsItsOwnBus) {
  Machine m;
  HandMadeList translated({{.interface_type = PCIBus, .number = 3, .entries = {Tagged(CmResourceTypePort, 1)}}});
  HandMadeList untranslated({{.interface_type = Isa, .number = 5, .entries = {Tagged(CmResourceTypePort, 11)}}});
  ResourceListPtr list = NewList(translated.get(), untranslated.get());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->TranslatedList()->List[0].InterfaceType, PCIBus);
  EXPECT_EQ(list->TranslatedList()->List[0].BusNumber, 3u);
  EXPECT_EQ(list->UntranslatedList()->List[0].InterfaceType, Isa);
  EXPECT_EQ(list->UntranslatedList()->List[0].BusNumber, 5u);
}

TEST(HandMadeResourceList, MoreThan1024EntriesAreTooMany) {
  Machine m;
  HandMadePair lists({{.entries = std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>(1025, Tagged(CmResourceTypePort, 1))}});
  PRESOURCELIST list = Garbage();
  EXPECT_EQ(PcNewResourceList(&list, nullptr, NonPagedPool, lists.translated.get(), lists.untranslated.get()),
            STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(list, nullptr);
}

TEST(HandMadeResourceList, ListsWithoutEntriesMakeAnEmptyFullList) {
  Machine m;
  HandMadePair lists({});
  ResourceListPtr list = NewList(lists);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->NumberOfEntries(), 0u);
  EXPECT_EQ(list->FindTranslatedInterrupt(0), nullptr);
  EXPECT_EQ(list->TranslatedList()->Count, 1u);
  EXPECT_EQ(list->TranslatedList()->List[0].PartialResourceList.Count, 0u);
  CM_PARTIAL_RESOURCE_DESCRIPTOR port = Tagged(CmResourceTypePort, 1);
  EXPECT_EQ(list->AddEntry(&port, &port), STATUS_INSUFFICIENT_RESOURCES);
}

// ================================================================================================
// PcNewResourceList validation
// ================================================================================================

class PcNewResourceListArguments : public ::testing::Test {
 protected:
  // Runs PcNewResourceList with `out` preset to garbage; expects STATUS_INVALID_PARAMETER and
  // a cleared out-pointer.
  static void ExpectInvalid(PUNKNOWN outer, PCM_RESOURCE_LIST translated, PCM_RESOURCE_LIST untranslated) {
    PRESOURCELIST out = Garbage();
    EXPECT_EQ(PcNewResourceList(&out, outer, NonPagedPool, translated, untranslated), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(out, nullptr);
  }

  Machine m;
  HandMadePair lists{{{.entries = {Tagged(CmResourceTypeMemory, 1), Tagged(CmResourceTypeInterrupt, 2)}}}};
};

TEST_F(PcNewResourceListArguments, ANullOutPointerIsInvalid) {
  EXPECT_EQ(PcNewResourceList(nullptr, nullptr, NonPagedPool, lists.translated.get(), lists.untranslated.get()),
            STATUS_INVALID_PARAMETER);
}

TEST_F(PcNewResourceListArguments, ANullListIsInvalid) {
  ExpectInvalid(nullptr, nullptr, lists.untranslated.get());
  ExpectInvalid(nullptr, lists.translated.get(), nullptr);
  ExpectInvalid(nullptr, nullptr, nullptr);
}

TEST_F(PcNewResourceListArguments, AnOuterUnknownIsInvalidAndKeepsNoReferenceToIt) {
  ResourceListPtr outer = NewList(lists);
  ASSERT_TRUE(outer);
  ExpectInvalid(outer.get(), lists.translated.get(), lists.untranslated.get());
  EXPECT_EQ(outer->AddRef(), 2u);  // the failed call left the outer object's count alone
  EXPECT_EQ(outer->Release(), 1u);
}

TEST_F(PcNewResourceListArguments, ListsOfDifferentLengthsAreInvalid) {
  HandMadeList shorter({{.entries = {Tagged(CmResourceTypeMemory, 1)}}});
  ExpectInvalid(nullptr, lists.translated.get(), shorter.get());
  ExpectInvalid(nullptr, shorter.get(), lists.untranslated.get());
  HandMadeList empty({});
  ExpectInvalid(nullptr, lists.translated.get(), empty.get());
}

TEST_F(PcNewResourceListArguments, ListsWhoseEntriesDifferInTypeAreInvalid) {
  HandMadeList swapped({{.entries = {Tagged(CmResourceTypeInterrupt, 2), Tagged(CmResourceTypeMemory, 1)}}});
  ExpectInvalid(nullptr, lists.translated.get(), swapped.get());
}

// ================================================================================================
// IUnknown
// ================================================================================================

class ResourceListUnknown : public ::testing::Test {
 protected:
  // The object's reference count, read through the IUnknown methods themselves.
  ULONG References() {
    list->AddRef();
    return list->Release();
  }

  Machine m;
  HandMadePair lists{{{.entries = {Tagged(CmResourceTypeInterrupt, 1)}}}};
  PRESOURCELIST list = NewList(lists).release();

  void TearDown() override {
    if (list != nullptr) {
      EXPECT_EQ(list->Release(), 0u);
    }
  }
};

TEST_F(ResourceListUnknown, TheCreatorHoldsTheOnlyReferenceAndCountsAreReturned) {
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->AddRef(), 2u);
  EXPECT_EQ(list->AddRef(), 3u);
  EXPECT_EQ(list->Release(), 2u);
  EXPECT_EQ(list->Release(), 1u);
  EXPECT_EQ(list->Release(), 0u);
  list = nullptr;
}

TEST_F(ResourceListUnknown, QueryInterfaceForIUnknownAddsAReferenceToTheSameObject) {
  ASSERT_NE(list, nullptr);
  PVOID object = nullptr;
  ASSERT_EQ(list->QueryInterface(IID_IUnknown, &object), STATUS_SUCCESS);
  EXPECT_EQ(object, static_cast<PUNKNOWN>(list));
  EXPECT_EQ(References(), 2u);
  EXPECT_EQ(static_cast<PUNKNOWN>(object)->Release(), 1u);
}

TEST_F(ResourceListUnknown, QueryInterfaceForIResourceListAddsAReferenceToTheSameList) {
  ASSERT_NE(list, nullptr);
  PVOID object = nullptr;
  ASSERT_EQ(list->QueryInterface(IID_IResourceList, &object), STATUS_SUCCESS);
  auto* same = static_cast<PRESOURCELIST>(object);
  EXPECT_EQ(same, list);
  EXPECT_EQ(same->NumberOfInterrupts(), 1u);
  EXPECT_EQ(References(), 2u);
  EXPECT_EQ(same->Release(), 1u);
}

TEST_F(ResourceListUnknown, QueryInterfaceForAnotherInterfaceFailsAndClearsTheOutPointer) {
  ASSERT_NE(list, nullptr);
  const IID made_up = {0x12345678, 0x9ABC, 0xDEF0, {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}};
  for (const IID* iid : {&IID_IInterruptSync, &made_up}) {
    PVOID object = Garbage();
    EXPECT_EQ(list->QueryInterface(*iid, &object), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(object, nullptr);
  }
  EXPECT_EQ(References(), 1u);
}

TEST_F(ResourceListUnknown, QueryInterfaceWithANullOutPointerFailsWithoutAReference) {
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->QueryInterface(IID_IResourceList, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(list->QueryInterface(IID_IUnknown, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(References(), 1u);
}

// ================================================================================================
// Interface identifiers
// ================================================================================================

// The registry form of a GUID, as the WDK documents interface identifiers.
std::string GuidText(const GUID& guid) {
  return fmt::format("{{{:08X}-{:04X}-{:04X}-{:02X}-{:02X}}}", guid.Data1, guid.Data2, guid.Data3,
                     fmt::join(guid.Data4, guid.Data4 + 2, ""), fmt::join(guid.Data4 + 2, guid.Data4 + 8, ""));
}

TEST(InterfaceIds, HaveTheDocumentedValues) {
  EXPECT_EQ(GuidText(IID_IUnknown), "{00000000-0000-0000-C000-000000000046}");
  EXPECT_EQ(GuidText(IID_IResourceList), "{22C6AC60-851B-11D0-9A7F-00AA0038ACFE}");
  EXPECT_EQ(GuidText(IID_IInterruptSync), "{22C6AC63-851B-11D0-9A7F-00AA0038ACFE}");
}

TEST(InterfaceIds, AreEqualOnlyToThemselves) {
  const IID* ids[] = {&IID_IUnknown, &IID_IResourceList, &IID_IInterruptSync};
  for (const IID* a : ids) {
    for (const IID* b : ids) {
      EXPECT_EQ(IsEqualGUID(*a, *b), a == b) << GuidText(*a) << " vs " << GuidText(*b);
      EXPECT_EQ(IsEqualIID(*a, *b), a == b) << GuidText(*a) << " vs " << GuidText(*b);
    }
  }
}

TEST(GuidEquality, IsEqualGUIDComparesEveryField) {
  const GUID original = IID_IResourceList;
  GUID copy = original;
  EXPECT_TRUE(IsEqualGUID(copy, original));
  // One changed bit anywhere makes them differ.
  auto expect_differs = [&](auto mutate, const char* field) {
    GUID changed = original;
    mutate(changed);
    EXPECT_FALSE(IsEqualGUID(changed, original)) << field;
    EXPECT_FALSE(IsEqualGUID(original, changed)) << field;
  };
  expect_differs([](GUID& g) { g.Data1 ^= 0x80000000u; }, "Data1");
  expect_differs([](GUID& g) { g.Data2 ^= 1u; }, "Data2");
  expect_differs([](GUID& g) { g.Data3 ^= 0x8000u; }, "Data3");
  for (int byte = 0; byte < 8; ++byte) {
    expect_differs([byte](GUID& g) { g.Data4[byte] ^= 1u; }, ("Data4[" + std::to_string(byte) + "]").c_str());
  }
}

// ================================================================================================
// The helper macros, one family per resource type
// ================================================================================================

// What one family of helper macros does, so that every family runs the same checks. The macros
// are written out literally so that each one is compiled and exercised.
struct MacroFamily {
  const char* name;
  CM_RESOURCE_TYPE type;
  ULONG (*number)(IResourceList&);
  PCM_PARTIAL_RESOURCE_DESCRIPTOR (*find_translated)(IResourceList&, ULONG);
  PCM_PARTIAL_RESOURCE_DESCRIPTOR (*find_untranslated)(IResourceList&, ULONG);
  NTSTATUS (*add_from_parent)(IResourceList&, IResourceList*, ULONG);
};

void PrintTo(const MacroFamily& family, std::ostream* os) { *os << family.name; }

const MacroFamily kFamilies[] = {
    {"Ports", CmResourceTypePort, [](IResourceList& l) { return l.NumberOfPorts(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedPort(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedPort(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddPortFromParent(p, n); }},
    {"Interrupts", CmResourceTypeInterrupt, [](IResourceList& l) { return l.NumberOfInterrupts(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedInterrupt(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedInterrupt(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddInterruptFromParent(p, n); }},
    {"Memories", CmResourceTypeMemory, [](IResourceList& l) { return l.NumberOfMemories(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedMemory(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedMemory(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddMemoryFromParent(p, n); }},
    {"Dmas", CmResourceTypeDma, [](IResourceList& l) { return l.NumberOfDmas(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedDma(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedDma(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddDmaFromParent(p, n); }},
    {"DeviceSpecifics", CmResourceTypeDeviceSpecific, [](IResourceList& l) { return l.NumberOfDeviceSpecifics(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedDeviceSpecific(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedDeviceSpecific(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddDeviceSpecificFromParent(p, n); }},
    {"BusNumbers", CmResourceTypeBusNumber, [](IResourceList& l) { return l.NumberOfBusNumbers(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedBusNumber(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedBusNumber(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddBusNumberFromParent(p, n); }},
    {"DevicePrivates", CmResourceTypeDevicePrivate, [](IResourceList& l) { return l.NumberOfDevicePrivates(); },
     [](IResourceList& l, ULONG n) { return l.FindTranslatedDevicePrivate(n); },
     [](IResourceList& l, ULONG n) { return l.FindUntranslatedDevicePrivate(n); },
     [](IResourceList& l, IResourceList* p, ULONG n) { return l.AddDevicePrivateFromParent(p, n); }},
};

// The tag of the `round`-th translated entry of `type` in the interleaved list below.
ULONG FamilyTag(CM_RESOURCE_TYPE type, ULONG round) { return 0x100 * (round + 1) + static_cast<ULONG>(type); }

// Two entries of every family's type, interleaved (each type's second entry comes after all the
// first ones), with entries of types no family covers in between.
std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> InterleavedEntries() {
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> entries;
  for (ULONG round = 0; round < 2; ++round) {
    for (const MacroFamily& family : kFamilies) entries.push_back(Tagged(family.type, FamilyTag(family.type, round)));
    entries.push_back(Tagged(CmResourceTypeMemoryLarge, 0));
    entries.push_back(Tagged(CmResourceTypeConnection, 0));
  }
  return entries;
}

class HelperMacros : public ::testing::TestWithParam<MacroFamily> {
 protected:
  Machine m;
  HandMadePair lists{{{.entries = InterleavedEntries()}}};
  ResourceListPtr list = NewList(lists);
};

TEST_P(HelperMacros, NumberCountsOnlyItsType) {
  ASSERT_TRUE(list);
  EXPECT_EQ(GetParam().number(*list), 2u);
  EXPECT_EQ(GetParam().number(*list), list->NumberOfEntriesOfType(GetParam().type));
}

TEST_P(HelperMacros, FindTranslatedReturnsTheIndexthEntryOfItsType) {
  ASSERT_TRUE(list);
  const MacroFamily& family = GetParam();
  for (ULONG round = 0; round < 2; ++round) {
    PCM_PARTIAL_RESOURCE_DESCRIPTOR entry = family.find_translated(*list, round);
    ASSERT_NE(entry, nullptr) << "index " << round;
    EXPECT_EQ(entry->Type, family.type);
    EXPECT_EQ(TagOf(entry), FamilyTag(family.type, round));
    EXPECT_EQ(entry, list->FindTranslatedEntry(family.type, round));
  }
  EXPECT_EQ(family.find_translated(*list, 2), nullptr);
}

TEST_P(HelperMacros, FindUntranslatedReturnsTheMatchingRawEntry) {
  ASSERT_TRUE(list);
  const MacroFamily& family = GetParam();
  for (ULONG round = 0; round < 2; ++round) {
    PCM_PARTIAL_RESOURCE_DESCRIPTOR entry = family.find_untranslated(*list, round);
    ASSERT_NE(entry, nullptr) << "index " << round;
    EXPECT_EQ(TagOf(entry), FamilyTag(family.type, round) + kRawTag);
    EXPECT_EQ(entry, list->FindUntranslatedEntry(family.type, round));
  }
  EXPECT_EQ(family.find_untranslated(*list, 2), nullptr);
}

TEST_P(HelperMacros, AddFromParentCopiesTheIndexthEntryOfItsType) {
  ASSERT_TRUE(list);
  const MacroFamily& family = GetParam();
  ResourceListPtr sub = NewSublist(list.get(), 4);
  ASSERT_TRUE(sub);
  ASSERT_EQ(family.add_from_parent(*sub, list.get(), 1), STATUS_SUCCESS);
  EXPECT_EQ(family.add_from_parent(*sub, list.get(), 2), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(sub->NumberOfEntries(), 1u);
  EXPECT_EQ(family.number(*sub), 1u);
  EXPECT_EQ(TagOf(family.find_translated(*sub, 0)), FamilyTag(family.type, 1));
  EXPECT_EQ(TagOf(family.find_untranslated(*sub, 0)), FamilyTag(family.type, 1) + kRawTag);
}

INSTANTIATE_TEST_SUITE_P(EveryResourceType, HelperMacros, ::testing::ValuesIn(kFamilies),
                         [](const auto& family) { return std::string(family.param.name); });

// ================================================================================================
// IRQL
// ================================================================================================

// The report of a bug check that a factory called at `irql` on processor 1 ends with.
template <class Factory>
std::optional<irqsim::BugCheckReport> CallAtIrqlOnProcessor(Machine& m, KIRQL irql, Factory factory) {
  return BugCheckOn(m, 1, [&] {
    const KIRQL old = RaiseTo(irql);
    PRESOURCELIST out = nullptr;
    (void)factory(&out);
    KeLowerIrql(old);
  });
}

auto IsPcIrqlViolation(const std::string& api) {
  return AllOf(IsVerifierViolation(bugcheck::kRulePcIrqlDdis), HasParameter(0, 0x00071001),
               DdiRuleTextMentions("PcIrqlDDIs"), RuleMentions(api));
}

TEST(ResourceListIrql, PcNewResourceListAbovePassiveLevelOnAProcessorBugChecksC4) {
  for (const KIRQL irql : {KIRQL{APC_LEVEL}, KIRQL{DISPATCH_LEVEL}, KIRQL{5}}) {
    SCOPED_TRACE(testing::Message() << "IRQL " << int{irql});
    Machine m({.processors = 2});
    HandMadePair lists({{.entries = {Tagged(CmResourceTypeInterrupt, 1)}}});
    const auto report = CallAtIrqlOnProcessor(m, irql, [&](PRESOURCELIST* out) {
      return PcNewResourceList(out, nullptr, NonPagedPool, lists.translated.get(), lists.untranslated.get());
    });
    EXPECT_THAT(report, Optional(AllOf(IsPcIrqlViolation("PcNewResourceList"), OnProcessor(1), AtIrql(irql))));
  }
}

TEST(ResourceListIrql, PcNewResourceSublistAtDispatchLevelOnAProcessorBugChecksC4) {
  Machine m({.processors = 2});
  HandMadePair lists({{.entries = {Tagged(CmResourceTypeInterrupt, 1)}}});
  ResourceListPtr parent = NewList(lists);
  ASSERT_TRUE(parent);
  const auto report = CallAtIrqlOnProcessor(m, DISPATCH_LEVEL, [&](PRESOURCELIST* out) {
    return PcNewResourceSublist(out, nullptr, NonPagedPool, parent.get(), 1);
  });
  EXPECT_THAT(report, Optional(AllOf(IsPcIrqlViolation("PcNewResourceSublist"), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL))));
}

TEST(ResourceListIrql, PcNewResourceListOnARaisedTestThreadBugChecksC4) {
  Machine m;
  HandMadePair lists({{.entries = {Tagged(CmResourceTypeInterrupt, 1)}}});
  const auto report = bug_check_from([&] {
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    PRESOURCELIST out = nullptr;
    (void)PcNewResourceList(&out, nullptr, NonPagedPool, lists.translated.get(), lists.untranslated.get());
    KeLowerIrql(old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsPcIrqlViolation("PcNewResourceList"), OnTestThread())));
}

TEST(ResourceListIrql, TheFactoriesWorkAtPassiveLevelOnAProcessor) {
  Machine m({.processors = 2});
  HandMadePair lists({{.entries = {Tagged(CmResourceTypeInterrupt, 1)}}});
  const ULONG entries = m.run_on(1, [&] {
    ResourceListPtr list = NewList(lists);
    ResourceListPtr sub = list ? NewSublist(list.get(), 1) : nullptr;
    if (!sub || sub->AddInterruptFromParent(list.get(), 0) != STATUS_SUCCESS) return ULONG{0};
    return sub->NumberOfEntries();
  });
  EXPECT_EQ(entries, 1u);
}

// The IResourceList methods have no IRQL check (docs/decisions.md): a miniport may read its
// resources at any IRQL without a bug check.
TEST(ResourceListIrql, TheListsMethodsAreNotCheckedAtDispatchLevel) {
  Machine m({.processors = 2});
  HandMadePair lists({{.entries = {Tagged(CmResourceTypeInterrupt, 1)}}});
  ResourceListPtr list = NewList(lists);
  ASSERT_TRUE(list);
  ResourceListPtr sub = NewSublist(list.get(), 1);
  ASSERT_TRUE(sub);
  ULONG tag = 0;
  NTSTATUS added = STATUS_UNSUCCESSFUL;
  EXPECT_EQ(BugCheckOn(m, 1, [&] {
              const KIRQL old = RaiseTo(DISPATCH_LEVEL);
              tag = TagOf(list->FindTranslatedInterrupt(list->NumberOfInterrupts() - 1));
              added = sub->AddInterruptFromParent(list.get(), 0);
              KeLowerIrql(old);
            }),
            std::nullopt);
  EXPECT_EQ(tag, 1u);
  EXPECT_EQ(added, STATUS_SUCCESS);
}

// ================================================================================================
// Lifetime
// ================================================================================================

// Each list and sublist must be freed by its last Release: LeakSanitizer (the asan preset)
// reports any that is not, and AddressSanitizer a double free.
TEST(ResourceListLifetime, TenThousandListsAndSublistsAreFreedByTheirLastRelease) {
  Machine m;
  Device card = m.plug({.name = "audio",
                        .lines = {{.vector = 0x51, .irql = 5}, {.vector = 0x62, .irql = 6}},
                        .message_kind = MessageKind::MsiX,
                        .messages = {{.vector = 0x70, .irql = 7}, {.vector = 0x71, .irql = 7}},
                        .register_bytes = 0x100});
  for (int i = 0; i < 10'000; ++i) {
    PRESOURCELIST list = nullptr;
    ASSERT_EQ(PcNewResourceList(&list, nullptr, NonPagedPool, card.translated_resources(), card.raw_resources()),
              STATUS_SUCCESS);
    PRESOURCELIST sub = nullptr;
    ASSERT_EQ(PcNewResourceSublist(&sub, nullptr, NonPagedPool, list, 3), STATUS_SUCCESS);
    ASSERT_EQ(sub->AddInterruptFromParent(list, 3), STATUS_SUCCESS);
    ASSERT_EQ(sub->AddMemoryFromParent(list, 0), STATUS_SUCCESS);
    // A reference taken through QueryInterface is dropped like the creator's.
    PVOID unknown = nullptr;
    ASSERT_EQ(list->QueryInterface(IID_IUnknown, &unknown), STATUS_SUCCESS);
    ASSERT_EQ(static_cast<PUNKNOWN>(unknown)->Release(), 1u);
    // Half the sublists outlive their parent.
    if (i % 2 == 0) {
      ASSERT_EQ(list->Release(), 0u) << "list " << i;
      ASSERT_EQ(sub->Release(), 0u) << "sublist " << i;
    } else {
      ASSERT_EQ(sub->Release(), 0u) << "sublist " << i;
      ASSERT_EQ(list->Release(), 0u) << "list " << i;
    }
  }
}

}  // namespace
