#include "shared_line_scenario.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "nic_device.hpp"
#include "nic_driver.h"
#include "uart_device.hpp"
#include "uart_driver.h"

namespace {

constexpr unsigned kEvents = 3000;

// What the hardware was sent, and what the serial driver handed to its reader.
struct Traffic {
  std::uint32_t packets = 0;
  std::uint32_t link_changes = 0;
  bool link_up = true;
  std::vector<std::uint8_t> bytes_sent;
  std::vector<std::uint8_t> bytes_read;
};

// The serial driver's reader (what IRP_MJ_READ would do) empties its receive buffer.
void read_serial(UART_EXTENSION& uart, std::vector<std::uint8_t>& into) {
  std::array<UCHAR, 64> chunk{};
  for (;;) {
    const ULONG taken = UartRead(&uart, chunk.data(), static_cast<ULONG>(chunk.size()));
    if (taken == 0) return;
    into.insert(into.end(), chunk.begin(), chunk.begin() + taken);
  }
}

void drive_traffic(irqsim::Machine& machine, NicDevice& nic_card, UartDevice& uart_card, UART_EXTENSION& uart,
                   Traffic& traffic) {
  std::mt19937 random(2026);
  const auto pick = [&random](unsigned choices) { return static_cast<unsigned>(random() % choices); };
  for (unsigned event = 0; event < kEvents; ++event) {
    const unsigned kind = pick(16);
    if (kind < 7) {
      const std::uint32_t packets = 1 + pick(3);
      nic_card.receive_packets(packets);
      traffic.packets += packets;
    } else if (kind == 7) {
      // A link takes far longer to renegotiate than an interrupt takes to be serviced: each
      // change is seen before the next, so the driver can count them.
      traffic.link_up = !traffic.link_up;
      nic_card.change_link(traffic.link_up);
      ++traffic.link_changes;
      machine.wait_until_quiescent();
    } else {
      std::array<std::uint8_t, 4> burst{};
      const std::size_t length = 1 + pick(static_cast<unsigned>(burst.size()));
      for (std::size_t i = 0; i < length; ++i) burst[i] = static_cast<std::uint8_t>(pick(256));
      const std::span<const std::uint8_t> sent = std::span(burst).first(length);
      // Hardware flow control: the sender holds back while the FIFO has no room for the burst.
      if (uart_card.fifo_space() < length) machine.wait_until_quiescent();
      uart_card.receive(sent);
      traffic.bytes_sent.insert(traffic.bytes_sent.end(), sent.begin(), sent.end());
      read_serial(uart, traffic.bytes_read);
    }
    // The first half of the events arrive one at a time. The second half arrive back to back:
    // causes pile up, one ISR call services several, and both devices are often pending at once.
    if (event < kEvents / 2) machine.wait_until_quiescent();
  }
  machine.wait_until_quiescent();
  read_serial(uart, traffic.bytes_read);
}

std::uint32_t code_of(NTSTATUS status) { return static_cast<std::uint32_t>(status); }

}  // namespace

ScenarioResult run_shared_line(irqsim::Machine& machine) {
  ScenarioResult result;
  result.name = "shared_line: a network card and a serial port on one level-triggered line (plain-C drivers)";
  result.vectors.push_back(
      {kSharedLine.vector, fmt::format("line {:#x} (IRQL {}): NIC + UART", kSharedLine.vector, kSharedLine.irql)});
  NicDevice nic_card(machine, kSharedLine);
  UartDevice uart_card(machine, kSharedLine);
  NIC_EXTENSION nic{};
  UART_EXTENSION uart{};
  const irqsim::VectorStats before = machine.stats(kSharedLine.vector);

  const NTSTATUS nic_started = NicStartDevice(&nic, nic_card.device().translated_resources());
  const NTSTATUS uart_started = UartStartDevice(&uart, uart_card.device().translated_resources());
  if (!NT_SUCCESS(nic_started) || !NT_SUCCESS(uart_started)) {
    NicStopDevice(&nic);
    UartStopDevice(&uart);
    result.findings.push_back(fmt::format("start failed: NIC {:#010x}, UART {:#010x}", code_of(nic_started),
                                          code_of(uart_started)));
    return result;
  }

  Traffic traffic;
  drive_traffic(machine, nic_card, uart_card, uart, traffic);
  NIC_STATISTICS nic_seen;
  UART_STATISTICS uart_seen;
  NicQueryStatistics(&nic, &nic_seen);
  UartQueryStatistics(&uart, &uart_seen);
  const irqsim::VectorStats after = machine.stats(kSharedLine.vector);
  const bool released = !machine.line_asserted(kSharedLine.vector);
  NicStopDevice(&nic);
  UartStopDevice(&uart);

  result.findings.push_back(fmt::format(
      "NIC: {} of {} packets and {} of {} link changes in {} claimed interrupts, ISR at IRQL {}",
      nic_seen.PacketsReceived, traffic.packets, nic_seen.LinkChanges, traffic.link_changes,
      nic_seen.InterruptsClaimed, nic_seen.IsrIrql));
  result.findings.push_back(fmt::format(
      "UART: {} of {} bytes read back{} in {} claimed interrupts ({} overruns, {} buffer overflows), ISR at IRQL {}",
      traffic.bytes_read.size(), traffic.bytes_sent.size(),
      traffic.bytes_read == traffic.bytes_sent ? " in order" : ", NOT as sent", uart_seen.InterruptsClaimed,
      uart_seen.OverrunErrors, uart_seen.BufferOverflows, uart_seen.IsrIrql));
  result.findings.push_back(fmt::format("line {:#x}: {} deliveries for {} device events, {} claimed by neither driver; {}",
                                        kSharedLine.vector, after.deliveries - before.deliveries, kEvents,
                                        after.unclaimed - before.unclaimed,
                                        released ? "released at the end" : "STILL ASSERTED at the end"));
  result.accounted = nic_seen.PacketsReceived == traffic.packets && nic_seen.LinkChanges == traffic.link_changes &&
                     (nic_seen.LinkUp != FALSE) == traffic.link_up && traffic.bytes_read == traffic.bytes_sent &&
                     uart_seen.OverrunErrors == 0 && uart_seen.BufferOverflows == 0 && released;
  return result;
}
