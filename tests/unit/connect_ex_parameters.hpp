#pragma once
/// @file
/// @brief IoConnectInterruptEx and IoDisconnectInterruptEx parameter blocks filled the way a driver
///        fills them from its device's resources, shared by the tests of those routines and of their
///        misuse.

#include <wdm.h>

#include <cstddef>
#include <vector>

#include <irqsim/device.hpp>

namespace irqsim_test {

/// @brief The interrupt descriptors of a resource list, in list order.
inline std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> InterruptDescriptors(PCM_RESOURCE_LIST list) {
  const CM_PARTIAL_RESOURCE_LIST& partial = list->List[0].PartialResourceList;
  std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> result;
  for (ULONG i = 0; i < partial.Count; ++i) {
    if (partial.PartialDescriptors[i].Type == CmResourceTypeInterrupt) result.push_back(partial.PartialDescriptors[i]);
  }
  return result;
}

/// @brief Fills what a translated interrupt descriptor says into fully specified parameters, the
/// documented way (SynchronizeIrql = Irql, as the sample code does).
inline void FillFromDescriptor(const CM_PARTIAL_RESOURCE_DESCRIPTOR& d,
                               IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS& f) {
  if ((d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) != 0) {
    f.Vector = d.u.MessageInterrupt.Translated.Vector;
    f.Irql = static_cast<KIRQL>(d.u.MessageInterrupt.Translated.Level);
    f.ProcessorEnableMask = d.u.MessageInterrupt.Translated.Affinity;
    f.Group = d.u.MessageInterrupt.Translated.Group;
  } else {
    f.Vector = d.u.Interrupt.Vector;
    f.Irql = static_cast<KIRQL>(d.u.Interrupt.Level);
    f.ProcessorEnableMask = d.u.Interrupt.Affinity;
    f.Group = d.u.Interrupt.Group;
  }
  f.SynchronizeIrql = f.Irql;
  f.InterruptMode = (d.Flags & CM_RESOURCE_INTERRUPT_LATCHED) != 0 ? Latched : LevelSensitive;
  f.ShareVector = d.ShareDisposition == CmResourceShareShared ? TRUE : FALSE;
}

/// @brief CONNECT_FULLY_SPECIFIED parameters for the driver's ISR from a translated descriptor.
inline IO_CONNECT_INTERRUPT_PARAMETERS FullySpecifiedFrom(const CM_PARTIAL_RESOURCE_DESCRIPTOR& d, PDEVICE_OBJECT pdo,
                                                          PKINTERRUPT* out, PKSERVICE_ROUTINE isr, PVOID context) {
  IO_CONNECT_INTERRUPT_PARAMETERS p{};
  p.Version = CONNECT_FULLY_SPECIFIED;
  IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS& f = p.FullySpecified;
  f.PhysicalDeviceObject = pdo;
  f.InterruptObject = out;
  f.ServiceRoutine = isr;
  f.ServiceContext = context;
  FillFromDescriptor(d, f);
  return p;
}

/// @brief The `index`-th interrupt of `device` as CONNECT_FULLY_SPECIFIED parameters.
inline IO_CONNECT_INTERRUPT_PARAMETERS FullySpecifiedFor(const irqsim::Device& device, PKINTERRUPT* out,
                                                         PKSERVICE_ROUTINE isr, PVOID context, std::size_t index = 0) {
  return FullySpecifiedFrom(InterruptDescriptors(device.translated_resources()).at(index), device.pdo(), out, isr,
                            context);
}

/// @brief CONNECT_LINE_BASED parameters.
inline IO_CONNECT_INTERRUPT_PARAMETERS LineBased(PDEVICE_OBJECT pdo, PKINTERRUPT* out, PKSERVICE_ROUTINE isr,
                                                 PVOID context, PKSPIN_LOCK lock = nullptr,
                                                 KIRQL synchronize_irql = 0) {
  IO_CONNECT_INTERRUPT_PARAMETERS p{};
  p.Version = CONNECT_LINE_BASED;
  p.LineBased.PhysicalDeviceObject = pdo;
  p.LineBased.InterruptObject = out;
  p.LineBased.ServiceRoutine = isr;
  p.LineBased.ServiceContext = context;
  p.LineBased.SpinLock = lock;
  p.LineBased.SynchronizeIrql = synchronize_irql;
  return p;
}

/// @brief CONNECT_MESSAGE_BASED (or, with `version`, CONNECT_MESSAGE_BASED_PASSIVE) parameters.
inline IO_CONNECT_INTERRUPT_PARAMETERS MessageBased(PDEVICE_OBJECT pdo, PVOID* out, PKMESSAGE_SERVICE_ROUTINE imsr,
                                                    PVOID context, PKSPIN_LOCK lock = nullptr,
                                                    KIRQL synchronize_irql = 0, PKSERVICE_ROUTINE fallback = nullptr,
                                                    ULONG version = CONNECT_MESSAGE_BASED) {
  IO_CONNECT_INTERRUPT_PARAMETERS p{};
  p.Version = version;
  p.MessageBased.PhysicalDeviceObject = pdo;
  p.MessageBased.ConnectionContext.Generic = out;
  p.MessageBased.MessageServiceRoutine = imsr;
  p.MessageBased.ServiceContext = context;
  p.MessageBased.SpinLock = lock;
  p.MessageBased.SynchronizeIrql = synchronize_irql;
  p.MessageBased.FallBackServiceRoutine = fallback;
  return p;
}

/// @brief IoDisconnectInterruptEx with `version` and `context`.
inline void Disconnect(ULONG version, PVOID context) {
  IO_DISCONNECT_INTERRUPT_PARAMETERS p{};
  p.Version = version;
  p.ConnectionContext.Generic = context;
  IoDisconnectInterruptEx(&p);
}

}  // namespace irqsim_test
