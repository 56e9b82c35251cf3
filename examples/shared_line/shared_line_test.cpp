// Driver-logic tests for the two drivers sharing line 0x51: the network card's (nic_driver.c)
// and the serial port's (uart_driver.c). Each test builds its own machine, plugs the simulated
// devices, starts the drivers from the devices' translated resources as IRP_MN_START_DEVICE
// would, makes the hardware do something, waits until the machine is quiescent and then looks
// at what the drivers did: what they counted, what they wrote to the devices' status registers,
// and what the machine's interrupt controller saw on the line.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace_failing_tests.hpp>
#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nic_device.hpp"
#include "nic_driver.h"
#include "shared_line_scenario.hpp"
#include "uart_device.hpp"
#include "uart_driver.h"

namespace {

// A failing test leaves the trace of its machine in irqsim-traces/ (docs/tracing.md).
[[maybe_unused]] const bool traced = irqsim::testing::trace_failing_tests();

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

// Both devices on the shared line and a driver for each, on a two-processor machine: small, but
// a multiprocessor, so ISRs run on processor threads while the test thread plays the hardware.
// The tests start the drivers themselves because the order the drivers connect in is the order
// the kernel calls their ISRs, and some tests depend on it.
class SharedLineTest : public ::testing::Test {
 protected:
  void start_nic() { ASSERT_EQ(NicStartDevice(&nic, nic_card.device().translated_resources()), STATUS_SUCCESS); }
  void start_uart() { ASSERT_EQ(UartStartDevice(&uart, uart_card.device().translated_resources()), STATUS_SUCCESS); }

  NIC_STATISTICS nic_statistics() {
    NIC_STATISTICS statistics;
    NicQueryStatistics(&nic, &statistics);
    return statistics;
  }
  UART_STATISTICS uart_statistics() {
    UART_STATISTICS statistics;
    UartQueryStatistics(&uart, &statistics);
    return statistics;
  }
  std::vector<std::uint8_t> read_uart() {
    std::array<UCHAR, UART_RX_BUFFER_SIZE> buffer{};
    const ULONG taken = UartRead(&uart, buffer.data(), static_cast<ULONG>(buffer.size()));
    return {buffer.begin(), buffer.begin() + taken};
  }
  irqsim::VectorStats line_stats() const { return machine.stats(kSharedLine.vector); }

  // What IRP_MN_STOP_DEVICE would do; harmless for a driver that never started.
  void TearDown() override {
    NicStopDevice(&nic);
    UartStopDevice(&uart);
  }

  irqsim::Machine machine{{.processors = 2}};
  NicDevice nic_card{machine, kSharedLine};
  UartDevice uart_card{machine, kSharedLine};
  NIC_EXTENSION nic{};
  UART_EXTENSION uart{};
};

TEST_F(SharedLineTest, NicClaimsItsPacketsAndAcknowledgesOnlyTheReceiveCause) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());

  nic_card.receive_packets(3);
  machine.wait_until_quiescent();

  const NIC_STATISTICS seen = nic_statistics();
  EXPECT_EQ(seen.PacketsReceived, 3u);
  EXPECT_EQ(seen.InterruptsClaimed, 1u);
  EXPECT_THAT(nic_card.status().acknowledgements(), ElementsAre(NIC_STATUS_RX_PACKETS));
  EXPECT_EQ(uart_statistics().InterruptsClaimed, 0u);
  // The acknowledgement cleared the card's last cause, so the card let go of the line.
  EXPECT_FALSE(machine.line_asserted(kSharedLine.vector));
  EXPECT_EQ(line_stats().claimed, 1u);
  EXPECT_EQ(line_stats().unclaimed, 0u);
}

// The NIC connects first, so its ISR is the first the kernel calls for every interrupt on the
// line, the serial port's included. It must look at its own status register, find nothing,
// return FALSE without touching the card, and leave the interrupt to the next ISR.
TEST_F(SharedLineTest, NicDoesNotClaimAnInterruptTheSerialPortRaised) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());

  uart_card.receive(bytes_of("A"));
  machine.wait_until_quiescent();

  EXPECT_EQ(nic_card.status().reads(), 1u);  // its ISR did run and ask the card
  EXPECT_THAT(nic_card.status().acknowledgements(), IsEmpty());
  EXPECT_EQ(nic_statistics().InterruptsClaimed, 0u);
  EXPECT_EQ(uart_statistics().InterruptsClaimed, 1u);
  EXPECT_EQ(read_uart(), bytes_of("A"));
  EXPECT_EQ(line_stats().unclaimed, 0u);
}

// The same the other way round: started first, the serial port's ISR sees the NIC's interrupts
// first.
TEST_F(SharedLineTest, SerialPortDoesNotClaimAnInterruptTheNicRaised) {
  ASSERT_NO_FATAL_FAILURE(start_uart());
  ASSERT_NO_FATAL_FAILURE(start_nic());

  nic_card.receive_packets(1);
  machine.wait_until_quiescent();

  EXPECT_EQ(uart_card.status().reads(), 1u);
  EXPECT_THAT(uart_card.status().acknowledgements(), IsEmpty());
  EXPECT_EQ(uart_statistics().InterruptsClaimed, 0u);
  EXPECT_EQ(nic_statistics().PacketsReceived, 1u);
}

// Masking the vector holds the interrupt at the controller, so both devices can be made to
// interrupt before any ISR runs. On a level-triggered line the kernel stops at the first ISR
// that claims; the line is still asserted by the other device, so it is delivered again.
TEST_F(SharedLineTest, BothDevicesPendingAtOnceAreBothServicedAndTheLineDrops) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());
  machine.mask(kSharedLine.vector);
  nic_card.receive_packets(2);
  uart_card.receive(bytes_of("xy"));
  EXPECT_TRUE(machine.line_asserted(kSharedLine.vector));

  machine.unmask(kSharedLine.vector);
  machine.wait_until_quiescent();

  EXPECT_GE(line_stats().deliveries, 1u);
  EXPECT_LE(line_stats().deliveries, 2u);
  EXPECT_EQ(nic_statistics().PacketsReceived, 2u);
  EXPECT_EQ(read_uart(), bytes_of("xy"));
  EXPECT_FALSE(machine.line_asserted(kSharedLine.vector));
  EXPECT_EQ(line_stats().unclaimed, 0u);
}

// Write-1-to-clear: the value written is the set of causes cleared. Writing back more than it
// serviced would clear a cause nobody looked at, and that event would be lost.
TEST_F(SharedLineTest, AcknowledgementWritesBackExactlyTheCausesServiced) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());
  machine.mask(kSharedLine.vector);
  nic_card.receive_packets(1);
  nic_card.change_link(false);
  machine.unmask(kSharedLine.vector);
  machine.wait_until_quiescent();
  nic_card.receive_packets(1);
  machine.wait_until_quiescent();

  EXPECT_THAT(nic_card.status().acknowledgements(),
              ElementsAre(NIC_STATUS_RX_PACKETS | NIC_STATUS_LINK_CHANGE, NIC_STATUS_RX_PACKETS));
  const NIC_STATISTICS seen = nic_statistics();
  EXPECT_EQ(seen.PacketsReceived, 2u);
  EXPECT_EQ(seen.LinkChanges, 1u);
  EXPECT_EQ(seen.LinkUp, FALSE);
  EXPECT_EQ(nic_card.status().pending(), 0u);
}

TEST_F(SharedLineTest, SerialPortHandsOverBytesInTheOrderTheyArrived) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());

  // One interrupt per burst, each draining the FIFO into the driver's receive buffer.
  for (const std::string_view burst : {"hello", ", ", "world"}) {
    uart_card.receive(bytes_of(burst));
    machine.wait_until_quiescent();
  }

  EXPECT_EQ(read_uart(), bytes_of("hello, world"));
  EXPECT_THAT(read_uart(), IsEmpty());
  const UART_STATISTICS seen = uart_statistics();
  EXPECT_EQ(seen.BytesReceived, 12u);
  EXPECT_EQ(seen.InterruptsClaimed, 3u);
}

// Twenty bytes arrive while the interrupt is held off: the sixteen-byte FIFO keeps the first
// sixteen and the port reports the overrun. The driver counts the error and still delivers what
// the FIFO kept.
TEST_F(SharedLineTest, FifoOverrunIsCountedAndTheBytesKeptAreDelivered) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());
  const std::vector<std::uint8_t> sent = bytes_of("0123456789abcdefWXYZ");
  machine.mask(kSharedLine.vector);
  uart_card.receive(sent);
  machine.unmask(kSharedLine.vector);
  machine.wait_until_quiescent();

  EXPECT_EQ(read_uart(), std::vector<std::uint8_t>(sent.begin(), sent.begin() + UART_RX_FIFO_DEPTH));
  EXPECT_EQ(uart_card.bytes_lost(), 4u);
  EXPECT_EQ(uart_statistics().OverrunErrors, 1u);
  EXPECT_THAT(uart_card.status().acknowledgements(),
              ElementsAre(UART_STATUS_RX_AVAILABLE | UART_STATUS_RX_OVERRUN));
}

// The PnP manager's translated resource carries the DIRQL (u.Interrupt.Level); both drivers
// connect with it as SynchronizeIrql, so that is the IRQL their ISRs run at.
TEST_F(SharedLineTest, IsrsRunAtTheDirqlOfTheTranslatedResource) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());
  const CM_PARTIAL_RESOURCE_LIST& resources = nic_card.device().translated_resources()->List[0].PartialResourceList;
  KIRQL dirql = PASSIVE_LEVEL;
  for (ULONG i = 0; i < resources.Count; ++i) {
    if (resources.PartialDescriptors[i].Type == CmResourceTypeInterrupt) {
      dirql = static_cast<KIRQL>(resources.PartialDescriptors[i].u.Interrupt.Level);
    }
  }
  ASSERT_EQ(dirql, kSharedLine.irql);

  nic_card.receive_packets(1);
  uart_card.receive(bytes_of("z"));
  machine.wait_until_quiescent();

  EXPECT_EQ(nic_statistics().IsrIrql, dirql);
  EXPECT_EQ(uart_statistics().IsrIrql, dirql);
}

// A stopped driver's ISR is disconnected: the card's interrupt stays pending with nobody to
// call. Connecting again is enough for the waiting interrupt to be serviced, which is why the
// WDK warns that an ISR can run before IoConnectInterrupt returns.
TEST_F(SharedLineTest, StopDisconnectsAndARestartServicesWhatArrivedMeanwhile) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());
  NicStopDevice(&nic);
  UartStopDevice(&uart);

  nic_card.receive_packets(2);
  machine.wait_until_quiescent();  // a vector with nothing connected does not keep it busy
  EXPECT_EQ(line_stats().deliveries, 0u);
  EXPECT_EQ(nic_card.status().reads(), 0u);
  EXPECT_TRUE(machine.line_asserted(kSharedLine.vector));

  ASSERT_NO_FATAL_FAILURE(start_nic());
  machine.wait_until_quiescent();
  EXPECT_EQ(nic_statistics().PacketsReceived, 2u);
  EXPECT_FALSE(machine.line_asserted(kSharedLine.vector));
}

// A device whose interrupt pin the firmware left unrouted gets no interrupt resource. The driver
// fails the start with the status documented in line_device.h, and leaves nothing mapped.
TEST_F(SharedLineTest, StartWithoutAnInterruptResourceFails) {
  irqsim::Device unrouted = machine.plug({.name = "nic with an unrouted pin", .register_bytes = NIC_REGISTER_BYTES});

  EXPECT_EQ(NicStartDevice(&nic, unrouted.translated_resources()), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(nic.Line.Interrupt, nullptr);
  EXPECT_EQ(nic.Line.Registers, nullptr);
}

TEST_F(SharedLineTest, StartWithoutARegisterResourceFails) {
  irqsim::Device unmapped = machine.plug({.name = "uart without registers", .lines = {kSharedLine}});

  EXPECT_EQ(UartStartDevice(&uart, unmapped.translated_resources()), STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(uart.Line.Interrupt, nullptr);
}

// UartRead enters the line's critical section, which means raising to its DIRQL. Called from
// code already running higher (an ISR of a higher-priority device, say) that would lower the
// IRQL: Windows stops with IRQL_NOT_GREATER_OR_EQUAL, and so does the simulated machine.
TEST_F(SharedLineTest, ReadingFromAboveTheLinesDirqlIsBugCheck9) {
  ASSERT_NO_FATAL_FAILURE(start_nic());
  ASSERT_NO_FATAL_FAILURE(start_uart());

  IRQSIM_EXPECT_BUGCHECK(machine.run_on(0,
                                        [this] {
                                          KIRQL previous = PASSIVE_LEVEL;
                                          KeRaiseIrql(kSharedLine.irql + 1, &previous);
                                          std::array<UCHAR, 1> byte{};
                                          UartRead(&uart, byte.data(), 1);
                                        }),
                         irqsim::bugcheck::kIrqlNotGreaterOrEqual);
}

// The drivers connect on the processors the translated resource names (u.Interrupt.Affinity),
// so a line routed to processor 1 only is serviced there.
TEST(SharedLineAffinity, IsrRunsOnlyOnTheProcessorsTheResourceAssigns) {
  irqsim::Machine machine({.processors = 2});
  NicDevice nic_card(machine, {.vector = kSharedLine.vector, .irql = kSharedLine.irql, .affinity = 0b10});
  NIC_EXTENSION nic{};
  ASSERT_EQ(NicStartDevice(&nic, nic_card.device().translated_resources()), STATUS_SUCCESS);

  GROUP_AFFINITY connected{};
  ASSERT_EQ(IoGetAffinityInterrupt(nic.Line.Interrupt, &connected), STATUS_SUCCESS);
  EXPECT_EQ(connected.Mask, 0b10u);
  for (int packet = 0; packet < 4; ++packet) {
    nic_card.receive_packets(1);
    machine.wait_until_quiescent();
  }
  NIC_STATISTICS seen;
  NicQueryStatistics(&nic, &seen);
  EXPECT_EQ(seen.PacketsReceived, 4u);
  EXPECT_EQ(machine.interrupts_taken(0), 0u);
  EXPECT_EQ(seen.IsrProcessor, 1u);
  NicStopDevice(&nic);
}

// How a stuck line shows up. Something holds the line asserted (here the test, through the
// controller) while no device has a cause pending: every ISR on it returns FALSE, the line is
// delivered again and again, and after storm_threshold unclaimed deliveries the machine stops
// with INTERRUPT_STORM (0xF2) instead of livelocking. A small threshold keeps the test short.
TEST(SharedLineStorm, LineHeldAssertedWithNoDeviceInterruptingIsAnInterruptStorm) {
  irqsim::Machine machine({.processors = 2, .storm_threshold = 20});
  NicDevice nic_card(machine, kSharedLine);
  UartDevice uart_card(machine, kSharedLine);
  NIC_EXTENSION nic{};
  UART_EXTENSION uart{};
  ASSERT_EQ(NicStartDevice(&nic, nic_card.device().translated_resources()), STATUS_SUCCESS);
  ASSERT_EQ(UartStartDevice(&uart, uart_card.device().translated_resources()), STATUS_SUCCESS);

  machine.assert_line(kSharedLine.vector);
  IRQSIM_EXPECT_BUGCHECK(machine.wait_until_quiescent(), irqsim::bugcheck::kHardwareInterruptStorm);

  // Both ISRs kept asking their devices, and neither acknowledged anything it did not own.
  EXPECT_GE(machine.stats(kSharedLine.vector).unclaimed, 20u);
  EXPECT_EQ(machine.stats(kSharedLine.vector).claimed, 0u);
  EXPECT_GE(nic_card.status().reads(), 20u);
  EXPECT_GE(uart_card.status().reads(), 20u);
  EXPECT_THAT(nic_card.status().acknowledgements(), IsEmpty());
  EXPECT_THAT(uart_card.status().acknowledgements(), IsEmpty());
  NicStopDevice(&nic);
  UartStopDevice(&uart);
}

// The scenario the demo programs run, on the smallest machine it supports. Running it twice on
// one machine checks that it stops its drivers and leaves the line as it found it, as
// irqsim_demo needs before it runs the next example's scenario.
TEST(SharedLineScenario, AccountsForEveryPacketAndByteAndLeavesTheMachineReusable) {
  irqsim::Machine machine({.processors = 2});
  for (int run = 0; run < 2; ++run) {
    const ScenarioResult result = run_shared_line(machine);
    EXPECT_TRUE(result.accounted) << fmt::format("{}", fmt::join(result.findings, "\n"));
    EXPECT_FALSE(machine.line_asserted(kSharedLine.vector));
  }
}

}  // namespace
