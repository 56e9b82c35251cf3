#include "wdk/pnp_devices.hpp"

#include <cstring>

#include "core/device.hpp"

namespace irqsim::wdk {

namespace {

constexpr CSHORT kIoTypeDevice = 3;
constexpr ULONG kDoBusEnumeratedDevice = 0x00001000;
constexpr ULONG kFileDeviceUnknown = 0x00000022;

// On x64 memory translates to itself; a raw line interrupt is the bus's IRQ number, which
// here is derived from the vector so that raw and translated values differ as on real
// machines (a driver that connects with the raw list is caught by a wrong vector).
ULONG raw_irq(std::uint32_t vector) { return 16 + (vector & 0x1F); }

CM_PARTIAL_RESOURCE_DESCRIPTOR memory(const core::Device& device) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR descriptor{};
  descriptor.Type = CmResourceTypeMemory;
  descriptor.ShareDisposition = CmResourceShareDeviceExclusive;
  descriptor.Flags = CM_RESOURCE_MEMORY_READ_WRITE;
  descriptor.u.Memory.Start.QuadPart = static_cast<LONGLONG>(device.register_base());
  descriptor.u.Memory.Length = static_cast<ULONG>(device.wiring().register_bytes);
  return descriptor;
}

CM_PARTIAL_RESOURCE_DESCRIPTOR line(const core::LineWiring& wiring, bool translated) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR descriptor{};
  descriptor.Type = CmResourceTypeInterrupt;
  descriptor.ShareDisposition = wiring.shareable ? CmResourceShareShared : CmResourceShareDeviceExclusive;
  descriptor.Flags = wiring.mode == core::TriggerMode::Edge ? CM_RESOURCE_INTERRUPT_LATCHED
                                                            : CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE;
  if (translated) {
    descriptor.u.Interrupt.Level = wiring.irql;
    descriptor.u.Interrupt.Group = wiring.group;
    descriptor.u.Interrupt.Vector = wiring.vector;
    descriptor.u.Interrupt.Affinity = wiring.affinity;
  } else {
    descriptor.u.Interrupt.Level = static_cast<USHORT>(raw_irq(wiring.vector));
    descriptor.u.Interrupt.Group = 0;
    descriptor.u.Interrupt.Vector = raw_irq(wiring.vector);
    descriptor.u.Interrupt.Affinity = static_cast<KAFFINITY>(-1);
  }
  return descriptor;
}

// MSI: one descriptor for the whole block, MessageCount in the raw view. MSI-X: one per message.
CM_PARTIAL_RESOURCE_DESCRIPTOR message(const core::MessageWiring& wiring, std::size_t count, bool translated) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR descriptor{};
  descriptor.Type = CmResourceTypeInterrupt;
  descriptor.ShareDisposition = CmResourceShareDeviceExclusive;
  descriptor.Flags = CM_RESOURCE_INTERRUPT_LATCHED | CM_RESOURCE_INTERRUPT_MESSAGE;
  if (translated) {
    descriptor.u.MessageInterrupt.Translated.Level = wiring.irql;
    descriptor.u.MessageInterrupt.Translated.Group = wiring.group;
    descriptor.u.MessageInterrupt.Translated.Vector = wiring.vector;
    descriptor.u.MessageInterrupt.Translated.Affinity = wiring.affinity;
  } else {
    descriptor.u.MessageInterrupt.Raw.Group = wiring.group;
    descriptor.u.MessageInterrupt.Raw.MessageCount = static_cast<USHORT>(count);
    descriptor.u.MessageInterrupt.Raw.Vector = wiring.vector;
    descriptor.u.MessageInterrupt.Raw.Affinity = wiring.affinity;
  }
  return descriptor;
}

// Memory first, then line interrupts, then messages: the order a PCI bus driver reports.
std::vector<std::byte> resource_list(const core::Device& device, bool translated) {
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> descriptors;
  const core::DeviceWiring& wiring = device.wiring();
  if (wiring.register_bytes != 0) descriptors.push_back(memory(device));
  for (const core::LineWiring& wire : wiring.lines) descriptors.push_back(line(wire, translated));
  if (wiring.message_kind == core::MessageKind::Msi) {
    descriptors.push_back(message(wiring.messages.front(), wiring.messages.size(), translated));
  } else {
    for (const core::MessageWiring& wire : wiring.messages) descriptors.push_back(message(wire, 1, translated));
  }

  const std::size_t extra = descriptors.empty() ? 0 : descriptors.size() - 1;
  std::vector<std::byte> bytes(sizeof(CM_RESOURCE_LIST) + extra * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR));
  auto* list = reinterpret_cast<CM_RESOURCE_LIST*>(bytes.data());
  list->Count = 1;
  CM_FULL_RESOURCE_DESCRIPTOR& full = list->List[0];
  full.InterfaceType = PCIBus;
  full.BusNumber = 0;
  full.PartialResourceList.Version = 1;
  full.PartialResourceList.Revision = 1;
  full.PartialResourceList.Count = static_cast<ULONG>(descriptors.size());
  if (!descriptors.empty()) {
    std::memcpy(full.PartialResourceList.PartialDescriptors, descriptors.data(),
                descriptors.size() * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR));
  }
  return bytes;
}

}  // namespace

PnpDevices::PnpDevices(core::Machine&) {}

PnpDevices::View& PnpDevices::of(core::Device& device) {
  std::lock_guard lock(mutex_);
  std::unique_ptr<View>& view = views_[&device];
  if (!view) {
    view = std::make_unique<View>();
    view->pdo.Type = kIoTypeDevice;
    view->pdo.Size = sizeof(DEVICE_OBJECT);
    view->pdo.Flags = kDoBusEnumeratedDevice;
    view->pdo.DeviceType = kFileDeviceUnknown;
    view->pdo.StackSize = 1;
    view->raw = resource_list(device, false);
    view->translated = resource_list(device, true);
    view->device = &device;
  }
  return *view;
}

core::Device* PnpDevices::device_of(const DEVICE_OBJECT* pdo) const {
  std::lock_guard lock(mutex_);
  for (const auto& [device, view] : views_) {
    if (&view->pdo == pdo) return view->device;
  }
  return nullptr;
}

}  // namespace irqsim::wdk
