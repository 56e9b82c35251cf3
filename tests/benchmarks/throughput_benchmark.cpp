// How many interrupts a machine handles per second when a raiser keeps its device busy: one
// processor against a raw single-producer single-consumer hand-off, and 64 processors on a
// small host against 2, with the resident memory that costs.

#include <benchmark/benchmark.h>
#include <boost/lockfree/spsc_queue.hpp>
#include <irqsim/machine.hpp>
#include <wdm.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "host.hpp"
#include "raw.hpp"

namespace {

// Items or interrupts per benchmark iteration.
constexpr std::uint64_t kBatch = 10'000;
constexpr std::uint64_t kSpreadInterrupts = 100'000;

// ---- raw: items handed from one thread to another -----------------------------------------------

void BM_Raw_SpscHandoff(benchmark::State& state) {
  boost::lockfree::spsc_queue<std::uint64_t, boost::lockfree::capacity<1024>> queue;
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    std::uint64_t item = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (queue.pop(item)) {
        consumed.fetch_add(1, std::memory_order_release);
      } else {
        bench::cpu_relax();
      }
    }
  });
  std::uint64_t produced = 0;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < kBatch; ++i) {
      while (!queue.push(produced)) bench::cpu_relax();
      ++produced;
    }
    while (consumed.load(std::memory_order_acquire) != produced) bench::cpu_relax();
  }
  stop.store(true, std::memory_order_relaxed);
  consumer.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(produced));
}
BENCHMARK(BM_Raw_SpscHandoff)->UseRealTime();

// ---- irqsim: a device raising messages as fast as it can ----------------------------------------

struct MessageCounter {
  std::atomic<std::uint64_t> handled{0};
};

BOOLEAN CountMessage(PKINTERRUPT, PVOID context, ULONG) {
  static_cast<MessageCounter*>(context)->handled.fetch_add(1, std::memory_order_relaxed);
  return TRUE;
}

// A device with `messages` MSI-X messages, message i targeting processor i modulo the
// processor count, each on its own vector; its driver connected message-based.
class MessageDevice {
 public:
  MessageDevice(irqsim::Machine& machine, unsigned messages) {
    irqsim::DeviceConfig config{.name = "messages", .message_kind = irqsim::MessageKind::MsiX};
    for (unsigned i = 0; i < messages; ++i) {
      config.messages.push_back(
          {.vector = 0x80 + i, .irql = 7, .affinity = std::uint64_t{1} << (i % machine.processor_count())});
    }
    device_ = machine.plug(config);
    IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
    parameters.Version = CONNECT_MESSAGE_BASED;
    parameters.MessageBased.PhysicalDeviceObject = device_->pdo();
    parameters.MessageBased.ConnectionContext.InterruptMessageTable = &table_;
    parameters.MessageBased.MessageServiceRoutine = CountMessage;
    parameters.MessageBased.ServiceContext = &counter_;
    connected_ = IoConnectInterruptEx(&parameters) == STATUS_SUCCESS && parameters.Version == CONNECT_MESSAGE_BASED;
  }
  ~MessageDevice() {
    if (!connected_) return;
    IO_DISCONNECT_INTERRUPT_PARAMETERS parameters{};
    parameters.Version = CONNECT_MESSAGE_BASED;
    parameters.ConnectionContext.InterruptMessageTable = table_;
    IoDisconnectInterruptEx(&parameters);
  }
  MessageDevice(const MessageDevice&) = delete;
  MessageDevice& operator=(const MessageDevice&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  // Signals messages round the table until `count` more interrupts have been handled. A
  // message signalled again before it is taken merges with the pending one, as in a local
  // APIC's request register, so more may be signalled than handled.
  void raise_until_handled(std::uint64_t count, unsigned messages) {
    const std::uint64_t target = counter_.handled.load(std::memory_order_relaxed) + count;
    for (unsigned i = 0; counter_.handled.load(std::memory_order_relaxed) < target; i = (i + 1) % messages) {
      device_->signal_message(i);
    }
  }
  [[nodiscard]] std::uint64_t handled() const { return counter_.handled.load(std::memory_order_relaxed); }

 private:
  std::optional<irqsim::Device> device_;
  PIO_INTERRUPT_MESSAGE_INFO table_ = nullptr;
  MessageCounter counter_;
  bool connected_ = false;
};

void BM_Irqsim_MessageInterrupts(benchmark::State& state) {
  irqsim::Machine machine({.processors = 1});
  MessageDevice device(machine, 1);
  if (!device.connected()) {
    state.SkipWithError("IoConnectInterruptEx failed");
    return;
  }
  for (auto _ : state) device.raise_until_handled(kBatch, 1);
  machine.wait_until_quiescent();
  state.SetItemsProcessed(static_cast<std::int64_t>(device.handled()));
}
BENCHMARK(BM_Irqsim_MessageInterrupts)->UseRealTime();

// 100,000 interrupts spread over every processor by 64 messages. The 64-processor run also
// reports how far the process's resident set grew over the empty process.
void BM_Irqsim_SpreadInterrupts(benchmark::State& state) {
  constexpr unsigned kMessages = 64;
  irqsim::Machine machine({.processors = static_cast<unsigned>(state.range(0))});
  MessageDevice device(machine, kMessages);
  if (!device.connected()) {
    state.SkipWithError("IoConnectInterruptEx failed");
    return;
  }
  for (auto _ : state) device.raise_until_handled(kSpreadInterrupts, kMessages);
  machine.wait_until_quiescent();
  state.SetItemsProcessed(static_cast<std::int64_t>(device.handled()));
  constexpr double kMiB = 1024.0 * 1024.0;
  state.counters["rss_growth_MiB"] =
      static_cast<double>(bench::peak_resident_bytes() - bench::resident_bytes_at_start()) / kMiB;
}
BENCHMARK(BM_Irqsim_SpreadInterrupts)->Arg(64)->Arg(2)->Iterations(1)->UseRealTime();

}  // namespace
