// IResourceList, PcNewResourceList and PcNewResourceSublist.

#include "portcls/resource_list.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "portcls/ddi_irql.hpp"

namespace irqsim::portcls {

ResourceList::Side::Side(std::size_t capacity, const CM_FULL_RESOURCE_DESCRIPTOR& header)
    : bytes_(sizeof(CM_RESOURCE_LIST) + (std::max<std::size_t>(capacity, 1) - 1) * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR)) {
  PCM_RESOURCE_LIST whole = list();
  whole->Count = 1;
  whole->List[0].InterfaceType = header.InterfaceType;
  whole->List[0].BusNumber = header.BusNumber;
  whole->List[0].PartialResourceList.Version = header.PartialResourceList.Version;
  whole->List[0].PartialResourceList.Revision = header.PartialResourceList.Revision;
  whole->List[0].PartialResourceList.Count = 0;
}

PCM_PARTIAL_RESOURCE_DESCRIPTOR ResourceList::Side::find(CM_RESOURCE_TYPE type, ULONG index) noexcept {
  CM_PARTIAL_RESOURCE_LIST& all = partials();
  for (ULONG i = 0; i < all.Count; ++i) {
    if (all.PartialDescriptors[i].Type == type && index-- == 0) return &all.PartialDescriptors[i];
  }
  return nullptr;
}

ResourceList::ResourceList(std::size_t capacity, const CM_FULL_RESOURCE_DESCRIPTOR& translated_bus,
                           const CM_FULL_RESOURCE_DESCRIPTOR& untranslated_bus)
    : capacity_(capacity), translated_(capacity, translated_bus), untranslated_(capacity, untranslated_bus) {}

ULONG ResourceList::NumberOfEntries() {
  std::lock_guard lock(mutex_);
  return translated_.partials().Count;
}

ULONG ResourceList::NumberOfEntriesOfType(CM_RESOURCE_TYPE Type) {
  std::lock_guard lock(mutex_);
  const CM_PARTIAL_RESOURCE_LIST& all = translated_.partials();
  return static_cast<ULONG>(std::count_if(all.PartialDescriptors, all.PartialDescriptors + all.Count,
                                          [Type](const CM_PARTIAL_RESOURCE_DESCRIPTOR& d) { return d.Type == Type; }));
}

PCM_PARTIAL_RESOURCE_DESCRIPTOR ResourceList::FindTranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index) {
  std::lock_guard lock(mutex_);
  return translated_.find(Type, Index);
}

PCM_PARTIAL_RESOURCE_DESCRIPTOR ResourceList::FindUntranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index) {
  std::lock_guard lock(mutex_);
  return untranslated_.find(Type, Index);
}

NTSTATUS ResourceList::AddEntry(PCM_PARTIAL_RESOURCE_DESCRIPTOR Translated, PCM_PARTIAL_RESOURCE_DESCRIPTOR Untranslated) {
  if (Translated == nullptr || Untranslated == nullptr || Translated->Type != Untranslated->Type) {
    return STATUS_INVALID_PARAMETER;
  }
  std::lock_guard lock(mutex_);
  const ULONG count = translated_.partials().Count;
  if (count >= capacity_) return STATUS_INSUFFICIENT_RESOURCES;
  // Copied before the count grows: a reader never sees a half-written entry counted.
  translated_.partials().PartialDescriptors[count] = *Translated;
  untranslated_.partials().PartialDescriptors[count] = *Untranslated;
  translated_.partials().Count = count + 1;
  untranslated_.partials().Count = count + 1;
  return STATUS_SUCCESS;
}

NTSTATUS ResourceList::AddEntryFromParent(IResourceList* Parent, CM_RESOURCE_TYPE Type, ULONG Index) {
  if (Parent == nullptr) return STATUS_INVALID_PARAMETER;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR translated = Parent->FindTranslatedEntry(Type, Index);
  PCM_PARTIAL_RESOURCE_DESCRIPTOR untranslated = Parent->FindUntranslatedEntry(Type, Index);
  if (translated == nullptr || untranslated == nullptr) return STATUS_INVALID_PARAMETER;
  return AddEntry(translated, untranslated);
}

PCM_RESOURCE_LIST ResourceList::TranslatedList() { return translated_.list(); }
PCM_RESOURCE_LIST ResourceList::UntranslatedList() { return untranslated_.list(); }

namespace {

// The bytes of a CM_FULL_RESOURCE_DESCRIPTOR before its first partial descriptor.
constexpr std::size_t kFullDescriptorHeader =
    offsetof(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList) + offsetof(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors);

// Every partial descriptor of every full descriptor, in order. Descriptors lie back to back,
// except that a device-specific descriptor is followed by its DataSize bytes of data; the next
// full descriptor starts after the last descriptor (and data) of the one before. The copies
// keep no device-specific data (storage holds descriptors only), so their DataSize is 0.
std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> all_partials(const CM_RESOURCE_LIST& list) {
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> partials;
  const auto* next = reinterpret_cast<const std::byte*>(&list.List[0]);
  for (ULONG f = 0; f < list.Count; ++f) {
    // Copied byte by byte: after device-specific data of any size the header need not be aligned.
    CM_FULL_RESOURCE_DESCRIPTOR full{};
    std::memcpy(&full, next, kFullDescriptorHeader);
    next += kFullDescriptorHeader;
    for (ULONG i = 0; i < full.PartialResourceList.Count; ++i) {
      CM_PARTIAL_RESOURCE_DESCRIPTOR copy;
      std::memcpy(&copy, next, sizeof(copy));
      next += sizeof(copy);
      if (copy.Type == CmResourceTypeDeviceSpecific) {
        next += copy.u.DeviceSpecificData.DataSize;
        copy.u.DeviceSpecificData.DataSize = 0;
      }
      partials.push_back(copy);
    }
  }
  return partials;
}

// The bus of a list's first full descriptor (none for an empty list). Only its header is read: a
// full descriptor with no partial descriptors ends where its first one would have started.
CM_FULL_RESOURCE_DESCRIPTOR header_of(const CM_RESOURCE_LIST& list) {
  CM_FULL_RESOURCE_DESCRIPTOR header{};
  if (list.Count != 0) std::memcpy(&header, list.List, kFullDescriptorHeader);
  return header;
}

bool same_types(const std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>& a, const std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.Type == y.Type; });
}

}  // namespace

}  // namespace irqsim::portcls

using irqsim::portcls::ResourceList;

extern "C" {

NTSTATUS PcNewResourceList(PRESOURCELIST* OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE,
                           PCM_RESOURCE_LIST TranslatedResources, PCM_RESOURCE_LIST UntranslatedResources) {
  irqsim::portcls::require_passive("PcNewResourceList");
  if (OutResourceList == nullptr) return STATUS_INVALID_PARAMETER;
  *OutResourceList = nullptr;
  if (OuterUnknown != nullptr || TranslatedResources == nullptr || UntranslatedResources == nullptr) {
    return STATUS_INVALID_PARAMETER;
  }
  const auto translated = irqsim::portcls::all_partials(*TranslatedResources);
  const auto untranslated = irqsim::portcls::all_partials(*UntranslatedResources);
  if (!irqsim::portcls::same_types(translated, untranslated)) return STATUS_INVALID_PARAMETER;
  if (translated.size() > ResourceList::kMaxEntries) return STATUS_INSUFFICIENT_RESOURCES;
  auto* list = new (std::nothrow) ResourceList(translated.size(), irqsim::portcls::header_of(*TranslatedResources),
                                               irqsim::portcls::header_of(*UntranslatedResources));
  if (list == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  for (std::size_t i = 0; i < translated.size(); ++i) {
    CM_PARTIAL_RESOURCE_DESCRIPTOR t = translated[i];
    CM_PARTIAL_RESOURCE_DESCRIPTOR u = untranslated[i];
    list->AddEntry(&t, &u);
  }
  *OutResourceList = list;
  return STATUS_SUCCESS;
}

NTSTATUS PcNewResourceSublist(PRESOURCELIST* OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE,
                              PRESOURCELIST ParentList, ULONG MaximumEntries) {
  irqsim::portcls::require_passive("PcNewResourceSublist");
  if (OutResourceList == nullptr) return STATUS_INVALID_PARAMETER;
  *OutResourceList = nullptr;
  if (OuterUnknown != nullptr || ParentList == nullptr || MaximumEntries == 0) return STATUS_INVALID_PARAMETER;
  if (MaximumEntries > ResourceList::kMaxEntries) return STATUS_INSUFFICIENT_RESOURCES;
  auto* list = new (std::nothrow) ResourceList(MaximumEntries, ParentList->TranslatedList()->List[0],
                                               ParentList->UntranslatedList()->List[0]);
  if (list == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  *OutResourceList = list;
  return STATUS_SUCCESS;
}

}  // extern "C"
