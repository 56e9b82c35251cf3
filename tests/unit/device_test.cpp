// Simulated devices from the test's side: plugging one in, driving its lines and messages,
// and defining its registers.

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "driver_test_support.hpp"

namespace {

using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::LineInterruptConfig;
using irqsim::Machine;
using irqsim::MessageConfig;
using irqsim::MessageKind;
using irqsim::Trigger;
using ::testing::HasSubstr;
using namespace irqsim_test;

DeviceConfig OneLine(std::uint32_t vector, Trigger trigger = Trigger::Level) {
  return {.name = "nic", .lines = {{.vector = vector, .irql = 5, .trigger = trigger}}};
}

std::string RejectionOf(Machine& m, const DeviceConfig& config) {
  try {
    m.plug(config);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "accepted";
}

// ---- plugging in --------------------------------------------------------------------------------

TEST(DevicePlug, NamesTheDeviceAndGivesEachItsOwnRegisterWindow) {
  Machine m;
  Device first = m.plug({.name = "first", .register_bytes = 0x100});
  Device second = m.plug({.name = "second", .register_bytes = 0x100});
  EXPECT_EQ(first.name(), "first");
  EXPECT_EQ(second.name(), "second");
  EXPECT_NE(first.register_address(), second.register_address());
  EXPECT_GE(second.register_address() - first.register_address(), 0x100u);
}

TEST(DevicePlug, RejectsWiringNoHardwareHas) {
  Machine m({.processors = 2});
  EXPECT_THAT(RejectionOf(m, {.name = "v", .lines = {{.vector = 256, .irql = 5}}}), HasSubstr("vector"));
  EXPECT_THAT(RejectionOf(m, {.name = "i", .lines = {{.vector = 0x40, .irql = 2}}}), HasSubstr("IRQL"));
  EXPECT_THAT(RejectionOf(m, {.name = "i", .lines = {{.vector = 0x40, .irql = 13}}}), HasSubstr("IRQL"));
  EXPECT_THAT(RejectionOf(m, {.name = "a", .lines = {{.vector = 0x40, .irql = 5, .affinity = 0b100}}}),
              HasSubstr("no processor"));
  EXPECT_THAT(RejectionOf(m, {.name = "g", .lines = {{.vector = 0x40, .irql = 5, .group = 1}}}),
              HasSubstr("no processor"));
  EXPECT_THAT(RejectionOf(m, {.name = "r", .register_bytes = (1 << 20) + 1}), HasSubstr("register bytes"));
}

TEST(DevicePlug, MsiNeedsAPowerOfTwoOfConsecutiveVectorsWithOneIrqlAndTarget) {
  Machine m;
  const auto msi = [](std::vector<MessageConfig> messages) {
    return DeviceConfig{.name = "msi", .message_kind = MessageKind::Msi, .messages = std::move(messages)};
  };
  EXPECT_EQ(RejectionOf(m, msi({{.vector = 0x60, .irql = 6}, {.vector = 0x61, .irql = 6}})), "accepted");
  EXPECT_THAT(RejectionOf(m, msi({{0x60, 6}, {0x61, 6}, {0x62, 6}})), HasSubstr("1, 2, 4, 8, 16 or 32"));
  EXPECT_THAT(RejectionOf(m, msi({})), HasSubstr("1, 2, 4, 8, 16 or 32"));
  EXPECT_THAT(RejectionOf(m, msi({{0x60, 6}, {0x62, 6}})), HasSubstr("consecutive"));
  EXPECT_THAT(RejectionOf(m, msi({{0x60, 6}, {0x61, 7}})), HasSubstr("one IRQL"));
  EXPECT_THAT(RejectionOf(m, {.name = "x", .messages = {{0x60, 6}}}), HasSubstr("neither MSI nor MSI-X"));
  EXPECT_THAT(RejectionOf(m, {.name = "x", .message_kind = MessageKind::MsiX}), HasSubstr("MSI-X grants"));
}

// ---- lines and messages ---------------------------------------------------------------------------

TEST(DeviceLines, AssertAndDeassertDriveTheDevicesVector) {
  Machine m;
  Device device = m.plug(OneLine(0x45));
  device.assert_line();
  EXPECT_TRUE(m.line_asserted(0x45));
  device.deassert_line();
  EXPECT_FALSE(m.line_asserted(0x45));
}

TEST(DeviceLines, DevicesSharingAVectorAreWiredOr) {
  Machine m;
  Device nic = m.plug(OneLine(0x45));
  Device uart = m.plug({.name = "uart", .lines = {{.vector = 0x45, .irql = 5}}});
  nic.assert_line();
  uart.assert_line();
  nic.deassert_line();
  EXPECT_TRUE(m.line_asserted(0x45)) << "the UART still drives the shared line";
  nic.deassert_line();
  EXPECT_TRUE(m.line_asserted(0x45)) << "deasserting twice does not release another device's drive";
  uart.deassert_line();
  EXPECT_FALSE(m.line_asserted(0x45));
}

TEST(DeviceLines, TheTestDrivingAVectorIsOneMoreDriverOfTheWiredOr) {
  Machine m;
  Device device = m.plug(OneLine(0x45));
  device.assert_line();
  m.assert_line(0x45);
  device.deassert_line();
  EXPECT_TRUE(m.line_asserted(0x45));
  m.deassert_line(0x45);
  EXPECT_FALSE(m.line_asserted(0x45));
  m.deassert_line(0x45);
  device.assert_line();
  m.deassert_line(0x45);
  EXPECT_TRUE(m.line_asserted(0x45)) << "the test cannot release a line a device drives";
  device.deassert_line();
}

TEST(DeviceLines, ALevelIsrRunsUntilTheLastDeviceOnTheLineIsSilenced) {
  Machine m({.processors = 2});
  Device first = m.plug(OneLine(0x47));
  Device second = m.plug({.name = "second", .lines = {{.vector = 0x47, .irql = 5}}});
  // One ISR stands for both drivers: each call silences one device, as each device's own ISR
  // would acknowledge its own status register.
  struct Line {
    Device first, second;
    int calls = 0;
  } line{first, second};
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(
                &object,
                [](PKINTERRUPT, PVOID context) -> BOOLEAN {
                  auto& l = *static_cast<Line*>(context);
                  (++l.calls == 1 ? l.first : l.second).deassert_line();
                  return TRUE;
                },
                &line, nullptr, 0x47, 5, 5, LevelSensitive, TRUE, 0b11, FALSE),
            STATUS_SUCCESS);
  first.assert_line();
  second.assert_line();
  m.wait_until_quiescent();
  EXPECT_EQ(line.calls, 2);
  EXPECT_FALSE(m.line_asserted(0x47));
  IoDisconnectInterrupt(object);
}

TEST(DeviceLines, APulseOnALatchedLineRunsTheIsrOnce) {
  Machine m;
  Device device = m.plug(OneLine(0x46, Trigger::Latched));
  IsrRecord isr;
  PKINTERRUPT object = ConnectLatched(RecordingIsr, &isr, 0x46, 5, 5);
  device.pulse_line();
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs, 1);
  IoDisconnectInterrupt(object);
}

TEST(DeviceLines, ALineThatDoesNotExistIsATestError) {
  Machine m;
  Device device = m.plug(OneLine(0x45));
  EXPECT_THROW(device.assert_line(1), std::out_of_range);
}

TEST(DeviceMessages, SignalingAMessageRaisesItsVector) {
  Machine m({.processors = 2});
  Device device = m.plug({.name = "msix",
                          .message_kind = MessageKind::MsiX,
                          .messages = {{.vector = 0x70, .irql = 7}, {.vector = 0x81, .irql = 8}}});
  IsrRecord first;
  IsrRecord second;
  PKINTERRUPT a = ConnectLatched(RecordingIsr, &first, 0x70, 7, 7);
  PKINTERRUPT b = ConnectLatched(RecordingIsr, &second, 0x81, 8, 8);
  device.signal_message(1);
  m.wait_until_quiescent();
  EXPECT_EQ(first.runs, 0);
  EXPECT_EQ(second.runs, 1);
  EXPECT_EQ(second.irql, 8);
  EXPECT_THROW(device.signal_message(2), std::out_of_range);
  IoDisconnectInterrupt(a);
  IoDisconnectInterrupt(b);
}

// An identical message that arrives before the first was taken merges with it.
TEST(DeviceMessages, MessagesNotYetTakenCoalesce) {
  Machine m({.processors = 1});
  Device device = m.plug({.name = "msi", .message_kind = MessageKind::Msi, .messages = {{.vector = 0x70, .irql = 7}}});
  IsrRecord isr;
  PKINTERRUPT object = ConnectLatched(RecordingIsr, &isr, 0x70, 7, 7);
  m.run_on(0, [&] {
    const KIRQL old = RaiseTo(HIGH_LEVEL);
    for (int i = 0; i < 5; ++i) device.signal_message(0);
    KeLowerIrql(old);
  });
  m.wait_until_quiescent();
  EXPECT_EQ(isr.runs, 1);
  IoDisconnectInterrupt(object);
}

struct StatusReader {
  Device device;
  std::atomic<std::uint64_t> seen{0};
};

BOOLEAN ReadStatusIsr(PKINTERRUPT, PVOID context) {
  auto& reader = *static_cast<StatusReader*>(context);
  reader.seen.store(reader.device.stored_register(0), std::memory_order_relaxed);
  return TRUE;
}

// A merged message changes nothing at the controller, but what the device did before sending
// it still reaches the ISR that serves the pending one.
TEST(DeviceMessages, TheIsrServingMergedMessagesSeesWhatTheDeviceWroteBeforeTheLast) {
  Machine m({.processors = 1});
  StatusReader reader{m.plug({.name = "msi",
                              .message_kind = MessageKind::Msi,
                              .messages = {{.vector = 0x70, .irql = 7}},
                              .register_bytes = 0x10})};
  PKINTERRUPT object = ConnectLatched(ReadStatusIsr, &reader, 0x70, 7, 7);
  // Processor 0 holds the messages off at HIGH_LEVEL while the test thread plays the device.
  std::atomic<bool> raised{false};
  std::atomic<bool> device_done{false};
  m.post(0, [&] {
    const KIRQL old = RaiseTo(HIGH_LEVEL);
    raised.store(true);
    while (!device_done.load()) std::this_thread::yield();
    KeLowerIrql(old);
  });
  while (!raised.load()) std::this_thread::yield();
  for (std::uint64_t status = 1; status <= 5; ++status) {
    reader.device.store_register(0, status);
    reader.device.signal_message(0);
  }
  device_done.store(true);
  m.wait_until_quiescent();
  EXPECT_EQ(reader.seen.load(), 5u);
  EXPECT_EQ(m.stats(0x70).deliveries, 1u);
  IoDisconnectInterrupt(object);
}

// ---- registers ----------------------------------------------------------------------------------

TEST(DeviceRegisters, StartZeroedAndHoldWhatIsStored) {
  Machine m;
  Device device = m.plug({.name = "regs", .register_bytes = 0x40});
  EXPECT_EQ(device.stored_register(0x10), 0u);
  device.store_register(0x10, 0xA1B2C3D4);
  EXPECT_EQ(device.stored_register(0x10), 0xA1B2C3D4u);
  EXPECT_EQ(device.stored_register(0x10, 1), 0xD4u);
  EXPECT_EQ(device.stored_register(0x12, 2), 0xA1B2u);
  device.store_register(0x18, 0x0102030405060708, 8);
  EXPECT_EQ(device.stored_register(0x18, 8), 0x0102030405060708u);
}

TEST(DeviceRegisters, AccessesOutsideTheBlockAreTestErrors) {
  Machine m;
  Device device = m.plug({.name = "regs", .register_bytes = 0x40});
  EXPECT_THROW((void)device.stored_register(0x3E, 4), std::out_of_range);
  EXPECT_THROW(device.store_register(0x40, 1, 1), std::out_of_range);
  EXPECT_THROW((void)device.stored_register(0, 3), std::out_of_range);
  EXPECT_THROW(device.on_read(0x40, [](std::uint64_t, unsigned) { return std::uint64_t{0}; }), std::out_of_range);
}

}  // namespace
