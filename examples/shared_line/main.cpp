// shared_line_demo: two network cards share one level-triggered interrupt line of a simulated
// four-processor machine. The C driver in nic_driver.c connects its ISR with IoConnectInterrupt,
// claims only the interrupts of its own card, and reads its counters under
// KeSynchronizeExecution. Then a driver bug (a spin lock taken twice) becomes a bug-check report
// instead of a hung machine.

#include <fmt/format.h>
#include <irqsim/machine.hpp>

#include <cstdlib>
#include <random>

#include "nic_driver.h"
#include "nic_hardware.hpp"

namespace {

constexpr std::uint32_t kVector = 0x61;
constexpr KIRQL kDeviceIrql = 6;
constexpr unsigned kProcessors = 4;
constexpr unsigned kBursts = 2000;

void print_statistics(const char* name, const NIC_STATISTICS& statistics, unsigned sent) {
  fmt::print("  {}: {} of {} packets, {} interrupts claimed, ISR ran at IRQL {}, per processor:", name,
             statistics.PacketsReceived, sent, statistics.InterruptsClaimed, statistics.IsrIrql);
  for (unsigned p = 0; p < kProcessors; ++p) fmt::print(" {}", statistics.InterruptsPerProcessor[p]);
  fmt::print("\n");
}

void demonstrate_a_driver_bug(irqsim::Machine& machine) {
  fmt::print("\nA driver bug: processor 1 acquires the same spin lock twice.\n");
  try {
    machine.run_on(1, [] {
      KSPIN_LOCK lock;
      KIRQL first = PASSIVE_LEVEL;
      KIRQL second = PASSIVE_LEVEL;
      KeInitializeSpinLock(&lock);
      KeAcquireSpinLock(&lock, &first);
      KeAcquireSpinLock(&lock, &second);  // a real machine would hang here
    });
  } catch (const irqsim::BugCheckError& bug_check) {
    fmt::print("The simulated machine bug-checked instead of hanging:\n{}\n", bug_check.what());
  }
}

}  // namespace

int main() {
  irqsim::Machine machine({.processors = kProcessors});
  SharedLine line{machine, kVector, {}, {}};
  NicHardware card_a(line);
  NicHardware card_b(line);
  line.cards = {&card_a, &card_b};

  NIC_EXTENSION nic_a;
  NIC_EXTENSION nic_b;
  const KAFFINITY all_processors = static_cast<KAFFINITY>(-1);
  if (NicStartDevice(&nic_a, card_a.registers(), kVector, kDeviceIrql, all_processors) != STATUS_SUCCESS ||
      NicStartDevice(&nic_b, card_b.registers(), kVector, kDeviceIrql, all_processors) != STATUS_SUCCESS) {
    fmt::print(stderr, "IoConnectInterrupt failed\n");
    return EXIT_FAILURE;
  }
  fmt::print("Two cards share vector {:#x} (IRQL {}, level-triggered) on {} processors.\n", kVector, kDeviceIrql,
             kProcessors);

  std::mt19937 traffic(2026);
  unsigned sent_a = 0;
  unsigned sent_b = 0;
  for (unsigned burst = 0; burst < kBursts; ++burst) {
    const auto packets = static_cast<unsigned>(1 + traffic() % 3);
    if (traffic() % 2 == 0) {
      card_a.receive(packets);
      sent_a += packets;
    } else {
      card_b.receive(packets);
      sent_b += packets;
    }
    // Half the bursts arrive one at a time, half back to back: then interrupts coalesce, and
    // one ISR call reports several bursts, as on real hardware.
    if (burst < kBursts / 2) machine.wait_until_quiescent();
  }
  machine.wait_until_quiescent();

  NIC_STATISTICS statistics_a;
  NIC_STATISTICS statistics_b;
  NicQueryStatistics(&nic_a, &statistics_a);
  NicQueryStatistics(&nic_b, &statistics_b);
  fmt::print("After {} bursts of traffic:\n", kBursts);
  print_statistics("card A", statistics_a, sent_a);
  print_statistics("card B", statistics_b, sent_b);
  const irqsim::VectorStats vector = machine.stats(kVector);
  fmt::print("  vector {:#x}: {} deliveries, {} claimed, {} unclaimed\n", kVector, vector.deliveries, vector.claimed,
             vector.unclaimed);
  NicStopDevice(&nic_a);
  NicStopDevice(&nic_b);

  const bool all_received = statistics_a.PacketsReceived == sent_a && statistics_b.PacketsReceived == sent_b;
  fmt::print("{}\n", all_received ? "Result: every packet accounted for." : "Result: packets were lost!");

  demonstrate_a_driver_bug(machine);
  return all_received ? EXIT_SUCCESS : EXIT_FAILURE;
}
