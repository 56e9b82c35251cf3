// A device as a driver sees it: its PDO, the raw and translated resource lists of
// IRP_MN_START_DEVICE, and its registers through MmMapIoSpace and READ/WRITE_REGISTER_*.

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "driver_test_support.hpp"

namespace {

using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::Machine;
using irqsim::MessageKind;
using irqsim::Trigger;
using namespace irqsim_test;

std::vector<CM_PARTIAL_RESOURCE_DESCRIPTOR> Descriptors(PCM_RESOURCE_LIST list) {
  const CM_PARTIAL_RESOURCE_LIST& partial = list->List[0].PartialResourceList;
  return {partial.PartialDescriptors, partial.PartialDescriptors + partial.Count};
}

PHYSICAL_ADDRESS Physical(std::uint64_t address) {
  PHYSICAL_ADDRESS physical{};
  physical.QuadPart = static_cast<LONGLONG>(address);
  return physical;
}

// ---- PDO and resource lists --------------------------------------------------------------------

TEST(DevicePdo, IsADeviceObjectOfItsOwnThatStaysTheSame) {
  Machine m;
  Device first = m.plug({.name = "a"});
  Device second = m.plug({.name = "b"});
  ASSERT_NE(first.pdo(), nullptr);
  EXPECT_EQ(first.pdo()->Type, 3);
  EXPECT_EQ(first.pdo(), first.pdo());
  EXPECT_NE(first.pdo(), second.pdo());
}

TEST(DeviceResources, OneFullDescriptorOnThePciBusWithMemoryFirst) {
  Machine m;
  Device device = m.plug({.name = "nic", .lines = {{.vector = 0x51, .irql = 5}}, .register_bytes = 0x200});
  PCM_RESOURCE_LIST list = device.translated_resources();
  ASSERT_EQ(list->Count, 1u);
  EXPECT_EQ(list->List[0].InterfaceType, PCIBus);
  EXPECT_EQ(list->List[0].PartialResourceList.Version, 1);
  EXPECT_EQ(list->List[0].PartialResourceList.Revision, 1);
  const auto descriptors = Descriptors(list);
  ASSERT_EQ(descriptors.size(), 2u);
  EXPECT_EQ(descriptors[0].Type, CmResourceTypeMemory);
  EXPECT_EQ(descriptors[0].Flags, CM_RESOURCE_MEMORY_READ_WRITE);
  EXPECT_EQ(static_cast<std::uint64_t>(descriptors[0].u.Memory.Start.QuadPart), device.register_address());
  EXPECT_EQ(descriptors[0].u.Memory.Length, 0x200u);
  EXPECT_EQ(descriptors[1].Type, CmResourceTypeInterrupt);
}

TEST(DeviceResources, LineInterruptsAreTranslatedToTheirDirqlVectorAndAffinity) {
  Machine m({.processors = 4});
  Device device = m.plug({.name = "two-lines",
                          .lines = {{.vector = 0x51, .irql = 5, .trigger = Trigger::Level, .affinity = 0b0110},
                                    {.vector = 0x62, .irql = 6, .trigger = Trigger::Latched, .shareable = false}}});
  const auto translated = Descriptors(device.translated_resources());
  ASSERT_EQ(translated.size(), 2u);
  EXPECT_EQ(translated[0].Flags, CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE);
  EXPECT_EQ(translated[0].ShareDisposition, CmResourceShareShared);
  EXPECT_EQ(translated[0].u.Interrupt.Level, 5);
  EXPECT_EQ(translated[0].u.Interrupt.Vector, 0x51u);
  // The descriptor is packed to 4 bytes (as in the WDK), so its 8-byte Affinity is read by value.
  EXPECT_EQ(KAFFINITY{translated[0].u.Interrupt.Affinity}, 0b0110u);
  EXPECT_EQ(translated[0].u.Interrupt.Group, 0);
  EXPECT_EQ(translated[1].Flags, CM_RESOURCE_INTERRUPT_LATCHED);
  EXPECT_EQ(translated[1].ShareDisposition, CmResourceShareDeviceExclusive);
  EXPECT_EQ(KAFFINITY{translated[1].u.Interrupt.Affinity}, 0b1111u);  // narrowed to the processors that exist

  // The raw list has the same order and flags but bus-relative numbers.
  const auto raw = Descriptors(device.raw_resources());
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[0].Flags, translated[0].Flags);
  EXPECT_NE(raw[0].u.Interrupt.Vector, translated[0].u.Interrupt.Vector);
}

TEST(DeviceResources, MsiIsOneMessageDescriptorCountingItsMessages) {
  Machine m;
  Device device = m.plug({.name = "msi",
                          .message_kind = MessageKind::Msi,
                          .messages = {{0x70, 7}, {0x71, 7}, {0x72, 7}, {0x73, 7}}});
  const auto translated = Descriptors(device.translated_resources());
  ASSERT_EQ(translated.size(), 1u);
  EXPECT_EQ(translated[0].Type, CmResourceTypeInterrupt);
  EXPECT_EQ(translated[0].Flags, CM_RESOURCE_INTERRUPT_LATCHED | CM_RESOURCE_INTERRUPT_MESSAGE);
  EXPECT_EQ(translated[0].u.MessageInterrupt.Translated.Vector, 0x70u);
  EXPECT_EQ(translated[0].u.MessageInterrupt.Translated.Level, 7);
  const auto raw = Descriptors(device.raw_resources());
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].u.MessageInterrupt.Raw.MessageCount, 4);
}

TEST(DeviceResources, MsiXIsOneDescriptorPerMessage) {
  Machine m({.processors = 4});
  Device device = m.plug({.name = "msix",
                          .message_kind = MessageKind::MsiX,
                          .messages = {{.vector = 0x70, .irql = 7, .affinity = 1},
                                       {.vector = 0x81, .irql = 8, .affinity = 2},
                                       {.vector = 0x92, .irql = 9, .affinity = 4}}});
  const auto translated = Descriptors(device.translated_resources());
  ASSERT_EQ(translated.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(translated[i].Flags, CM_RESOURCE_INTERRUPT_LATCHED | CM_RESOURCE_INTERRUPT_MESSAGE);
    EXPECT_EQ(translated[i].u.MessageInterrupt.Translated.Level, 7 + i);
    EXPECT_EQ(KAFFINITY{translated[i].u.MessageInterrupt.Translated.Affinity}, KAFFINITY{1} << i);
    EXPECT_EQ(Descriptors(device.raw_resources())[i].u.MessageInterrupt.Raw.MessageCount, 1);
  }
}

// ---- registers --------------------------------------------------------------------------------

class DeviceRegisters : public ::testing::Test {
 protected:
  Machine m{{.processors = 2}};
  Device device = m.plug({.name = "regs", .register_bytes = 0x100});
  volatile UCHAR* registers = static_cast<volatile UCHAR*>(
      MmMapIoSpace(Physical(device.register_address()), 0x100, MmNonCached));

  template <class T>
  volatile T* At(std::size_t offset) {
    return reinterpret_cast<volatile T*>(registers + offset);
  }
};

TEST_F(DeviceRegisters, ReadsAndWritesReachTheDeviceInEveryWidth) {
  ASSERT_NE(registers, nullptr);
  WRITE_REGISTER_ULONG(At<ULONG>(0x10), 0xCAFEF00D);
  EXPECT_EQ(device.stored_register(0x10), 0xCAFEF00Du);
  EXPECT_EQ(READ_REGISTER_ULONG(At<ULONG>(0x10)), 0xCAFEF00Du);
  WRITE_REGISTER_UCHAR(At<UCHAR>(0x20), 0xAB);
  WRITE_REGISTER_USHORT(At<USHORT>(0x22), 0x1234);
  WRITE_REGISTER_ULONG64(At<ULONG64>(0x28), 0x0102030405060708);
  EXPECT_EQ(READ_REGISTER_UCHAR(At<UCHAR>(0x20)), 0xAB);
  EXPECT_EQ(READ_REGISTER_USHORT(At<USHORT>(0x22)), 0x1234);
  EXPECT_EQ(READ_REGISTER_ULONG64(At<ULONG64>(0x28)), 0x0102030405060708u);
  EXPECT_EQ(device.stored_register(0x20, 4), 0x123400ABu);
}

TEST_F(DeviceRegisters, HandlersDecideWhatReadsReturnAndWritesDo) {
  int reads = 0;
  device.on_read(0x04, [&](std::uint64_t offset, unsigned width) {
    ++reads;
    return offset * 0x100 + width;
  });
  std::vector<std::uint64_t> written;
  device.on_write(0x08, [&](std::uint64_t, unsigned, std::uint64_t value) { written.push_back(value); });
  EXPECT_EQ(READ_REGISTER_ULONG(At<ULONG>(0x04)), 0x404u);
  EXPECT_EQ(READ_REGISTER_USHORT(At<USHORT>(0x04)), 0x402u);
  EXPECT_EQ(reads, 2);
  WRITE_REGISTER_ULONG(At<ULONG>(0x08), 7);
  EXPECT_THAT(written, ::testing::ElementsAre(7u));
  EXPECT_EQ(device.stored_register(0x08), 0u);  // the handler chose not to store it
}

TEST_F(DeviceRegisters, AnEmptyHandlerMakesTheRegisterPlainMemoryAgain) {
  device.on_read(0x04, [](std::uint64_t, unsigned) { return std::uint64_t{0xBAD}; });
  device.on_write(0x04, [](std::uint64_t, unsigned, std::uint64_t) {});
  device.on_read(0x04, nullptr);
  device.on_write(0x04, nullptr);
  WRITE_REGISTER_ULONG(At<ULONG>(0x04), 0x1234);
  EXPECT_EQ(device.stored_register(0x04), 0x1234u);
  EXPECT_EQ(READ_REGISTER_ULONG(At<ULONG>(0x04)), 0x1234u);
}

TEST_F(DeviceRegisters, AMappingCanStartInsideTheBlock) {
  volatile ULONG* window = static_cast<volatile ULONG*>(
      MmMapIoSpaceEx(Physical(device.register_address() + 0x80), 0x10, PAGE_READWRITE | PAGE_NOCACHE));
  ASSERT_NE(window, nullptr);
  WRITE_REGISTER_ULONG(window + 1, 99);
  EXPECT_EQ(device.stored_register(0x84), 99u);
}

TEST_F(DeviceRegisters, RangesOutsideEveryDeviceDoNotMap) {
  EXPECT_EQ(MmMapIoSpace(Physical(0x1000), 0x10, MmNonCached), nullptr);
  EXPECT_EQ(MmMapIoSpace(Physical(device.register_address() + 0xF0), 0x20, MmNonCached), nullptr);
  EXPECT_EQ(MmMapIoSpace(Physical(device.register_address()), 0, MmNonCached), nullptr);
  EXPECT_EQ(MmMapIoSpaceEx(Physical(device.register_address()), 0x10, PAGE_EXECUTE_READWRITE), nullptr);
}

TEST_F(DeviceRegisters, AccessAfterUnmapBugChecks50) {
  MmUnmapIoSpace(const_cast<UCHAR*>(registers), 0x100);
  EXPECT_THAT(bug_check_from([&] { (void)READ_REGISTER_ULONG(At<ULONG>(0x10)); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), RuleMentions("READ_REGISTER_ULONG"))));
}

TEST_F(DeviceRegisters, UnmappingWithAnotherSizeBugChecks50) {
  EXPECT_THAT(bug_check_from([&] { MmUnmapIoSpace(const_cast<UCHAR*>(registers), 0x80); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), RuleMentions("MmUnmapIoSpace"))));
}

TEST_F(DeviceRegisters, UnmappingTwiceBugChecks50) {
  MmUnmapIoSpace(const_cast<UCHAR*>(registers), 0x100);
  EXPECT_THAT(bug_check_from([&] { MmUnmapIoSpace(const_cast<UCHAR*>(registers), 0x100); }),
              Optional(IsBugCheck(bugcheck::kPageFaultInNonpagedArea)));
}

TEST(RegisterRoutines, OnOrdinaryMemoryArePlainVolatileAccesses) {
  Machine m;
  ULONG plain = 5;
  EXPECT_EQ(READ_REGISTER_ULONG(&plain), 5u);
  WRITE_REGISTER_ULONG(&plain, 6);
  EXPECT_EQ(plain, 6u);
}

// ---- a realistic ISR ----------------------------------------------------------------------------

// The device: a status register whose bit 0 says "I interrupted", cleared by writing 1 to it
// (write-1-to-clear), which also lets its level-triggered line go.
constexpr std::uint64_t kStatus = 0x00;
constexpr ULONG kPending = 0x1;

struct Driver {
  volatile ULONG* registers = nullptr;
  PKINTERRUPT interrupt = nullptr;
  std::atomic<int> serviced{0};
};

BOOLEAN StatusIsr(PKINTERRUPT, PVOID context) {
  auto* driver = static_cast<Driver*>(context);
  const ULONG status = READ_REGISTER_ULONG(driver->registers + kStatus / 4);
  if ((status & kPending) == 0) return FALSE;
  WRITE_REGISTER_ULONG(driver->registers + kStatus / 4, kPending);
  driver->serviced.fetch_add(1);
  return TRUE;
}

// What the driver's IRP_MN_START_DEVICE handler does with the translated resources.
void StartDevice(Driver& driver, PCM_RESOURCE_LIST translated) {
  for (const CM_PARTIAL_RESOURCE_DESCRIPTOR& resource : Descriptors(translated)) {
    if (resource.Type == CmResourceTypeMemory) {
      driver.registers = static_cast<volatile ULONG*>(
          MmMapIoSpaceEx(resource.u.Memory.Start, resource.u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE));
    } else if (resource.Type == CmResourceTypeInterrupt) {
      const KIRQL irql = static_cast<KIRQL>(resource.u.Interrupt.Level);
      ASSERT_EQ(IoConnectInterrupt(&driver.interrupt, StatusIsr, &driver, nullptr, resource.u.Interrupt.Vector, irql,
                                   irql, LevelSensitive, resource.ShareDisposition == CmResourceShareShared,
                                   resource.u.Interrupt.Affinity, FALSE),
                STATUS_SUCCESS);
    }
  }
}

TEST(StatusRegisterIsr, ReadsItsStatusAndAcknowledgesWithAWriteThatReleasesTheLine) {
  Machine m({.processors = 4});
  Device device = m.plug({.name = "w1c", .lines = {{.vector = 0x55, .irql = 5}}, .register_bytes = 0x40});
  device.on_write(kStatus, [device](std::uint64_t, unsigned, std::uint64_t value) mutable {
    const std::uint64_t status = device.stored_register(kStatus) & ~value;
    device.store_register(kStatus, status);
    if (status == 0) device.deassert_line();
  });
  Driver driver;
  StartDevice(driver, device.translated_resources());
  ASSERT_NE(driver.registers, nullptr);
  ASSERT_NE(driver.interrupt, nullptr);

  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) {
    device.store_register(kStatus, kPending);
    device.assert_line();
    m.wait_until_quiescent();
  }
  EXPECT_EQ(driver.serviced, kEvents);
  EXPECT_FALSE(m.line_asserted(0x55));
  const irqsim::VectorStats stats = m.stats(0x55);
  EXPECT_EQ(stats.claimed, static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(stats.unclaimed, 0u);
  IoDisconnectInterrupt(driver.interrupt);
}

}  // namespace
