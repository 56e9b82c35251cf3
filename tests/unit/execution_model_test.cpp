// The execution model end to end (docs/execution-model.md): ISRs handing their work to DPCs on
// several processors, a DPC requested twice before it runs, a higher-IRQL interrupt nesting in a
// stalling ISR, KeSynchronizeExecution from a DPC routine, the preemption points, the machine's
// clock, the ISR/DPC watchdog (0x133) and interrupt storms (0xF2).

#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <irqsim/bugcheck.hpp>
#include <irqsim/device.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace irqsim_test;
using namespace std::chrono_literals;
using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::Machine;
using irqsim::MessageKind;
using irqsim::Trigger;
using ::testing::ElementsAre;
using ::testing::Ge;

// ---- shared helpers -----------------------------------------------------------------------------

// Stalls with KeStallExecutionProcessor, each call a preemption point, until `done()` holds, and
// returns true; false after `limit`, which only keeps a broken library from hanging the test.
template <class Predicate>
bool StallUntil(Predicate done, std::chrono::seconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    KeStallExecutionProcessor(10);
  }
  return true;
}

// The affinity mask of one processor.
constexpr KAFFINITY Only(unsigned processor) { return KAFFINITY{1} << processor; }

// A routine's address, as a bug-check parameter carries it.
template <class Routine>
std::uint64_t RoutineAddress(Routine* routine) {
  return reinterpret_cast<std::uintptr_t>(routine);
}

// A number carried through a DPC's SystemArgument1, and back.
PVOID AsArgument(std::uintptr_t number) { return reinterpret_cast<PVOID>(number); }
std::uintptr_t FromArgument(PVOID argument) { return reinterpret_cast<std::uintptr_t>(argument); }

// Events in the order they happened, on any processor.
class EventLog {
 public:
  void add(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  [[nodiscard]] std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
};

// An ISR's context for LoggingIsr: the log and the name it enters there.
struct LogEntry {
  EventLog* log;
  const char* name;
};

BOOLEAN LoggingIsr(PKINTERRUPT, PVOID context) {
  const auto& entry = *static_cast<const LogEntry*>(context);
  entry.log->add(entry.name);
  return TRUE;
}

// What a DPC routine connected as ProbeDpc saw.
struct DpcProbe {
  std::atomic<int> runs{0};
  std::atomic<int> irql{-1};
  std::atomic<int> processor{-1};
  std::atomic<std::uintptr_t> argument1{~std::uintptr_t{0}};
};

VOID ProbeDpc(PKDPC, PVOID context, PVOID argument1, PVOID) {
  auto& probe = *static_cast<DpcProbe*>(context);
  probe.irql = KeGetCurrentIrql();
  probe.processor = static_cast<int>(KeGetCurrentProcessorNumber());
  probe.argument1 = FromArgument(argument1);
  probe.runs.fetch_add(1);
}

// ================================================================================================
// ISR -> DPC on several processors: every interrupt's work reaches a DPC exactly once
// ================================================================================================

constexpr unsigned kProcessors = 4;
constexpr std::uint64_t kRounds = 100;  // interrupts per queue in each of two phases

// One interrupt source's share of a driver. Its ISR counts each interrupt as one unit of work in
// `pending`, under the interrupt lock, and requests the DPC; the DPC takes everything accumulated
// so far through KeSynchronizeExecution. A request merged with one still queued therefore loses
// no work, and the work the DPCs consumed must equal the interrupts the ISR claimed.
struct WorkQueue {
  unsigned processor = 0;           // the only processor its interrupt targets
  PKINTERRUPT interrupt = nullptr;  // for KeSynchronizeExecution
  KDPC dpc{};
  std::uint64_t pending = 0;  // guarded by the interrupt lock
  std::uint64_t taken = 0;    // written by TakePendingWork under the lock, read by the DPC after it
  std::atomic<std::uint64_t> isr_runs{0};
  std::atomic<std::uint64_t> isr_elsewhere{0};    // ISR runs on another processor than `processor`
  std::atomic<std::uint64_t> merged_requests{0};  // KeInsertQueueDpc returned FALSE
  std::atomic<std::uint64_t> dpc_runs{0};
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<std::uint64_t> dpc_elsewhere{0};  // DPC runs on another processor than the ISR that queued it
  std::atomic<std::uint64_t> dpc_wrong_irql{0};
};

// The ISR's part, under the interrupt lock. Returns the DPC request's argument: the ISR's processor.
PVOID CountInterrupt(WorkQueue& queue) {
  const ULONG here = KeGetCurrentProcessorNumber();
  if (here != queue.processor) queue.isr_elsewhere.fetch_add(1);
  ++queue.pending;
  queue.isr_runs.fetch_add(1);
  return AsArgument(here);
}

BOOLEAN TakePendingWork(PVOID context) {
  auto& queue = *static_cast<WorkQueue*>(context);
  queue.taken = std::exchange(queue.pending, 0);
  return TRUE;
}

// The DPC's part; `isr_processor` is what CountInterrupt returned for the request that queued it.
void ConsumeWork(WorkQueue& queue, PVOID isr_processor) {
  queue.dpc_runs.fetch_add(1);
  if (KeGetCurrentIrql() != DISPATCH_LEVEL) queue.dpc_wrong_irql.fetch_add(1);
  if (KeGetCurrentProcessorNumber() != FromArgument(isr_processor)) queue.dpc_elsewhere.fetch_add(1);
  KeSynchronizeExecution(queue.interrupt, TakePendingWork, &queue);
  queue.consumed.fetch_add(queue.taken);
}

// Raises every queue's interrupt in rounds `first`..`last`, each time only after its previous one
// was taken, so that no two merge at the controller: every raise is one ISR run.
template <std::size_t N, class Raise>
void RaiseOneAtATime(const std::array<WorkQueue, N>& queues, std::uint64_t first, std::uint64_t last, Raise raise) {
  for (std::uint64_t round = first; round <= last; ++round) {
    for (std::size_t i = 0; i < N; ++i) raise(i);
    ASSERT_TRUE(Eventually([&] {
      return std::all_of(queues.begin(), queues.end(), [&](const WorkQueue& q) { return q.isr_runs >= round; });
    })) << "round " << round << ": an interrupt was not taken";
  }
}

// Keeps every processor at DISPATCH_LEVEL, stalling, from construction until release(): device
// interrupts are still taken (each stall is a preemption point) but no DPC runs, so every DPC
// request made meanwhile merges with the first one still queued.
class DpcsHeldOff {
 public:
  explicit DpcsHeldOff(Machine& m) : state_(std::make_shared<State>()) {
    for (unsigned p = 0; p < m.processor_count(); ++p) {
      m.post(p, [state = state_] {
        const KIRQL old = RaiseTo(DISPATCH_LEVEL);
        state->held.fetch_add(1);
        // The limit only keeps a failing test from holding the processors forever.
        (void)StallUntil([&] { return state->released.load(); }, 60s);
        KeLowerIrql(old);
      });
    }
    EXPECT_TRUE(Eventually([&] { return state_->held == m.processor_count(); }));
  }
  ~DpcsHeldOff() { release(); }
  DpcsHeldOff(const DpcsHeldOff&) = delete;
  DpcsHeldOff& operator=(const DpcsHeldOff&) = delete;
  void release() { state_->released = true; }

 private:
  struct State {
    std::atomic<unsigned> held{0};
    std::atomic<bool> released{false};
  };
  std::shared_ptr<State> state_;  // shared with the holding functions, which may outlive this
};

// Raises every queue's interrupt kRounds times with the processors free to run DPCs at once,
// then kRounds more times while DpcsHeldOff holds them at DISPATCH_LEVEL. In the second phase
// each queue's DPC must run exactly once, after the release, and drain all kRounds interrupts.
template <std::size_t N, class Raise>
void RaiseWithDpcsFreeThenHeldOff(Machine& m, const std::array<WorkQueue, N>& queues, Raise raise) {
  ASSERT_NO_FATAL_FAILURE(RaiseOneAtATime(queues, 1, kRounds, raise));
  m.wait_until_quiescent();
  std::array<std::uint64_t, N> dpc_runs_before{};
  for (std::size_t i = 0; i < N; ++i) dpc_runs_before[i] = queues[i].dpc_runs;
  {
    DpcsHeldOff held(m);
    ASSERT_NO_FATAL_FAILURE(RaiseOneAtATime(queues, kRounds + 1, 2 * kRounds, raise));
    for (std::size_t i = 0; i < N; ++i) {
      EXPECT_EQ(queues[i].dpc_runs, dpc_runs_before[i]) << "queue " << i << ": a DPC ran at DISPATCH_LEVEL";
    }
  }
  m.wait_until_quiescent();
  for (std::size_t i = 0; i < N; ++i) {
    EXPECT_EQ(queues[i].dpc_runs - dpc_runs_before[i], 1u) << "queue " << i << ": the requests did not merge";
  }
}

// Every queue's 2 * kRounds interrupts were claimed once each, consumed once each by DPCs that
// ran at DISPATCH_LEVEL on the ISR's processor, and the totals add up.
template <std::size_t N>
void ExpectEveryInterruptConsumedOnce(Machine& m, const std::array<WorkQueue, N>& queues,
                                      const std::array<ULONG, N>& vectors) {
  constexpr std::uint64_t kInterrupts = 2 * kRounds;
  std::uint64_t claimed = 0;
  std::uint64_t consumed = 0;
  for (std::size_t i = 0; i < N; ++i) {
    SCOPED_TRACE(testing::Message() << "queue " << i << " on processor " << queues[i].processor);
    const WorkQueue& q = queues[i];
    const irqsim::VectorStats stats = m.stats(vectors[i]);
    EXPECT_EQ(q.isr_runs, kInterrupts);
    EXPECT_EQ(stats.deliveries, kInterrupts);
    EXPECT_EQ(stats.claimed, kInterrupts);
    EXPECT_EQ(q.consumed, kInterrupts) << "the DPCs must drain the work of every interrupt, merged requests included";
    EXPECT_LE(q.dpc_runs, kRounds + 1);
    EXPECT_EQ(q.isr_elsewhere, 0u);
    EXPECT_EQ(q.dpc_elsewhere, 0u) << "a DPC ran on another processor than the ISR that queued it";
    EXPECT_EQ(q.dpc_wrong_irql, 0u) << "a DPC ran below or above DISPATCH_LEVEL";
    claimed += stats.claimed;
    consumed += q.consumed;
  }
  EXPECT_EQ(claimed, N * kInterrupts);
  EXPECT_EQ(consumed, N * kInterrupts);
}

// --- an MSI-X device with one message per queue, KeInsertQueueDpc on each queue's own KDPC ---

// Two queues per processor, at IRQL 5 and 6, so that on every processor one ISR can nest in the
// other (KeInsertQueueDpc is a preemption point) and two DPCs can wait in one queue.
constexpr unsigned kMessageQueues = 2 * kProcessors;

DeviceConfig MultiQueueNic() {
  DeviceConfig config{.name = "multi-queue nic", .message_kind = MessageKind::MsiX};
  for (unsigned i = 0; i < kMessageQueues; ++i) {
    config.messages.push_back({.vector = 0x60 + i,
                               .irql = static_cast<irqsim::Irql>(5 + i / kProcessors),
                               .affinity = Only(i % kProcessors)});
  }
  return config;
}

BOOLEAN MessageQueueIsr(PKINTERRUPT, PVOID context, ULONG message_id) {
  WorkQueue& queue = static_cast<std::array<WorkQueue, kMessageQueues>*>(context)->at(message_id);
  if (!KeInsertQueueDpc(&queue.dpc, CountInterrupt(queue), nullptr)) queue.merged_requests.fetch_add(1);
  return TRUE;
}

VOID MessageQueueDpc(PKDPC, PVOID context, PVOID isr_processor, PVOID) {
  ConsumeWork(*static_cast<WorkQueue*>(context), isr_processor);
}

TEST(IsrToDpc, MessageIsrsOnFourProcessorsHandEveryInterruptToTheirDpcsExactlyOnce) {
  std::array<WorkQueue, kMessageQueues> queues;
  Machine m({.processors = kProcessors});
  Device nic = m.plug(MultiQueueNic());
  std::array<ULONG, kMessageQueues> vectors{};
  for (unsigned i = 0; i < kMessageQueues; ++i) {
    queues[i].processor = i % kProcessors;
    vectors[i] = 0x60 + i;
    KeInitializeDpc(&queues[i].dpc, MessageQueueDpc, &queues[i]);
  }
  PIO_INTERRUPT_MESSAGE_INFO table = nullptr;
  IO_CONNECT_INTERRUPT_PARAMETERS connect{};
  connect.Version = CONNECT_MESSAGE_BASED;
  connect.MessageBased.PhysicalDeviceObject = nic.pdo();
  connect.MessageBased.ConnectionContext.InterruptMessageTable = &table;
  connect.MessageBased.MessageServiceRoutine = MessageQueueIsr;
  connect.MessageBased.ServiceContext = &queues;
  ASSERT_EQ(IoConnectInterruptEx(&connect), STATUS_SUCCESS);
  ASSERT_EQ(connect.Version, static_cast<ULONG>(CONNECT_MESSAGE_BASED));
  for (unsigned i = 0; i < kMessageQueues; ++i) queues[i].interrupt = table->MessageInfo[i].InterruptObject;

  ASSERT_NO_FATAL_FAILURE(RaiseWithDpcsFreeThenHeldOff(
      m, queues, [&](std::size_t i) { nic.signal_message(static_cast<std::uint32_t>(i)); }));

  ExpectEveryInterruptConsumedOnce(m, queues, vectors);
  for (const WorkQueue& q : queues) {
    // Each request either queued the DPC (which then ran once) or merged with it while queued.
    EXPECT_EQ(q.dpc_runs + q.merged_requests, 2 * kRounds);
    EXPECT_GE(q.merged_requests, kRounds - 1) << "at least every request but the first while DPCs were held off";
  }
  IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
  disconnect.Version = CONNECT_MESSAGE_BASED;
  disconnect.ConnectionContext.InterruptMessageTable = table;
  IoDisconnectInterruptEx(&disconnect);
}

// --- four line-based devices, one per processor, IoRequestDpc on each device object ---------

BOOLEAN LineDeviceIsr(PKINTERRUPT, PVOID context) {
  auto* device_object = static_cast<PDEVICE_OBJECT>(context);
  IoRequestDpc(device_object, nullptr, CountInterrupt(*static_cast<WorkQueue*>(device_object->DeviceExtension)));
  return TRUE;
}

VOID LineDeviceDpcForIsr(PKDPC, PDEVICE_OBJECT device_object, struct _IRP*, PVOID isr_processor) {
  ConsumeWork(*static_cast<WorkQueue*>(device_object->DeviceExtension), isr_processor);
}

TEST(IsrToDpc, LineIsrsOnFourProcessorsHandEveryInterruptToTheirDpcForIsrExactlyOnce) {
  std::array<WorkQueue, kProcessors> queues;
  std::array<DEVICE_OBJECT, kProcessors> device_objects{};  // the driver's functional device objects
  Machine m({.processors = kProcessors});
  std::vector<Device> devices;
  std::array<ULONG, kProcessors> vectors{};
  for (unsigned p = 0; p < kProcessors; ++p) {
    vectors[p] = 0x70 + p;
    devices.push_back(m.plug({.name = "device " + std::to_string(p),
                              .lines = {{.vector = vectors[p],
                                         .irql = static_cast<irqsim::Irql>(5 + p),
                                         .trigger = Trigger::Latched,
                                         .shareable = false,
                                         .affinity = Only(p)}}}));
    queues[p].processor = p;
    device_objects[p].DeviceExtension = &queues[p];
    IoInitializeDpcRequest(&device_objects[p], LineDeviceDpcForIsr);
    IO_CONNECT_INTERRUPT_PARAMETERS connect{};
    connect.Version = CONNECT_LINE_BASED;
    connect.LineBased.PhysicalDeviceObject = devices[p].pdo();
    connect.LineBased.InterruptObject = &queues[p].interrupt;
    connect.LineBased.ServiceRoutine = LineDeviceIsr;
    connect.LineBased.ServiceContext = &device_objects[p];
    ASSERT_EQ(IoConnectInterruptEx(&connect), STATUS_SUCCESS) << "device " << p;
  }

  ASSERT_NO_FATAL_FAILURE(RaiseWithDpcsFreeThenHeldOff(m, queues, [&](std::size_t i) { devices[i].pulse_line(); }));

  ExpectEveryInterruptConsumedOnce(m, queues, vectors);
  for (const WorkQueue& q : queues) {
    IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
    disconnect.Version = CONNECT_LINE_BASED;
    disconnect.ConnectionContext.InterruptObject = q.interrupt;
    IoDisconnectInterruptEx(&disconnect);
  }
}

// ================================================================================================
// A DPC requested twice before it runs runs once
// ================================================================================================

TEST(DpcMerging, QueuedTwiceAtDispatchLevelRunsOnceWithTheFirstArgumentsWhenTheIrqlDrops) {
  struct Seen {
    BOOLEAN first = FALSE;
    BOOLEAN second = TRUE;
    int runs_while_raised = -1;
    int runs_after_lowering = -1;
  };
  DpcProbe probe;
  KDPC dpc;
  Machine m({.processors = 2});
  const Seen seen = m.run_on(0, [&] {
    Seen s;
    KeInitializeDpc(&dpc, ProbeDpc, &probe);
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    s.first = KeInsertQueueDpc(&dpc, AsArgument(1), nullptr);
    s.second = KeInsertQueueDpc(&dpc, AsArgument(2), nullptr);
    KeStallExecutionProcessor(100);  // preemption points, but at DISPATCH_LEVEL no DPC runs
    s.runs_while_raised = probe.runs;
    KeLowerIrql(old);
    s.runs_after_lowering = probe.runs;
    return s;
  });
  m.wait_until_quiescent();
  EXPECT_EQ(seen.first, TRUE);
  EXPECT_EQ(seen.second, FALSE) << "a DPC already queued must not be queued again";
  EXPECT_EQ(seen.runs_while_raised, 0);
  EXPECT_EQ(seen.runs_after_lowering, 1) << "the queued DPC must run when KeLowerIrql drops below DISPATCH_LEVEL";
  EXPECT_EQ(probe.runs, 1);
  EXPECT_EQ(probe.argument1, 1u) << "the second request must have no effect, its arguments included";
  EXPECT_EQ(probe.irql, DISPATCH_LEVEL);
  EXPECT_EQ(probe.processor, 0);
}

// An ISR that requests its DPC with its call number as SystemArgument1 and counts what
// KeInsertQueueDpc answered.
struct RequestingIsrState {
  KDPC dpc{};
  DpcProbe dpc_probe;
  std::atomic<int> runs{0};
  std::atomic<int> queued{0};
  std::atomic<int> refused{0};
};

BOOLEAN RequestingIsr(PKINTERRUPT, PVOID context) {
  auto& state = *static_cast<RequestingIsrState*>(context);
  const int call = state.runs.fetch_add(1) + 1;
  const BOOLEAN inserted = KeInsertQueueDpc(&state.dpc, AsArgument(static_cast<std::uintptr_t>(call)), nullptr);
  (inserted ? state.queued : state.refused).fetch_add(1);
  return TRUE;
}

// Device interrupts are above DISPATCH_LEVEL, so a processor held there still takes them, but
// the DPC their ISR queues waits until the processor's IRQL drops below DISPATCH_LEVEL.
TEST(DpcMerging, TwoInterruptsTakenAtDispatchLevelRunTheIsrsDpcOnce) {
  constexpr ULONG kVector = 0x58;
  RequestingIsrState isr;
  Gate raised;
  std::atomic<bool> both_taken{false};
  std::atomic<int> dpc_runs_while_raised{-1};
  std::atomic<int> dpc_runs_after_lowering{-1};
  Machine m({.processors = 2});
  KeInitializeDpc(&isr.dpc, ProbeDpc, &isr.dpc_probe);
  PKINTERRUPT object = ConnectLatched(RequestingIsr, &isr, kVector, 5, 5, Only(0));
  m.post(0, [&] {
    OpenOnExit signal_raised(raised);
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    raised.open();
    both_taken = StallUntil([&] { return isr.runs == 2; });
    dpc_runs_while_raised = isr.dpc_probe.runs.load();
    KeLowerIrql(old);
    dpc_runs_after_lowering = isr.dpc_probe.runs.load();
  });
  raised.wait();
  m.pulse(kVector);
  ASSERT_TRUE(Eventually([&] { return isr.runs == 1; }));
  m.pulse(kVector);  // only after the first was taken, so that the two do not merge at the controller
  m.wait_until_quiescent();

  EXPECT_TRUE(both_taken) << "the interrupts were not taken at DISPATCH_LEVEL";
  EXPECT_EQ(isr.runs, 2);
  EXPECT_EQ(isr.queued, 1);
  EXPECT_EQ(isr.refused, 1) << "the second KeInsertQueueDpc must return FALSE";
  EXPECT_EQ(dpc_runs_while_raised, 0);
  EXPECT_EQ(dpc_runs_after_lowering, 1);
  EXPECT_EQ(isr.dpc_probe.runs, 1);
  EXPECT_EQ(isr.dpc_probe.argument1, 1u);
  EXPECT_EQ(isr.dpc_probe.processor, 0);
  EXPECT_EQ(isr.dpc_probe.irql, DISPATCH_LEVEL);
  IoDisconnectInterrupt(object);
}

// ================================================================================================
// Nesting
// ================================================================================================

// Processor 0 runs an IRQL 5 ISR that stalls until an IRQL 9 ISR has run on top of it.
struct NestingState {
  EventLog log;
  std::atomic<bool> low_running{false};
  std::atomic<bool> low_saw_high{false};
  std::atomic<int> low_irql_after_nesting{-1};
  std::atomic<bool> high_ran{false};
  std::atomic<bool> high_saw_low_running{false};
  std::atomic<int> high_irql{-1};
};

BOOLEAN StallingLowIsr(PKINTERRUPT, PVOID context) {
  auto& s = *static_cast<NestingState*>(context);
  s.log.add("low enters");
  s.low_running = true;
  s.low_saw_high = StallUntil([&] { return s.high_ran.load(); });
  s.low_irql_after_nesting = KeGetCurrentIrql();
  s.low_running = false;
  s.log.add("low returns");
  return TRUE;
}

BOOLEAN HighIsr(PKINTERRUPT, PVOID context) {
  auto& s = *static_cast<NestingState*>(context);
  s.high_irql = KeGetCurrentIrql();
  s.high_saw_low_running = s.low_running.load();
  s.log.add("high");
  s.high_ran = true;
  return TRUE;
}

TEST(Nesting, HigherIrqlInterruptPreemptsAStallingIsrWhileEqualAndLowerOnesWaitForIt) {
  constexpr ULONG kLowVector = 0x50;
  constexpr ULONG kHighVector = 0x90;
  constexpr ULONG kEqualVector = 0x51;  // a higher vector at the low ISR's IRQL
  constexpr ULONG kLowerVector = 0x40;
  NestingState s;
  LogEntry equal{&s.log, "equal"};
  LogEntry lower{&s.log, "lower"};
  Machine m({.processors = 2});
  // Processor 1 is in none of the affinities: everything happens on processor 0.
  PKINTERRUPT objects[] = {ConnectLatched(StallingLowIsr, &s, kLowVector, 5, 5, Only(0)),
                           ConnectLatched(HighIsr, &s, kHighVector, 9, 9, Only(0)),
                           ConnectLatched(LoggingIsr, &equal, kEqualVector, 5, 5, Only(0)),
                           ConnectLatched(LoggingIsr, &lower, kLowerVector, 4, 4, Only(0))};
  m.pulse(kLowVector);
  ASSERT_TRUE(Eventually([&] { return s.low_running.load(); }));
  // Raised before the high one: had a preemption point of the stalling ISR taken them, they would
  // have run by the time the high ISR lets it return.
  m.pulse(kEqualVector);
  m.pulse(kLowerVector);
  m.pulse(kHighVector);
  m.wait_until_quiescent();

  EXPECT_TRUE(s.low_saw_high) << "the IRQL 9 interrupt was not taken while the IRQL 5 ISR stalled";
  EXPECT_TRUE(s.high_saw_low_running);
  EXPECT_EQ(s.high_irql, 9);
  EXPECT_EQ(s.low_irql_after_nesting, 5) << "the nested interrupt must give the IRQL back";
  // After the low ISR, the waiting interrupts are taken highest IRQL first.
  EXPECT_THAT(s.log.events(), ElementsAre("low enters", "high", "low returns", "equal", "lower"));
  for (PKINTERRUPT object : objects) IoDisconnectInterrupt(object);
}

// A DPC routine on processor 0 that stalls until a device interrupt has run on top of it.
struct StallingDpcState {
  IsrRecord isr;
  std::atomic<bool> dpc_running{false};
  std::atomic<bool> dpc_saw_isr{false};
  std::atomic<int> dpc_irql_after_isr{-1};
  std::atomic<bool> isr_saw_dpc_running{false};
};

VOID StallUntilIsrDpc(PKDPC, PVOID context, PVOID, PVOID) {
  auto& s = *static_cast<StallingDpcState*>(context);
  s.dpc_running = true;
  s.dpc_saw_isr = StallUntil([&] { return s.isr.runs > 0; });
  s.dpc_irql_after_isr = KeGetCurrentIrql();
  s.dpc_running = false;
}

BOOLEAN SeesDpcIsr(PKINTERRUPT interrupt, PVOID context) {
  auto& s = *static_cast<StallingDpcState*>(context);
  s.isr_saw_dpc_running = s.dpc_running.load();
  return RecordingIsr(interrupt, &s.isr);
}

TEST(Nesting, DeviceInterruptPreemptsAStallingDpcRoutine) {
  constexpr ULONG kVector = 0x52;
  StallingDpcState s;
  KDPC dpc;
  Machine m({.processors = 2});
  PKINTERRUPT object = ConnectLatched(SeesDpcIsr, &s, kVector, 5, 5, Only(0));
  KeInitializeDpc(&dpc, StallUntilIsrDpc, &s);
  KeSetTargetProcessorDpc(&dpc, 0);
  ASSERT_EQ(KeInsertQueueDpc(&dpc, nullptr, nullptr), TRUE);
  ASSERT_TRUE(Eventually([&] { return s.dpc_running.load(); }));
  m.pulse(kVector);
  m.wait_until_quiescent();

  EXPECT_TRUE(s.dpc_saw_isr);
  EXPECT_TRUE(s.isr_saw_dpc_running);
  EXPECT_EQ(s.isr.irql, 5);
  EXPECT_EQ(s.isr.processor, 0);
  EXPECT_EQ(s.dpc_irql_after_isr, DISPATCH_LEVEL);
  IoDisconnectInterrupt(object);
}

// ================================================================================================
// KeSynchronizeExecution from a DPC routine
// ================================================================================================

// The ISR (processor 0) and a DPC's synchronized routine (processor 1) each mark when they are
// inside and count every time they find the other inside too.
struct ExclusionState {
  PKINTERRUPT interrupt = nullptr;
  KDPC dpc{};
  std::atomic<bool> stop{false};
  std::atomic<bool> isr_inside{false};
  std::atomic<bool> routine_inside{false};
  std::atomic<std::uint64_t> isr_runs{0};
  std::atomic<std::uint64_t> routine_runs{0};
  std::atomic<std::uint64_t> overlaps{0};
  std::atomic<std::uint64_t> dpc_elsewhere{0};
};

BOOLEAN ExcludedIsr(PKINTERRUPT, PVOID context) {
  auto& s = *static_cast<ExclusionState*>(context);
  s.isr_inside = true;
  if (s.routine_inside) s.overlaps.fetch_add(1);
  KeStallExecutionProcessor(5);  // widens the window
  if (s.routine_inside) s.overlaps.fetch_add(1);
  s.isr_runs.fetch_add(1);
  s.isr_inside = false;
  return TRUE;
}

BOOLEAN StallingSynchronizedRoutine(PVOID context) {
  auto& s = *static_cast<ExclusionState*>(context);
  s.routine_inside = true;
  if (s.isr_inside) s.overlaps.fetch_add(1);
  const std::uint64_t isr_runs_at_entry = s.isr_runs;
  KeStallExecutionProcessor(100);
  if (s.isr_inside || s.isr_runs != isr_runs_at_entry) s.overlaps.fetch_add(1);
  s.routine_inside = false;
  s.routine_runs.fetch_add(1);
  return TRUE;
}

// Synchronizes with the ISR, then queues itself again (on its own processor) until told to stop.
// It stalls as long outside the interrupt lock as inside, so that the ISR, spinning for the lock
// on another processor, is not starved of it when the host has a single core.
VOID SynchronizingDpc(PKDPC dpc, PVOID context, PVOID, PVOID) {
  auto& s = *static_cast<ExclusionState*>(context);
  if (KeGetCurrentProcessorNumber() != 1) s.dpc_elsewhere.fetch_add(1);
  KeSynchronizeExecution(s.interrupt, StallingSynchronizedRoutine, &s);
  KeStallExecutionProcessor(100);
  if (!s.stop) KeInsertQueueDpc(dpc, nullptr, nullptr);
}

TEST(SynchronizeFromDpc, IsrOnAnotherProcessorNeverRunsInsideTheSynchronizedRoutine) {
  constexpr ULONG kVector = 0x5A;
  constexpr std::uint64_t kMinRoutineRuns = 200;
  constexpr std::uint64_t kMinIsrRuns = 200;
  constexpr std::uint64_t kMinContendedPulses = 20;
  ExclusionState s;
  Machine m({.processors = 2});
  s.interrupt = ConnectLatched(ExcludedIsr, &s, kVector, 5, 5, Only(0));
  KeInitializeDpc(&s.dpc, SynchronizingDpc, &s);
  KeSetTargetProcessorDpc(&s.dpc, 1);
  ASSERT_EQ(KeInsertQueueDpc(&s.dpc, nullptr, nullptr), TRUE);
  // Pulses until both sides ran often enough and enough pulses arrived while the routine held the
  // interrupt lock, so that the ISR really had to wait for it.
  std::uint64_t contended_pulses = 0;
  const bool contended = Eventually([&] {
    m.pulse(kVector);
    if (s.routine_inside) ++contended_pulses;
    return s.routine_runs >= kMinRoutineRuns && s.isr_runs >= kMinIsrRuns && contended_pulses >= kMinContendedPulses;
  });
  s.stop = true;
  m.wait_until_quiescent();

  EXPECT_TRUE(contended) << s.routine_runs.load() << " routine runs, " << s.isr_runs.load() << " ISR runs, "
                         << contended_pulses << " pulses while the routine ran";
  EXPECT_EQ(s.overlaps, 0u) << "the ISR and the synchronized routine overlapped";
  EXPECT_EQ(s.dpc_elsewhere, 0u);
  IoDisconnectInterrupt(s.interrupt);
}

// A DPC routine on processor 0 whose synchronized routine raises the interrupt itself, on the
// only processor the interrupt may use, and stalls.
struct SameProcessorState {
  Machine* machine = nullptr;
  ULONG vector = 0;
  PKINTERRUPT interrupt = nullptr;
  IsrRecord isr;
  std::atomic<int> routine_irql{-1};
  std::atomic<int> runs_inside_routine{-1};
  std::atomic<int> runs_after_return{-1};
};

BOOLEAN PulseAndStallRoutine(PVOID context) {
  auto& s = *static_cast<SameProcessorState*>(context);
  s.routine_irql = KeGetCurrentIrql();
  s.machine->pulse(s.vector);
  KeStallExecutionProcessor(1000);  // preemption points at SynchronizeIrql
  s.runs_inside_routine = s.isr.runs.load();
  return TRUE;
}

VOID SynchronizeOnThisProcessorDpc(PKDPC, PVOID context, PVOID, PVOID) {
  auto& s = *static_cast<SameProcessorState*>(context);
  KeSynchronizeExecution(s.interrupt, PulseAndStallRoutine, &s);
  s.runs_after_return = s.isr.runs.load();
}

TEST(SynchronizeFromDpc, InterruptRaisedInsideTheRoutineIsTakenWhenItReturns) {
  SameProcessorState s;
  KDPC dpc;
  Machine m({.processors = 2});
  s.machine = &m;
  s.vector = 0x5B;
  // SynchronizeIrql 6 above the interrupt's IRQL 5, as for a driver with several interrupts.
  s.interrupt = ConnectLatched(RecordingIsr, &s.isr, s.vector, 5, 6, Only(0));
  KeInitializeDpc(&dpc, SynchronizeOnThisProcessorDpc, &s);
  KeSetTargetProcessorDpc(&dpc, 0);
  ASSERT_EQ(KeInsertQueueDpc(&dpc, nullptr, nullptr), TRUE);
  m.wait_until_quiescent();

  EXPECT_EQ(s.routine_irql, 6);
  EXPECT_EQ(s.runs_inside_routine, 0) << "the interrupt was taken inside the synchronized routine";
  EXPECT_EQ(s.runs_after_return, 1) << "the end of KeSynchronizeExecution must take the pending interrupt";
  EXPECT_EQ(s.isr.processor, 0);
  EXPECT_EQ(s.isr.irql, 6);
  IoDisconnectInterrupt(s.interrupt);
}

// ================================================================================================
// Preemption points
// ================================================================================================

// A latched IRQL 5 interrupt that only processor 0 may take. The machine frees the interrupt
// object when it is destroyed.
class PreemptionPoints : public ::testing::Test {
 protected:
  static constexpr ULONG kVector = 0x55;
  static constexpr KIRQL kVectorIrql = 5;

  // How many times the ISR had run just before and just after the call under test.
  struct AroundCall {
    int before = -1;
    int after = -1;
  };

  // Runs on processor 0: brings it to `irql`, raises the interrupt (which makes no preemption
  // point) and then makes `call`, recording the ISR's runs around it; lowers back afterwards.
  template <class Call>
  AroundCall PulseThenCall(KIRQL irql, Call call) {
    return m.run_on(0, [&] {
      const KIRQL old = RaiseTo(irql);
      m.pulse(kVector);
      AroundCall seen;
      seen.before = isr.runs;
      call();
      seen.after = isr.runs;
      KeLowerIrql(old);
      return seen;
    });
  }

  void TearDown() override { IoDisconnectInterrupt(object); }

  IsrRecord isr;
  Machine m{{.processors = 2}};
  PKINTERRUPT object = ConnectLatched(RecordingIsr, &isr, kVector, kVectorIrql, kVectorIrql, Only(0));
};

TEST_F(PreemptionPoints, EveryLibraryCallTakesAPendingInterruptAboveTheCurrentIrql) {
  struct Case {
    const char* call;
    KIRQL irql;
    void (*make)();
  };
  const Case cases[] = {
      {"KeGetCurrentIrql", PASSIVE_LEVEL, [] { (void)KeGetCurrentIrql(); }},
      {"KeQueryInterruptTime", APC_LEVEL, [] { (void)KeQueryInterruptTime(); }},
      {"KeQueryPerformanceCounter", DISPATCH_LEVEL, [] { (void)KeQueryPerformanceCounter(nullptr); }},
      {"KeStallExecutionProcessor", kVectorIrql - 1, [] { KeStallExecutionProcessor(1); }},
      {"KeQueryTimeIncrement", kVectorIrql - 1, [] { (void)KeQueryTimeIncrement(); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.call << " at IRQL " << int{c.irql});
    const AroundCall seen = PulseThenCall(c.irql, c.make);
    EXPECT_EQ(seen.before, 0);
    EXPECT_EQ(seen.after, 1);
    isr.runs = 0;
  }
}

TEST_F(PreemptionPoints, NoCallTakesAnInterruptAtOrBelowTheCurrentIrqlButKeLowerIrqlDoes) {
  for (const KIRQL irql : {kVectorIrql, KIRQL{9}, KIRQL{HIGH_LEVEL}}) {
    SCOPED_TRACE(testing::Message() << "at IRQL " << int{irql});
    int runs_after_lowering = -1;
    const AroundCall seen = PulseThenCall(irql, [&] {
      (void)KeGetCurrentIrql();
      (void)KeQueryInterruptTime();
      (void)KeQueryPerformanceCounter(nullptr);
      KeStallExecutionProcessor(200);
      KeLowerIrql(irql);  // lowering to the same IRQL is still no lower than the interrupt's
      const int runs_at_irql = isr.runs;
      KeLowerIrql(kVectorIrql - 1);
      runs_after_lowering = isr.runs - runs_at_irql;
    });
    EXPECT_EQ(seen.before, 0);
    EXPECT_EQ(runs_after_lowering, 1) << "KeLowerIrql below the interrupt's IRQL must take it";
    EXPECT_EQ(seen.after, 1);
    isr.runs = 0;
  }
}

TEST_F(PreemptionPoints, KeReleaseSpinLockTakesAnInterruptRaisedWhileTheLockWasHeld) {
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const AroundCall seen = m.run_on(0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    m.pulse(kVector);
    AroundCall s;
    s.before = isr.runs;
    KeReleaseSpinLock(&lock, old);
    s.after = isr.runs;
    return s;
  });
  EXPECT_EQ(seen.before, 0);
  EXPECT_EQ(seen.after, 1);
}

TEST_F(PreemptionPoints, DpcQueuedUnderASpinLockRunsInKeReleaseSpinLock) {
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  DpcProbe probe;
  KDPC dpc;
  const AroundCall seen = m.run_on(0, [&] {
    KeInitializeDpc(&dpc, ProbeDpc, &probe);
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    KeStallExecutionProcessor(100);  // preemption points at DISPATCH_LEVEL
    AroundCall s;
    s.before = probe.runs;
    KeReleaseSpinLock(&lock, old);
    s.after = probe.runs;
    return s;
  });
  EXPECT_EQ(seen.before, 0);
  EXPECT_EQ(seen.after, 1);
  EXPECT_EQ(probe.processor, 0);
}

// Two DPCs in processor 0's queue: the first spins without calling the library until the
// interrupt has been raised, the second records whether it ran already.
struct DpcBoundary {
  std::atomic<bool> first_running{false};
  std::atomic<bool> raised{false};
  const IsrRecord* isr = nullptr;
  std::atomic<int> isr_runs_seen_by_second{-1};
};

VOID SpinUntilRaisedDpc(PKDPC, PVOID context, PVOID, PVOID) {
  auto& boundary = *static_cast<DpcBoundary*>(context);
  boundary.first_running = true;
  while (!boundary.raised) {
  }
}

VOID RecordIsrRunsDpc(PKDPC, PVOID context, PVOID, PVOID) {
  auto& boundary = *static_cast<DpcBoundary*>(context);
  boundary.isr_runs_seen_by_second = boundary.isr->runs.load();
}

TEST_F(PreemptionPoints, InterruptRaisedDuringADpcRoutineIsTakenBeforeTheNextDpc) {
  DpcBoundary boundary;
  boundary.isr = &isr;
  KDPC first;
  KDPC second;
  KeInitializeDpc(&first, SpinUntilRaisedDpc, &boundary);
  KeInitializeDpc(&second, RecordIsrRunsDpc, &boundary);
  // No early return before `raised` is set: the spinning routine could not be stopped.
  for (KDPC* dpc : {&first, &second}) {
    KeSetTargetProcessorDpc(dpc, 0);
    EXPECT_EQ(KeInsertQueueDpc(dpc, nullptr, nullptr), TRUE);
  }
  EXPECT_TRUE(Eventually([&] { return boundary.first_running.load(); }));
  m.pulse(kVector);
  boundary.raised = true;
  m.wait_until_quiescent();
  EXPECT_EQ(boundary.isr_runs_seen_by_second, 1);
  EXPECT_EQ(isr.processor, 0);
}

// One long stall, and the interrupt arrives after it began: only the stall's own rounds can take
// it. The machine's destruction ends the stall at its next round.
TEST_F(PreemptionPoints, InterruptArrivingDuringAStallIsTakenInsideIt) {
  std::atomic<bool> stalling{false};
  std::atomic<bool> stall_returned{false};
  m.post(0, [&] {
    stalling = true;
    KeStallExecutionProcessor(30'000'000);
    stall_returned = true;
  });
  ASSERT_TRUE(Eventually([&] { return stalling.load(); }));
  m.pulse(kVector);
  EXPECT_TRUE(Eventually([&] { return isr.runs == 1; })) << "the interrupt waited for the stall to end";
  EXPECT_FALSE(stall_returned);
  EXPECT_EQ(isr.processor, 0);
}

// ================================================================================================
// Time
// ================================================================================================

struct ClockReading {
  ULONGLONG interrupt_time = 0;
  LONGLONG performance_counter = 0;
};

ClockReading ReadClocks() { return {KeQueryInterruptTime(), KeQueryPerformanceCounter(nullptr).QuadPart}; }

TEST(Clock, InterruptTimeAndPerformanceCounterNeverGoBackwardsOnAnyThread) {
  Machine m({.processors = 2});
  ClockReading last;
  for (int i = 0; i < 300; ++i) {
    const unsigned where = static_cast<unsigned>(i % 3);  // processor 0, processor 1, the test thread
    SCOPED_TRACE(testing::Message() << "reading " << i << (where < 2 ? " on processor " : " on the test thread")
                                    << where);
    const ClockReading now = where < 2 ? m.run_on(where, ReadClocks) : ReadClocks();
    EXPECT_GE(now.interrupt_time, last.interrupt_time);
    EXPECT_GE(now.performance_counter, last.performance_counter);
    last = now;
  }
}

// Both count 100 ns units since the machine was created, from one clock.
TEST(Clock, PerformanceCounterRunsAt10MHzInStepWithInterruptTime) {
  Machine m({.processors = 1});
  const auto read_bracketed = [] {
    LARGE_INTEGER frequency{};
    const ULONGLONG before = KeQueryInterruptTime();
    const LONGLONG counter = KeQueryPerformanceCounter(&frequency).QuadPart;
    const ULONGLONG after = KeQueryInterruptTime();
    EXPECT_EQ(frequency.QuadPart, 10'000'000);
    EXPECT_GE(counter, 0);
    EXPECT_LE(before, static_cast<ULONGLONG>(counter));
    EXPECT_LE(static_cast<ULONGLONG>(counter), after);
  };
  read_bracketed();
  m.run_on(0, read_bracketed);
}

TEST(Clock, StallOf2000MicrosecondsAdvancesBothClocksByAtLeast20000Units) {
  Machine m({.processors = 1});
  const auto stall_at = [](KIRQL irql) {
    const KIRQL old = RaiseTo(irql);
    const ClockReading start = ReadClocks();
    KeStallExecutionProcessor(2000);
    const ClockReading end = ReadClocks();
    KeLowerIrql(old);
    EXPECT_GE(end.interrupt_time - start.interrupt_time, 20'000u);
    EXPECT_GE(end.performance_counter - start.performance_counter, 20'000);
  };
  for (const KIRQL irql : {KIRQL{PASSIVE_LEVEL}, KIRQL{DISPATCH_LEVEL}, KIRQL{HIGH_LEVEL}}) {
    SCOPED_TRACE(testing::Message() << "at IRQL " << int{irql});
    {
      SCOPED_TRACE("on processor 0");
      m.run_on(0, [&] { stall_at(irql); });
    }
    {
      SCOPED_TRACE("on the test thread");
      stall_at(irql);
    }
  }
}

TEST(Clock, TimeIncrementIsTheClockTickIn100NanosecondUnits) {
  const auto time_increment_everywhere = [](Machine& m) {
    const ULONG on_thread = KeQueryTimeIncrement();
    EXPECT_EQ(m.run_on(0, [] { return KeQueryTimeIncrement(); }), on_thread);
    return on_thread;
  };
  {
    Machine m({.processors = 1});
    EXPECT_EQ(time_increment_everywhere(m), 156'250u) << "the default clock tick is 15.625 ms";
  }
  {
    Machine m({.processors = 1, .clock_tick = 1ms});
    EXPECT_EQ(time_increment_everywhere(m), 10'000u);
  }
  {
    Machine m({.processors = 1, .clock_tick = 500us});
    EXPECT_EQ(time_increment_everywhere(m), 5'000u);
  }
  {
    // Tests use very long ticks to mean "never"; the ULONG saturates instead of wrapping.
    Machine m({.processors = 1, .clock_tick = 1h});
    EXPECT_EQ(time_increment_everywhere(m), std::numeric_limits<ULONG>::max());
  }
}

BOOLEAN ThrowingIsr(PKINTERRUPT, PVOID) { throw std::runtime_error("device fault"); }

TEST(IsrExceptions, AnExceptionEscapingAnIsrReachesTheFunctionItInterruptedAndTheVectorLeavesService) {
  constexpr ULONG kVector = 0x57;
  Machine m({.processors = 2});
  PKINTERRUPT object = ConnectLatched(ThrowingIsr, nullptr, kVector, 5, 5, Only(0));
  EXPECT_THROW(m.run_on(0,
                        [&] {
                          const KIRQL old = RaiseTo(HIGH_LEVEL);
                          m.pulse(kVector);
                          KeLowerIrql(old);  // takes the interrupt, whose ISR throws
                        }),
               std::runtime_error);
  // Nothing is left in service: the machine settles and the ISR can be disconnected.
  m.wait_until_quiescent();
  IoDisconnectInterrupt(object);
  EXPECT_FALSE(m.halted());
}

// ================================================================================================
// Watchdog (DPC_WATCHDOG_VIOLATION, 0x133)
// ================================================================================================

constexpr ULONG kWatchdogVector = 0x5C;
constexpr KIRQL kWatchdogIrql = 6;

// How a routine keeps its processor: KeStallExecutionProcessor (preemption points, where the
// watchdog looks) or a busy wait that calls nothing in the library.
enum class Busy { Stalling, SpinningWithoutLibraryCalls };

struct Hog {
  Busy how = Busy::Stalling;
  std::chrono::microseconds duration{0};
  std::atomic<int> finished{0};
};

void KeepTheProcessor(Hog& hog) {
  if (hog.how == Busy::Stalling) {
    KeStallExecutionProcessor(static_cast<ULONG>(hog.duration.count()));
  } else {
    const auto until = std::chrono::steady_clock::now() + hog.duration;
    while (std::chrono::steady_clock::now() < until) {
    }
  }
  hog.finished.fetch_add(1);
}

BOOLEAN HoggingIsr(PKINTERRUPT, PVOID context) {
  KeepTheProcessor(*static_cast<Hog*>(context));
  return TRUE;
}

VOID HoggingDpc(PKDPC, PVOID context, PVOID, PVOID) { KeepTheProcessor(*static_cast<Hog*>(context)); }

VOID HoggingDpcForIsr(PKDPC, PDEVICE_OBJECT device_object, struct _IRP*, PVOID) {
  KeepTheProcessor(*static_cast<Hog*>(device_object->DeviceExtension));
}

// Connects HoggingIsr on processor 1, raises its interrupt once and returns the bug check the
// machine ended with, if any.
std::optional<irqsim::BugCheckReport> RunHoggingIsr(Machine& m, Hog& hog) {
  PKINTERRUPT object = ConnectLatched(HoggingIsr, &hog, kWatchdogVector, kWatchdogIrql, kWatchdogIrql, Only(1));
  m.pulse(kWatchdogVector);
  auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  if (!report) IoDisconnectInterrupt(object);  // a halted machine keeps it, as a crashed system would
  return report;
}

// Queues HoggingDpc on processor 1 and returns the bug check the machine ended with, if any.
std::optional<irqsim::BugCheckReport> RunHoggingDpc(Machine& m, Hog& hog, KDPC& dpc) {
  KeInitializeDpc(&dpc, HoggingDpc, &hog);
  KeSetTargetProcessorDpc(&dpc, 1);
  KeInsertQueueDpc(&dpc, nullptr, nullptr);
  return bug_check_from([&] { m.wait_until_quiescent(); });
}

// A 0x133 report for `routine` with a 1 ms limit (P2, the time it ran, is checked separately).
auto IsWatchdogReportOf(std::uint64_t routine, int irql) {
  return AllOf(IsBugCheck(bugcheck::kDpcWatchdogViolation), HasParameter(0, 0), HasParameter(2, 1000),
               HasParameter(3, routine), OnProcessor(1), AtIrql(irql));
}

TEST(Watchdog, IsOffByDefault) {
  Machine m({.processors = 2});
  Hog isr_hog{Busy::Stalling, 20ms};
  Hog dpc_hog{Busy::Stalling, 20ms};
  KDPC dpc;
  EXPECT_EQ(RunHoggingIsr(m, isr_hog), std::nullopt);
  EXPECT_EQ(RunHoggingDpc(m, dpc_hog, dpc), std::nullopt);
  EXPECT_EQ(isr_hog.finished, 1);
  EXPECT_EQ(dpc_hog.finished, 1);
  EXPECT_FALSE(m.halted());
}

TEST(Watchdog, IsrStallingPastTheLimitBugChecks133) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Hog hog{Busy::Stalling, 50ms};
  const auto report = RunHoggingIsr(m, hog);
  ASSERT_THAT(report, Optional(AllOf(IsWatchdogReportOf(RoutineAddress(HoggingIsr), kWatchdogIrql),
                                     RuleMentions("interrupt service routine"))));
  EXPECT_THAT(report->parameters[1], Ge(1000u)) << "P2 is how long the ISR had run, in microseconds";
}

TEST(Watchdog, DpcRoutineStallingPastTheLimitBugChecks133) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Hog hog{Busy::Stalling, 50ms};
  KDPC dpc;
  const auto report = RunHoggingDpc(m, hog, dpc);
  ASSERT_THAT(report, Optional(AllOf(IsWatchdogReportOf(RoutineAddress(HoggingDpc), DISPATCH_LEVEL),
                                     RuleMentions("DPC routine"))));
  EXPECT_THAT(report->parameters[1], Ge(1000u));
}

// The watchdog looks at every preemption point, so it stops a routine in the middle of a stall
// that would otherwise last 30 s.
TEST(Watchdog, StopsAnIsrInsideALongStallRatherThanWhenItReturns) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Hog hog{Busy::Stalling, 30s};
  EXPECT_THAT(RunHoggingIsr(m, hog), Optional(IsWatchdogReportOf(RoutineAddress(HoggingIsr), kWatchdogIrql)));
  EXPECT_EQ(hog.finished, 0);
}

// IoInitializeDpcRequest binds a routine of the library's own; the report names the driver's.
TEST(Watchdog, DpcForIsrStallingPastTheLimitIsReportedUnderTheDriversRoutine) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Hog hog{Busy::Stalling, 50ms};
  DEVICE_OBJECT device_object{};
  device_object.DeviceExtension = &hog;
  IoInitializeDpcRequest(&device_object, HoggingDpcForIsr);
  KeSetTargetProcessorDpc(&device_object.Dpc, 1);
  IoRequestDpc(&device_object, nullptr, nullptr);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(IsWatchdogReportOf(RoutineAddress(HoggingDpcForIsr), DISPATCH_LEVEL)));
}

// Without a preemption point the watchdog cannot look while the routine runs; it looks when the
// routine returns, so the routine has finished its busy wait by then.
TEST(Watchdog, IsrThatNeverCallsTheLibraryIsReportedWhenItReturns) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Hog hog{Busy::SpinningWithoutLibraryCalls, 5ms};
  const auto report = RunHoggingIsr(m, hog);
  ASSERT_THAT(report, Optional(IsWatchdogReportOf(RoutineAddress(HoggingIsr), kWatchdogIrql)));
  EXPECT_THAT(report->parameters[1], Ge(5000u)) << "it ran its whole busy wait";
  EXPECT_EQ(hog.finished, 1);
}

TEST(Watchdog, DpcRoutineThatNeverCallsTheLibraryIsReportedWhenItReturns) {
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  Hog hog{Busy::SpinningWithoutLibraryCalls, 5ms};
  KDPC dpc;
  const auto report = RunHoggingDpc(m, hog, dpc);
  ASSERT_THAT(report, Optional(IsWatchdogReportOf(RoutineAddress(HoggingDpc), DISPATCH_LEVEL)));
  EXPECT_THAT(report->parameters[1], Ge(5000u));
  EXPECT_EQ(hog.finished, 1);
}

TEST(Watchdog, PassiveLevelIsrsAreNotTimed) {
  // The DPC watchdog guards DISPATCH_LEVEL and above; a passive-level ISR runs like a worker thread.
  Machine m({.processors = 2, .watchdog_limit = 1ms});
  irqsim::Device device = m.plug(
      {.name = "i2c", .lines = {{.vector = kWatchdogVector, .irql = kWatchdogIrql, .trigger = irqsim::Trigger::Latched}}});
  Hog hog{Busy::Stalling, 20ms};
  PKINTERRUPT object = nullptr;
  IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
  parameters.Version = CONNECT_FULLY_SPECIFIED;
  IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS& connect = parameters.FullySpecified;
  connect.PhysicalDeviceObject = device.pdo();
  connect.InterruptObject = &object;
  connect.ServiceRoutine = HoggingIsr;
  connect.ServiceContext = &hog;
  connect.Vector = kWatchdogVector;
  connect.Irql = PASSIVE_LEVEL;
  connect.SynchronizeIrql = PASSIVE_LEVEL;
  connect.InterruptMode = Latched;
  connect.ProcessorEnableMask = ~KAFFINITY{0};
  ASSERT_EQ(IoConnectInterruptEx(&parameters), STATUS_SUCCESS);
  device.pulse_line();
  EXPECT_EQ(bug_check_from([&] { m.wait_until_quiescent(); }), std::nullopt);
  EXPECT_EQ(hog.finished, 1);
  IoDisconnectInterrupt(object);
}

TEST(Watchdog, GenerousLimitLeavesOrdinaryIsrsAndDpcsAlone) {
  constexpr int kInterrupts = 20;
  RequestingIsrState isr;
  Machine m({.processors = 2, .watchdog_limit = 10s});
  KeInitializeDpc(&isr.dpc, ProbeDpc, &isr.dpc_probe);
  PKINTERRUPT object = ConnectLatched(RequestingIsr, &isr, kWatchdogVector, kWatchdogIrql, kWatchdogIrql);
  for (int i = 0; i < kInterrupts; ++i) {
    m.pulse(kWatchdogVector);
    m.wait_until_quiescent();
  }
  EXPECT_EQ(isr.runs, kInterrupts);
  EXPECT_EQ(isr.dpc_probe.runs, kInterrupts);
  EXPECT_FALSE(m.halted());
  IoDisconnectInterrupt(object);
}

// ================================================================================================
// Storms and spurious interrupts
// ================================================================================================

constexpr ULONG kStormVector = 0x6C;
constexpr unsigned kStormThreshold = 20;

// Two ISRs of two devices that never recognise the interrupt as theirs; two functions so that the
// report can name both.
struct SilentDevice {
  std::atomic<int> calls{0};
};

BOOLEAN NeverClaimsA(PKINTERRUPT, PVOID context) {
  static_cast<SilentDevice*>(context)->calls.fetch_add(1);
  return FALSE;
}

BOOLEAN NeverClaimsB(PKINTERRUPT, PVOID context) {
  static_cast<SilentDevice*>(context)->calls.fetch_add(1);
  return FALSE;
}

PKINTERRUPT ConnectShared(PKSERVICE_ROUTINE isr, SilentDevice& device, KINTERRUPT_MODE mode) {
  PKINTERRUPT object = nullptr;
  const NTSTATUS status =
      IoConnectInterrupt(&object, isr, &device, nullptr, kStormVector, 6, 6, mode, TRUE, ~KAFFINITY{0}, FALSE);
  EXPECT_EQ(status, STATUS_SUCCESS);
  return object;
}

// How the storm report's rule lists one connected ISR (src/core/interrupt_dispatch.cpp).
std::string ListedIsr(PKSERVICE_ROUTINE isr, const SilentDevice& device) {
  return "ISR " + detail::Hex(RoutineAddress(isr)) + " (context " + detail::Hex(AddressOf(&device)) + ")";
}

TEST(Storms, UnclaimedSharedLevelLineBugChecksF2NamingTheVectorAndBothIsrs) {
  SilentDevice a;
  SilentDevice b;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  PKINTERRUPT first = ConnectShared(NeverClaimsA, a, LevelSensitive);
  ConnectShared(NeverClaimsB, b, LevelSensitive);
  m.assert_line(kStormVector);
  const auto report = bug_check_from([&] { m.wait_until_quiescent(); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kHardwareInterruptStorm),
                                     HasParameters({RoutineAddress(NeverClaimsA), AddressOf(&a), AddressOf(first), 2}),
                                     RuleMentions("Vector 0x6c"), RuleMentions("level-triggered"),
                                     RuleMentions(ListedIsr(NeverClaimsA, a)),
                                     RuleMentions(ListedIsr(NeverClaimsB, b)))));
  // Neither claims, so every delivery walks the whole chain.
  EXPECT_EQ(a.calls, static_cast<int>(kStormThreshold));
  EXPECT_EQ(b.calls, static_cast<int>(kStormThreshold));
}

// A spurious edge is counted and otherwise ignored, however many there are.
TEST(Storms, SpuriousLatchedInterruptsAreCountedUnclaimedAndAreNotFatal) {
  constexpr int kSpuriousEdges = 2 * kStormThreshold;
  SilentDevice a;
  SilentDevice b;
  Machine m({.processors = 2, .storm_threshold = kStormThreshold});
  PKINTERRUPT objects[] = {ConnectShared(NeverClaimsA, a, Latched), ConnectShared(NeverClaimsB, b, Latched)};
  for (int i = 0; i < kSpuriousEdges; ++i) {
    m.pulse(kStormVector);
    m.wait_until_quiescent();
  }
  const irqsim::VectorStats stats = m.stats(kStormVector);
  EXPECT_EQ(stats.deliveries, static_cast<std::uint64_t>(kSpuriousEdges));
  EXPECT_EQ(stats.unclaimed, static_cast<std::uint64_t>(kSpuriousEdges));
  EXPECT_EQ(stats.claimed, 0u);
  // An unclaimed pass ends the latched chain: each ISR is asked once per edge.
  EXPECT_EQ(a.calls, kSpuriousEdges);
  EXPECT_EQ(b.calls, kSpuriousEdges);
  EXPECT_FALSE(m.halted());
  EXPECT_EQ(m.bug_check(), std::nullopt);
  for (PKINTERRUPT object : objects) IoDisconnectInterrupt(object);
}

}  // namespace
