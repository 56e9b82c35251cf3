// WDK types declared ahead of IoConnectInterruptEx (wdm.h): their x64 layout, their constant
// values, and a plain-C driver (c_driver_compiles.c) that uses them the way WDM start-device code
// does. The expected sizes and offsets are computed from the documented member order with LLP64
// widths (see /work/shared/reference/wdk-semantics.md sections 2 and 4).
#include <gtest/gtest.h>
#include <wdm.h>
#include <ntddk.h>
#include <iointex.h>
#include <irqsim/machine.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "c_driver.h"

namespace {

// (expression, expected value) pairs, checked both at compile time and as a test. An expression
// with a comma (offsetof) is parenthesized so that it stays one macro argument.
#define WDK_X64_LAYOUT(X)                                                                       \
  /* IO_CONNECT_INTERRUPT_PARAMETERS: ULONG Version, then the union at 8. */                    \
  X(sizeof(IO_CONNECT_INTERRUPT_PARAMETERS), 80)                                                \
  X(alignof(IO_CONNECT_INTERRUPT_PARAMETERS), 8)                                                \
  X((offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, Version)), 0)                                    \
  X((offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, FullySpecified)), 8)                             \
  X((offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, LineBased)), 8)                                  \
  X((offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, MessageBased)), 8)                               \
  X(sizeof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS), 72)                                \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, PhysicalDeviceObject)), 0)       \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, InterruptObject)), 8)            \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, ServiceRoutine)), 16)            \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, ServiceContext)), 24)            \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, SpinLock)), 32)                  \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, SynchronizeIrql)), 40)           \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, FloatingSave)), 41)              \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, ShareVector)), 42)               \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, Vector)), 44)                    \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, Irql)), 48)                      \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, InterruptMode)), 52)             \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, ProcessorEnableMask)), 56)       \
  X((offsetof(IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, Group)), 64)                     \
  X(sizeof(IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS), 48)                                     \
  X((offsetof(IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS, InterruptObject)), 8)                 \
  X((offsetof(IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS, SpinLock)), 32)                       \
  X((offsetof(IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS, SynchronizeIrql)), 40)                \
  X((offsetof(IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS, FloatingSave)), 41)                   \
  X(sizeof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS), 56)                                  \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, ConnectionContext)), 8)            \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, MessageServiceRoutine)), 16)       \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, ServiceContext)), 24)              \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, SpinLock)), 32)                    \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, SynchronizeIrql)), 40)             \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, FloatingSave)), 41)                \
  X((offsetof(IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS, FallBackServiceRoutine)), 48)      \
  /* Disconnect and active-state parameters: ULONG Version, then a pointer union at 8. */       \
  X(sizeof(IO_DISCONNECT_INTERRUPT_PARAMETERS), 16)                                             \
  X((offsetof(IO_DISCONNECT_INTERRUPT_PARAMETERS, ConnectionContext)), 8)                       \
  X(sizeof(IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS), 16)                                    \
  X((offsetof(IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS, ConnectionContext)), 8)              \
  /* Message table. */                                                                          \
  X(sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY), 48)                                                \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, MessageAddress)), 0)                             \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, TargetProcessorSet)), 8)                         \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, InterruptObject)), 16)                           \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, MessageData)), 24)                               \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, Vector)), 28)                                    \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, Irql)), 32)                                      \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, Mode)), 36)                                      \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO_ENTRY, Polarity)), 40)                                  \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO, UnifiedIrql)), 0)                                      \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO, MessageCount)), 4)                                     \
  X((offsetof(IO_INTERRUPT_MESSAGE_INFO, MessageInfo)), 8)                                      \
  X(sizeof(IO_INTERRUPT_MESSAGE_INFO), 56)                                                      \
  /* CM_PARTIAL_RESOURCE_DESCRIPTOR, packed to 4: 64-bit members only 4-byte aligned. */        \
  X(sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR), 20)                                                 \
  X(alignof(CM_PARTIAL_RESOURCE_DESCRIPTOR), 4)                                                 \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, Type)), 0)                                        \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, ShareDisposition)), 1)                            \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, Flags)), 2)                                       \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u)), 4)                                           \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Generic.Length)), 12)                           \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Port.Start)), 4)                                \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Port.Length)), 12)                              \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Level)), 4)                           \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Group)), 6)                           \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Vector)), 8)                          \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Affinity)), 12)                       \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Raw.Group)), 4)                \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Raw.MessageCount)), 6)         \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Raw.Vector)), 8)               \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Raw.Affinity)), 12)            \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Translated.Level)), 4)         \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Translated.Group)), 6)         \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Translated.Vector)), 8)        \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.MessageInterrupt.Translated.Affinity)), 12)     \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Memory.Start)), 4)                              \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Memory.Length)), 12)                            \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Dma.Port)), 8)                                  \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.DmaV3.TransferWidth)), 12)                      \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.DevicePrivate.Data)), 4)                        \
  X(sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR{}.u.DevicePrivate.Data), 12)                          \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.BusNumber.Reserved)), 12)                       \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.DeviceSpecificData.DataSize)), 4)               \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Memory64.Length64)), 12)                        \
  X((offsetof(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Connection.IdHighPart)), 12)                    \
  /* The lists: each with one descriptor. */                                                    \
  X(sizeof(CM_PARTIAL_RESOURCE_LIST), 28)                                                       \
  X((offsetof(CM_PARTIAL_RESOURCE_LIST, Revision)), 2)                                          \
  X((offsetof(CM_PARTIAL_RESOURCE_LIST, Count)), 4)                                             \
  X((offsetof(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors)), 8)                                \
  X(sizeof(CM_FULL_RESOURCE_DESCRIPTOR), 36)                                                    \
  X((offsetof(CM_FULL_RESOURCE_DESCRIPTOR, BusNumber)), 4)                                      \
  X((offsetof(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList)), 8)                            \
  X(sizeof(CM_RESOURCE_LIST), 40)                                                               \
  X((offsetof(CM_RESOURCE_LIST, List)), 4)                                                      \
  /* 64-bit integers. */                                                                        \
  X(sizeof(LARGE_INTEGER), 8)                                                                   \
  X(alignof(LARGE_INTEGER), 8)                                                                  \
  X((offsetof(LARGE_INTEGER, LowPart)), 0)                                                      \
  X((offsetof(LARGE_INTEGER, HighPart)), 4)                                                     \
  X((offsetof(LARGE_INTEGER, u.LowPart)), 0)                                                    \
  X((offsetof(LARGE_INTEGER, u.HighPart)), 4)                                                   \
  X((offsetof(LARGE_INTEGER, QuadPart)), 0)                                                     \
  X(sizeof(PHYSICAL_ADDRESS), 8)                                                                \
  /* Processors. */                                                                             \
  X(sizeof(GROUP_AFFINITY), 16)                                                                 \
  X((offsetof(GROUP_AFFINITY, Group)), 8)                                                       \
  X((offsetof(GROUP_AFFINITY, Reserved)), 10)                                                   \
  X(sizeof(PROCESSOR_NUMBER), 4)                                                                \
  X(sizeof(KDPC), 64)                                                                           \
  X((offsetof(KDPC, Importance)), 1)                                                            \
  X((offsetof(KDPC, Number)), 2)                                                                \
  X((offsetof(KDPC, DpcListEntry)), 8)                                                          \
  X((offsetof(KDPC, DeferredRoutine)), 24)                                                      \
  X((offsetof(KDPC, DeferredContext)), 32)                                                      \
  X((offsetof(KDPC, SystemArgument1)), 40)                                                      \
  X((offsetof(KDPC, SystemArgument2)), 48)                                                      \
  X((offsetof(KDPC, DpcData)), 56)                                                              \
  X((offsetof(PROCESSOR_NUMBER, Number)), 2)                                                    \
  X((offsetof(PROCESSOR_NUMBER, Reserved)), 3)                                                  \
  /* Enumerations are int-sized, as with the Microsoft compiler. */                             \
  X(sizeof(KINTERRUPT_MODE), 4)                                                                 \
  X(sizeof(KINTERRUPT_POLARITY), 4)                                                             \
  X(sizeof(INTERFACE_TYPE), 4)                                                                  \
  X(sizeof(CM_SHARE_DISPOSITION), 4)                                                            \
  X(sizeof(MEMORY_CACHING_TYPE), 4)

#define WDK_STATIC_LAYOUT_CHECK(expr, value) static_assert((expr) == (value), #expr " must be " #value " on x64");
WDK_X64_LAYOUT(WDK_STATIC_LAYOUT_CHECK)

// Constant values, as signed 64-bit numbers.
#define WDK_CONSTANTS(X)                                                                        \
  X(CmResourceTypeNull, 0)                                                                      \
  X(CmResourceTypePort, 1)                                                                      \
  X(CmResourceTypeInterrupt, 2)                                                                 \
  X(CmResourceTypeMemory, 3)                                                                    \
  X(CmResourceTypeDma, 4)                                                                       \
  X(CmResourceTypeDeviceSpecific, 5)                                                            \
  X(CmResourceTypeBusNumber, 6)                                                                 \
  X(CmResourceTypeMemoryLarge, 7)                                                               \
  X(CmResourceTypeNonArbitrated, 128)                                                           \
  X(CmResourceTypeConfigData, 128)                                                              \
  X(CmResourceTypeDevicePrivate, 129)                                                           \
  X(CmResourceTypePcCardConfig, 130)                                                            \
  X(CmResourceTypeMfCardConfig, 131)                                                            \
  X(CmResourceTypeConnection, 132)                                                              \
  X(CmResourceShareUndetermined, 0)                                                             \
  X(CmResourceShareDeviceExclusive, 1)                                                          \
  X(CmResourceShareDriverExclusive, 2)                                                          \
  X(CmResourceShareShared, 3)                                                                   \
  X(CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE, 0)                                                   \
  X(CM_RESOURCE_INTERRUPT_LATCHED, 1)                                                           \
  X(CM_RESOURCE_INTERRUPT_MESSAGE, 2)                                                           \
  X(CM_RESOURCE_INTERRUPT_POLICY_INCLUDED, 4)                                                   \
  X(CM_RESOURCE_INTERRUPT_SECONDARY_INTERRUPT, 0x10)                                            \
  X(CM_RESOURCE_INTERRUPT_WAKE_HINT, 0x20)                                                      \
  X(CM_RESOURCE_INTERRUPT_LEVEL_LATCHED_BITS, 1)                                                \
  X(CM_RESOURCE_INTERRUPT_MESSAGE_TOKEN, 0xFFFFFFFE)                                            \
  X(CM_RESOURCE_MEMORY_READ_WRITE, 0)                                                           \
  X(CM_RESOURCE_MEMORY_READ_ONLY, 1)                                                            \
  X(CM_RESOURCE_MEMORY_WRITE_ONLY, 2)                                                           \
  X(CM_RESOURCE_MEMORY_WRITEABILITY_MASK, 3)                                                    \
  X(CM_RESOURCE_MEMORY_PREFETCHABLE, 4)                                                         \
  X(CM_RESOURCE_MEMORY_COMBINEDWRITE, 8)                                                        \
  X(CM_RESOURCE_MEMORY_24, 0x10)                                                                \
  X(CM_RESOURCE_MEMORY_CACHEABLE, 0x20)                                                         \
  X(CM_RESOURCE_MEMORY_LARGE_40, 0x200)                                                         \
  X(CM_RESOURCE_MEMORY_LARGE_48, 0x400)                                                         \
  X(CM_RESOURCE_MEMORY_LARGE_64, 0x800)                                                         \
  X(CM_RESOURCE_PORT_MEMORY, 0)                                                                 \
  X(CM_RESOURCE_PORT_IO, 1)                                                                     \
  X(InterfaceTypeUndefined, -1)                                                                 \
  X(Internal, 0)                                                                                \
  X(Isa, 1)                                                                                     \
  X(Eisa, 2)                                                                                    \
  X(PCIBus, 5)                                                                                  \
  X(PNPBus, 15)                                                                                 \
  X(ACPIBus, 17)                                                                                \
  X(MaximumInterfaceType, 18)                                                                   \
  X(LowImportance, 0)                                                                           \
  X(MediumImportance, 1)                                                                        \
  X(HighImportance, 2)                                                                          \
  X(MediumHighImportance, 3)                                                                    \
  X(CONNECT_FULLY_SPECIFIED, 1)                                                                 \
  X(CONNECT_LINE_BASED, 2)                                                                      \
  X(CONNECT_MESSAGE_BASED, 3)                                                                   \
  X(CONNECT_FULLY_SPECIFIED_GROUP, 4)                                                           \
  X(CONNECT_MESSAGE_BASED_PASSIVE, 5)                                                           \
  X(CONNECT_CURRENT_VERSION, 5)                                                                 \
  X(MmNonCached, 0)                                                                             \
  X(MmCached, 1)                                                                                \
  X(MmWriteCombined, 2)                                                                         \
  X(MmHardwareCoherentCached, 3)                                                                \
  X(MmNonCachedUnordered, 4)                                                                    \
  X(MmUSWCCached, 5)                                                                            \
  X(MmMaximumCacheType, 6)                                                                      \
  X(MmNotMapped, -1)                                                                            \
  X(PAGE_NOACCESS, 0x01)                                                                        \
  X(PAGE_READONLY, 0x02)                                                                        \
  X(PAGE_READWRITE, 0x04)                                                                       \
  X(PAGE_WRITECOPY, 0x08)                                                                       \
  X(PAGE_EXECUTE, 0x10)                                                                         \
  X(PAGE_EXECUTE_READ, 0x20)                                                                    \
  X(PAGE_EXECUTE_READWRITE, 0x40)                                                               \
  X(PAGE_EXECUTE_WRITECOPY, 0x80)                                                               \
  X(PAGE_GUARD, 0x100)                                                                          \
  X(PAGE_NOCACHE, 0x200)                                                                        \
  X(PAGE_WRITECOMBINE, 0x400)

#define WDK_STATIC_CONSTANT_CHECK(name, value) \
  static_assert(static_cast<long long>(name) == (value), #name " must be " #value);
WDK_CONSTANTS(WDK_STATIC_CONSTANT_CHECK)

TEST(WdkTypes, X64LayoutMatchesTheDocumentedMemberOrder) {
#define WDK_RUNTIME_LAYOUT_CHECK(expr, value) EXPECT_EQ((expr), std::size_t{value}) << #expr;
  WDK_X64_LAYOUT(WDK_RUNTIME_LAYOUT_CHECK)
}

TEST(WdkTypes, ConstantsHaveTheirWdkValues) {
#define WDK_RUNTIME_CONSTANT_CHECK(name, value) EXPECT_EQ(static_cast<long long>(name), (value)) << #name;
  WDK_CONSTANTS(WDK_RUNTIME_CONSTANT_CHECK)
}

// DEVICE_OBJECT's layout is irqsim's own; only the documented order of the members is promised.
TEST(WdkTypes, DeviceObjectKeepsTheDocumentedMemberOrder) {
  const std::vector<std::size_t> offsets = {
      offsetof(DEVICE_OBJECT, Type),         offsetof(DEVICE_OBJECT, Size),
      offsetof(DEVICE_OBJECT, ReferenceCount), offsetof(DEVICE_OBJECT, DriverObject),
      offsetof(DEVICE_OBJECT, NextDevice),   offsetof(DEVICE_OBJECT, AttachedDevice),
      offsetof(DEVICE_OBJECT, Flags),        offsetof(DEVICE_OBJECT, Characteristics),
      offsetof(DEVICE_OBJECT, DeviceExtension), offsetof(DEVICE_OBJECT, DeviceType),
      offsetof(DEVICE_OBJECT, StackSize),    offsetof(DEVICE_OBJECT, AlignmentRequirement),
      offsetof(DEVICE_OBJECT, SectorSize),
      offsetof(DEVICE_OBJECT, DeviceObjectExtension)};
  for (std::size_t i = 1; i < offsets.size(); ++i) {
    EXPECT_LT(offsets[i - 1], offsets[i]) << "member " << i;
  }
}

TEST(WdkTypes, ConnectParameterUnionMembersShareTheirCommonPrefix) {
  IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
  DEVICE_OBJECT pdo{};
  parameters.LineBased.PhysicalDeviceObject = &pdo;
  EXPECT_EQ(parameters.FullySpecified.PhysicalDeviceObject, &pdo);
  EXPECT_EQ(parameters.MessageBased.PhysicalDeviceObject, &pdo);
}

// ---- The C driver -------------------------------------------------------------------------

CM_PARTIAL_RESOURCE_DESCRIPTOR Memory(LONGLONG start, ULONG length, USHORT flags) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR d{};
  d.Type = CmResourceTypeMemory;
  d.ShareDisposition = CmResourceShareDeviceExclusive;
  d.Flags = flags;
  d.u.Memory.Start.QuadPart = start;
  d.u.Memory.Length = length;
  return d;
}

CM_PARTIAL_RESOURCE_DESCRIPTOR Port(LONGLONG start, ULONG length) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR d{};
  d.Type = CmResourceTypePort;
  d.ShareDisposition = CmResourceShareDeviceExclusive;
  d.Flags = CM_RESOURCE_PORT_IO;
  d.u.Port.Start.QuadPart = start;
  d.u.Port.Length = length;
  return d;
}

CM_PARTIAL_RESOURCE_DESCRIPTOR LineInterrupt(USHORT level, ULONG vector, KAFFINITY affinity, USHORT flags,
                                             UCHAR share) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR d{};
  d.Type = CmResourceTypeInterrupt;
  d.ShareDisposition = share;
  d.Flags = flags;
  d.u.Interrupt.Level = level;
  d.u.Interrupt.Group = 0;
  d.u.Interrupt.Vector = vector;
  d.u.Interrupt.Affinity = affinity;
  return d;
}

CM_PARTIAL_RESOURCE_DESCRIPTOR MessageInterrupt(USHORT level, ULONG vector, KAFFINITY affinity) {
  CM_PARTIAL_RESOURCE_DESCRIPTOR d{};
  d.Type = CmResourceTypeInterrupt;
  d.ShareDisposition = CmResourceShareDeviceExclusive;
  d.Flags = CM_RESOURCE_INTERRUPT_LATCHED | CM_RESOURCE_INTERRUPT_MESSAGE;
  d.u.MessageInterrupt.Translated.Level = level;
  d.u.MessageInterrupt.Translated.Vector = vector;
  d.u.MessageInterrupt.Translated.Affinity = affinity;
  return d;
}

// A translated resource list with three descriptors, laid out as the PnP manager passes it:
// the descriptors after the first follow the CM_RESOURCE_LIST directly.
struct ThreeResources {
  CM_RESOURCE_LIST list;
  CM_PARTIAL_RESOURCE_DESCRIPTOR more[2];
};
static_assert(offsetof(ThreeResources, more) == sizeof(CM_RESOURCE_LIST));

ThreeResources MakeList(const CM_PARTIAL_RESOURCE_DESCRIPTOR &first, const CM_PARTIAL_RESOURCE_DESCRIPTOR &second,
                        const CM_PARTIAL_RESOURCE_DESCRIPTOR &third) {
  ThreeResources r{};
  r.list.Count = 1;
  r.list.List[0].InterfaceType = PCIBus;
  r.list.List[0].PartialResourceList.Version = 1;
  r.list.List[0].PartialResourceList.Revision = 1;
  r.list.List[0].PartialResourceList.Count = 3;
  r.list.List[0].PartialResourceList.PartialDescriptors[0] = first;
  r.more[0] = second;
  r.more[1] = third;
  return r;
}

// A device object with storage for the C driver's extension.
struct CDriverDevice {
  std::vector<std::uint64_t> extension = std::vector<std::uint64_t>((c_driver_extension_size() + 7) / 8);
  DEVICE_OBJECT fdo{};
  DEVICE_OBJECT pdo{};
  CDriverDevice() { fdo.DeviceExtension = extension.data(); }
};

TEST(CDriver, FindsTheInterruptDescriptorAfterTheOthers) {
  const ThreeResources resources =
      MakeList(Port(0x3F8, 8), Memory(0xFEB0'0000, 0x1000, CM_RESOURCE_MEMORY_READ_WRITE),
               LineInterrupt(5, 0x51, 0xF, CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE, CmResourceShareShared));
  EXPECT_EQ(c_driver_find_interrupt(&resources.list), 2);
}

TEST(CDriver, FindsNoInterruptWhenThereIsNone) {
  const ThreeResources resources =
      MakeList(Port(0x3F8, 8), Memory(0xFEB0'0000, 0x1000, 0), Memory(0xFEC0'0000, 0x100, 0));
  EXPECT_EQ(c_driver_find_interrupt(&resources.list), -1);
}

TEST(CDriver, WalksIntoTheNextFullDescriptor) {
  // Two full descriptors of one partial descriptor each: the second starts right after the
  // first one's descriptor, that is at sizeof(CM_RESOURCE_LIST).
  struct TwoBuses {
    CM_RESOURCE_LIST list;
    CM_FULL_RESOURCE_DESCRIPTOR second;
  } resources{};
  static_assert(offsetof(TwoBuses, second) == sizeof(CM_RESOURCE_LIST));
  resources.list.Count = 2;
  resources.list.List[0].PartialResourceList.Count = 1;
  resources.list.List[0].PartialResourceList.PartialDescriptors[0] = Memory(0xFEB0'0000, 0x1000, 0);
  resources.second.PartialResourceList.Count = 1;
  resources.second.PartialResourceList.PartialDescriptors[0] = MessageInterrupt(8, 0x60, 0x3);
  EXPECT_EQ(c_driver_find_interrupt(&resources.list), 1);
}

TEST(CDriver, FillsFullySpecifiedParametersFromALineBasedResource) {
  CDriverDevice device;
  const ThreeResources resources =
      MakeList(Port(0x3F8, 8), Memory(0x1'FEB0'0000, 0x1000, CM_RESOURCE_MEMORY_READ_WRITE),
               LineInterrupt(7, 0x61, 0x5, CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE, CmResourceShareShared));
  IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
  ASSERT_EQ(c_driver_prepare_connect(&device.fdo, &device.pdo, &resources.list, &parameters), STATUS_SUCCESS);

  ASSERT_EQ(parameters.Version, ULONG{CONNECT_FULLY_SPECIFIED});
  const IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS &p = parameters.FullySpecified;
  EXPECT_EQ(p.PhysicalDeviceObject, &device.pdo);
  EXPECT_NE(p.InterruptObject, nullptr);
  EXPECT_EQ(p.ServiceContext, &device.fdo);
  EXPECT_EQ(p.SpinLock, nullptr);
  EXPECT_EQ(p.Irql, 7);
  EXPECT_EQ(p.SynchronizeIrql, 7);
  EXPECT_EQ(p.FloatingSave, FALSE);
  EXPECT_EQ(p.ShareVector, TRUE);
  EXPECT_EQ(p.Vector, 0x61U);
  EXPECT_EQ(p.InterruptMode, LevelSensitive);
  EXPECT_EQ(p.ProcessorEnableMask, KAFFINITY{0x5});
  EXPECT_EQ(p.Group, 0);

  // The ISR the C code declared with the KSERVICE_ROUTINE idiom is callable through the block.
  ASSERT_NE(p.ServiceRoutine, nullptr);
  EXPECT_EQ(p.ServiceRoutine(nullptr, p.ServiceContext), TRUE);
  EXPECT_EQ(c_driver_interrupt_count(&device.fdo), 1U);

  ULONG length = 0;
  ULONG protect = 0;
  EXPECT_EQ(c_driver_registers(&device.fdo, &length, &protect), 0x1'FEB0'0000LL);
  EXPECT_EQ(length, 0x1000U);
  EXPECT_EQ(protect, ULONG{PAGE_READWRITE | PAGE_NOCACHE});

  // A successful connection stores the interrupt object; the disconnect block carries it back.
  PKINTERRUPT const connected = reinterpret_cast<PKINTERRUPT>(std::uintptr_t{0x1000});
  *p.InterruptObject = connected;
  IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
  c_driver_prepare_disconnect(&device.fdo, &parameters, &disconnect);
  EXPECT_EQ(disconnect.Version, ULONG{CONNECT_FULLY_SPECIFIED});
  EXPECT_EQ(disconnect.ConnectionContext.InterruptObject, connected);
}

TEST(CDriver, DpcForIsrRequestedFromCRunsOnceWithItsContextAtDispatchLevel) {
  irqsim::Machine machine({.processors = 1});
  CDriverDevice device;
  c_driver_initialize_dpc(&device.fdo);
  int context = 0;
  machine.run_on(0, [&] {
    // Two requests before the DPC can run (the processor is at DISPATCH_LEVEL): one call.
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    c_driver_request_dpc(&device.fdo, &context);
    c_driver_request_dpc(&device.fdo, nullptr);
    KeLowerIrql(old);
  });
  machine.wait_until_quiescent();
  PVOID last_context = nullptr;
  KIRQL irql = PASSIVE_LEVEL;
  EXPECT_EQ(c_driver_dpc_count(&device.fdo, &last_context, &irql), 1U);
  EXPECT_EQ(last_context, &context);
  EXPECT_EQ(irql, DISPATCH_LEVEL);
}

TEST(CDriver, LatchedExclusiveLineBecomesLatchedAndNotShared) {
  CDriverDevice device;
  const ThreeResources resources =
      MakeList(LineInterrupt(4, 0x52, 0x1, CM_RESOURCE_INTERRUPT_LATCHED, CmResourceShareDeviceExclusive),
               Memory(0xFEB0'0000, 0x100, CM_RESOURCE_MEMORY_READ_ONLY), Port(0x60, 4));
  IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
  ASSERT_EQ(c_driver_prepare_connect(&device.fdo, &device.pdo, &resources.list, &parameters), STATUS_SUCCESS);
  EXPECT_EQ(parameters.FullySpecified.InterruptMode, Latched);
  EXPECT_EQ(parameters.FullySpecified.ShareVector, FALSE);
  ULONG length = 0;
  ULONG protect = 0;
  EXPECT_EQ(c_driver_registers(&device.fdo, &length, &protect), 0xFEB0'0000LL);
  EXPECT_EQ(protect, ULONG{PAGE_READONLY | PAGE_NOCACHE});
}

TEST(CDriver, FillsMessageBasedParametersFromAnMsiResource) {
  CDriverDevice device;
  const ThreeResources resources =
      MakeList(Memory(0xFEB0'0000, 0x4000, CM_RESOURCE_MEMORY_READ_WRITE), MessageInterrupt(9, 0x70, 0xF),
               Port(0x3F8, 8));
  IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
  ASSERT_EQ(c_driver_prepare_connect(&device.fdo, &device.pdo, &resources.list, &parameters), STATUS_SUCCESS);

  ASSERT_EQ(parameters.Version, ULONG{CONNECT_MESSAGE_BASED});
  const IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS &p = parameters.MessageBased;
  EXPECT_EQ(p.PhysicalDeviceObject, &device.pdo);
  ASSERT_NE(p.ConnectionContext.Generic, nullptr);
  EXPECT_EQ(static_cast<void *>(p.ConnectionContext.InterruptMessageTable),
            static_cast<void *>(p.ConnectionContext.InterruptObject));
  EXPECT_EQ(p.ServiceContext, &device.fdo);
  EXPECT_EQ(p.SpinLock, nullptr);
  EXPECT_EQ(p.SynchronizeIrql, PASSIVE_LEVEL);
  ASSERT_NE(p.MessageServiceRoutine, nullptr);
  ASSERT_NE(p.FallBackServiceRoutine, nullptr);

  EXPECT_EQ(p.MessageServiceRoutine(nullptr, p.ServiceContext, 3), TRUE);
  EXPECT_EQ(c_driver_last_message(&device.fdo), 3U);
  EXPECT_EQ(p.FallBackServiceRoutine(nullptr, p.ServiceContext), TRUE);
  EXPECT_EQ(c_driver_interrupt_count(&device.fdo), 2U);

  // The device had no messages after all: the fallback ISR was connected, Version came back
  // as CONNECT_LINE_BASED and the context holds an interrupt object.
  PKINTERRUPT const fallback = reinterpret_cast<PKINTERRUPT>(std::uintptr_t{0x2000});
  *p.ConnectionContext.InterruptObject = fallback;
  parameters.Version = CONNECT_LINE_BASED;
  IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
  c_driver_prepare_disconnect(&device.fdo, &parameters, &disconnect);
  EXPECT_EQ(disconnect.Version, ULONG{CONNECT_LINE_BASED});
  EXPECT_EQ(disconnect.ConnectionContext.InterruptObject, fallback);
}

TEST(CDriver, ReportsNotFoundWithoutAnInterrupt) {
  CDriverDevice device;
  const ThreeResources resources = MakeList(Port(0x3F8, 8), Memory(0xFEB0'0000, 0x1000, 0), Port(0x2F8, 8));
  IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
  EXPECT_EQ(c_driver_prepare_connect(&device.fdo, &device.pdo, &resources.list, &parameters), STATUS_NOT_FOUND);
}

TEST(CDriver, PhysicalAddressHalvesAliasQuadPart) {
  EXPECT_EQ(c_driver_physical_address(0x89AB'CDEFU, 0x0123'4567), 0x0123'4567'89AB'CDEFLL);
  EXPECT_EQ(c_driver_physical_address(0, -1), static_cast<LONGLONG>(0xFFFF'FFFF'0000'0000ULL));
}

TEST(CDriver, IndexesTheMessageTableByMessageId) {
  // A table of three messages, laid out as IoConnectInterruptEx returns it.
  struct ThreeMessages {
    IO_INTERRUPT_MESSAGE_INFO info;
    IO_INTERRUPT_MESSAGE_INFO_ENTRY more[2];
  } table{};
  static_assert(offsetof(ThreeMessages, more) == sizeof(IO_INTERRUPT_MESSAGE_INFO));
  table.info.MessageCount = 3;
  table.info.MessageInfo[0].Vector = 0x70;
  table.more[0].Vector = 0x71;
  table.more[1].Vector = 0x72;
  EXPECT_EQ(c_driver_message_vector(&table.info, 0), 0x70U);
  EXPECT_EQ(c_driver_message_vector(&table.info, 1), 0x71U);
  EXPECT_EQ(c_driver_message_vector(&table.info, 2), 0x72U);
  EXPECT_EQ(c_driver_message_vector(&table.info, 3), 0U);
}

TEST(WdkMacros, MemoryAndRecordMacrosDoWhatTheWdkDefinesThemToDo) {
  struct Record {
    ULONG first;
    KSPIN_LOCK lock;
  } record{};
  RtlFillMemory(&record, sizeof(record), 0xAB);
  EXPECT_EQ(record.first, 0xABABABABu);
  RtlZeroMemory(&record, sizeof(record));
  EXPECT_EQ(record.first, 0u);
  const ULONG value = 7;
  RtlCopyMemory(&record.first, &value, sizeof(value));
  EXPECT_EQ(record.first, 7u);
  EXPECT_EQ(FIELD_OFFSET(Record, lock), 8);
  EXPECT_EQ(CONTAINING_RECORD(&record.lock, Record, lock), &record);
  EXPECT_TRUE(ARGUMENT_PRESENT(&record));
  EXPECT_FALSE(ARGUMENT_PRESENT(static_cast<Record*>(nullptr)));
}

}  // namespace
