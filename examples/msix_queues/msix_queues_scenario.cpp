#include "msix_queues_scenario.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr unsigned kMsixEvents = 3000;
constexpr unsigned kLineEvents = 1500;

// The vectors a card raises, for the scenario's table.
std::vector<ScenarioVector> vectors_of(const QueueCard& card, unsigned processors) {
  if (card.interrupts() == CardInterrupts::LineOnly) {
    return {{QueueCard::kLineVector, fmt::format("line {:#x} (IRQL {}): fallback, {} queues", QueueCard::kLineVector,
                                                 QueueCard::kLineIrql, QUEUE_COUNT)}};
  }
  std::vector<ScenarioVector> vectors;
  for (unsigned queue = 0; queue < QUEUE_COUNT; ++queue) {
    vectors.push_back({QueueCard::kFirstMessageVector + queue,
                       fmt::format("MSI-X msg {} (IRQL {}): queue {} on P{}", queue, QueueCard::message_irql(queue),
                                   queue, QueueCard::message_processor(queue, processors))});
  }
  return vectors;
}

std::uint64_t deliveries(const irqsim::Machine& machine, const std::vector<ScenarioVector>& vectors) {
  std::uint64_t total = 0;
  for (const ScenarioVector& vector : vectors) total += machine.stats(vector.vector).deliveries;
  return total;
}

// What one card's run left behind: the driver's counts and the card's.
struct CardRun {
  NTSTATUS start_status = STATUS_UNSUCCESSFUL;
  ULONG version = 0;
  std::uint64_t produced = 0;
  std::uint64_t processed = 0;   // the DPCs' count
  std::uint64_t doorbelled = 0;  // what the DPCs handed back to the card
  std::uint64_t interrupts = 0;
  std::uint64_t dpc_runs = 0;
  bool dpcs_where_messages_aim = true;

  [[nodiscard]] bool accounted() const {
    return NT_SUCCESS(start_status) && processed == produced && doorbelled == produced;
  }
};

// Starts the driver on the card as IRP_MN_START_DEVICE would, sends `events` bursts of one to
// three completions to random queues, waits for the machine to settle and stops the driver.
CardRun drive(irqsim::Machine& machine, QueueCard& card, unsigned events, std::mt19937& traffic,
              const StartedDriver& on_started) {
  CardRun run;
  const std::vector<ScenarioVector> vectors = vectors_of(card, machine.processor_count());
  const std::uint64_t deliveries_before = deliveries(machine, vectors);
  const auto extension = std::make_unique<QUEUE_EXTENSION>();
  run.start_status = QueueStartDevice(extension.get(), card.device().pdo(), card.device().translated_resources());
  if (!NT_SUCCESS(run.start_status)) return run;
  run.version = extension->ConnectVersion;
  if (on_started) on_started(card, *extension);

  for (unsigned event = 0; event < events; ++event) {
    const auto queue = static_cast<unsigned>(traffic() % QUEUE_COUNT);
    const auto count = static_cast<unsigned>(1 + traffic() % 3);
    card.complete(queue, count);
    // A random gap of up to 20 us (this thread is not a processor: the stall only spins), so
    // some completions find their interrupt still pending and merge, and others do not.
    KeStallExecutionProcessor(static_cast<ULONG>(traffic() % 20));
  }
  machine.wait_until_quiescent();

  for (ULONG queue = 0; queue < QUEUE_COUNT; ++queue) {
    ULONG processor = 0;
    ULONG dpc_runs = 0;
    run.processed += QueueCompleted(extension.get(), queue, &processor, &dpc_runs);
    run.dpc_runs += dpc_runs;
    run.produced += card.produced(queue);
    run.doorbelled += card.doorbelled(queue);
    if (run.version == CONNECT_MESSAGE_BASED && dpc_runs != 0 &&
        processor != QueueCard::message_processor(queue, machine.processor_count())) {
      run.dpcs_where_messages_aim = false;
    }
  }
  run.interrupts = deliveries(machine, vectors) - deliveries_before;
  QueueStopDevice(extension.get());
  return run;
}

std::string connection_finding(const std::string& card, const CardRun& run) {
  if (!NT_SUCCESS(run.start_status)) return fmt::format("{}: start failed with {:#x}", card, static_cast<std::uint32_t>(run.start_status));
  if (run.version == CONNECT_LINE_BASED) {
    return fmt::format("{}: no messages, so CONNECT_LINE_BASED (the fallback ISR on line {:#x}): "
                       "{} line interrupts, {} DPC runs for all {} queues",
                       card, QueueCard::kLineVector, run.interrupts, run.dpc_runs, QUEUE_COUNT);
  }
  return fmt::format("{}: CONNECT_MESSAGE_BASED, one message per queue: {} message ISRs, {} DPC runs, {}", card,
                     run.interrupts, run.dpc_runs,
                     run.dpcs_where_messages_aim ? "each queue's DPC on its message's processor"
                                                 : "SOME DPCs RAN AWAY FROM THEIR MESSAGE'S PROCESSOR");
}

}  // namespace

ScenarioResult run_msix_queues(irqsim::Machine& machine, const StartedDriver& on_started) {
  QueueCard msix(machine, CardInterrupts::MsiX, "MSI-X card");
  QueueCard line_only(machine, CardInterrupts::LineOnly, "line-only card");
  std::mt19937 traffic(6);
  const CardRun msix_run = drive(machine, msix, kMsixEvents, traffic, on_started);
  const CardRun line_run = drive(machine, line_only, kLineEvents, traffic, on_started);

  std::vector<ScenarioVector> vectors = vectors_of(msix, machine.processor_count());
  vectors.push_back(vectors_of(line_only, machine.processor_count()).front());
  return {
      .name = "msix_queues: one MSI-X message and DPC per queue, and the line fallback",
      .vectors = std::move(vectors),
      .findings = {connection_finding(msix.device().name(), msix_run),
                   connection_finding(line_only.device().name(), line_run),
                   // Merged interrupts and merged DPC runs change the counts above, never these.
                   fmt::format("completions: the cards produced {}, the DPCs processed {} and handed {} back "
                               "through the doorbells",
                               msix_run.produced + line_run.produced, msix_run.processed + line_run.processed,
                               msix_run.doorbelled + line_run.doorbelled)},
      .accounted = msix_run.accounted() && line_run.accounted(),
  };
}
