#pragma once
// IResourceList: a device's translated and untranslated descriptors, side by side, in storage
// of fixed capacity so that the descriptors handed out never move.

#include <cstddef>
#include <mutex>
#include <vector>

#include "portcls.h"
#include "portcls/com_object.hpp"

namespace irqsim::portcls {

class ResourceList final : public ComObject<IResourceList> {
 public:
  // The most entries a list holds: a sublist asking for more fails as a pool allocation would.
  static constexpr std::size_t kMaxEntries = 1024;

  // An empty list of at most `capacity` entries, each side under the bus of its full descriptor.
  ResourceList(std::size_t capacity, const CM_FULL_RESOURCE_DESCRIPTOR& translated_bus,
               const CM_FULL_RESOURCE_DESCRIPTOR& untranslated_bus);

  ULONG NumberOfEntries() override;
  ULONG NumberOfEntriesOfType(CM_RESOURCE_TYPE Type) override;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR FindTranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index) override;
  PCM_PARTIAL_RESOURCE_DESCRIPTOR FindUntranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index) override;
  NTSTATUS AddEntry(PCM_PARTIAL_RESOURCE_DESCRIPTOR Translated, PCM_PARTIAL_RESOURCE_DESCRIPTOR Untranslated) override;
  NTSTATUS AddEntryFromParent(IResourceList* Parent, CM_RESOURCE_TYPE Type, ULONG Index) override;
  PCM_RESOURCE_LIST TranslatedList() override;
  PCM_RESOURCE_LIST UntranslatedList() override;

 private:
  // One CM_RESOURCE_LIST with a single full descriptor and room for `capacity` partials.
  class Side {
   public:
    Side(std::size_t capacity, const CM_FULL_RESOURCE_DESCRIPTOR& header);
    [[nodiscard]] PCM_RESOURCE_LIST list() noexcept { return reinterpret_cast<PCM_RESOURCE_LIST>(bytes_.data()); }
    [[nodiscard]] CM_PARTIAL_RESOURCE_LIST& partials() noexcept { return list()->List[0].PartialResourceList; }
    [[nodiscard]] PCM_PARTIAL_RESOURCE_DESCRIPTOR find(CM_RESOURCE_TYPE type, ULONG index) noexcept;

   private:
    std::vector<std::byte> bytes_;
  };

  ~ResourceList() override = default;

  std::mutex mutex_;
  std::size_t capacity_;
  Side translated_;
  Side untranslated_;
};

}  // namespace irqsim::portcls
