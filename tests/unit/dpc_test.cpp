// Deferred procedure calls (wdm.h): KeInitializeDpc, KeInsertQueueDpc, KeRemoveQueueDpc,
// KeSetImportanceDpc, KeSetTargetProcessorDpc(Ex), KeFlushQueuedDpcs, IoInitializeDpcRequest and
// IoRequestDpc: what a DPC routine is called with and where, the per-processor queues (order,
// single queuing, removal), when a queue is processed (importance, depth limit, clock tick, idle),
// flushing, the ISR -> DpcForIsr pattern, and the bug checks for misuse.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <wdm.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <irqsim/bugcheck.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using namespace std::chrono_literals;
using irqsim::Machine;

// Distinctive pointer values for arguments that are only passed through, never dereferenced.
PVOID Tag(std::uintptr_t value) { return reinterpret_cast<PVOID>(value); }
const PVOID kArgument1 = Tag(0xA1A1);
const PVOID kArgument2 = Tag(0xA2A2);
const PVOID kOtherArgument1 = Tag(0xB1B1);
const PVOID kOtherArgument2 = Tag(0xB2B2);

// A clock tick no test outlives: a DPC queued without a processing request then runs only when
// its processor goes idle (or its queue grows past the depth limit, or is flushed).
constexpr auto kNoClockTick = std::chrono::microseconds(1h);

// Bound for loops of KeStallExecutionProcessor(100) waiting for something another processor
// brings about: 10 s, which only keeps a broken library from hanging the test.
constexpr int kMaxStalls = 100'000;

// The names of the DPCs in the order their routines ran (RecordedDpc::log).
class CallLog {
 public:
  void add(char name) {
    std::lock_guard lock(mutex_);
    names_ += name;
  }
  std::string names() {
    std::lock_guard lock(mutex_);
    return names_;
  }

 private:
  std::mutex mutex_;
  std::string names_;
};

// What RecordingDpc saw in its last run. The DPC's DeferredContext points to it, so a record that
// fills in shows the routine got its context.
struct DpcRecord {
  std::atomic<int> runs{0};      // routine entered
  std::atomic<int> finished{0};  // routine about to return (after `then`)
  std::atomic<PKDPC> dpc{nullptr};
  std::atomic<PVOID> argument1{nullptr};
  std::atomic<PVOID> argument2{nullptr};
  std::atomic<int> irql{-1};
  std::atomic<int> processor{-1};  // KeGetCurrentProcessorNumber
  std::atomic<int> group{-1};      // KeGetCurrentProcessorNumberEx
  std::atomic<int> number_in_group{-1};
  char name = '?';
  CallLog* log = nullptr;
  // What the routine does after recording, as the driver code under test would.
  std::function<void(PKDPC)> then;
};

VOID RecordingDpc(PKDPC dpc, PVOID context, PVOID argument1, PVOID argument2) {
  auto& record = *static_cast<DpcRecord*>(context);
  record.dpc = dpc;
  record.argument1 = argument1;
  record.argument2 = argument2;
  record.irql = KeGetCurrentIrql();
  record.processor = static_cast<int>(KeGetCurrentProcessorNumber());
  PROCESSOR_NUMBER number{};
  KeGetCurrentProcessorNumberEx(&number);
  record.group = number.Group;
  record.number_in_group = number.Number;
  if (record.log != nullptr) record.log->add(record.name);
  record.runs.fetch_add(1);
  if (record.then) record.then(dpc);
  record.finished.fetch_add(1);
}

std::uint64_t RecordingDpcAddress() { return reinterpret_cast<std::uintptr_t>(&RecordingDpc); }

// What bug check 0xA names as the routine called at too high an IRQL.
std::uint64_t KeFlushQueuedDpcsAddress() { return reinterpret_cast<std::uintptr_t>(&KeFlushQueuedDpcs); }

// A KDPC bound to RecordingDpc with its own record as the DeferredContext. KeInitializeDpc acts
// on the newest machine, so create it after the Machine.
struct RecordedDpc {
  explicit RecordedDpc(char name = '?', CallLog* log = nullptr) {
    record.name = name;
    record.log = log;
    KeInitializeDpc(&dpc, RecordingDpc, &record);
  }
  RecordedDpc(const RecordedDpc&) = delete;
  RecordedDpc& operator=(const RecordedDpc&) = delete;

  KDPC dpc{};
  DpcRecord record;
};

RecordedDpc& WithImportance(RecordedDpc& d, KDPC_IMPORTANCE importance) {
  KeSetImportanceDpc(&d.dpc, importance);
  return d;
}

RecordedDpc& TargetedAt(RecordedDpc& d, unsigned processor) {
  KeSetTargetProcessorDpc(&d.dpc, static_cast<CCHAR>(processor));
  return d;
}

BOOLEAN Queue(RecordedDpc& d) { return KeInsertQueueDpc(&d.dpc, kArgument1, kArgument2); }

// A preemption point on a simulated processor: every WDK call is one.
void PreemptionPoint() { (void)KeGetCurrentIrql(); }

// Runs `queue` on `processor` at DISPATCH_LEVEL, where no DPC can run there, then lowers the IRQL
// back to PASSIVE_LEVEL, which runs the processor's queue if processing was requested.
template <class F>
void AtDispatchOn(Machine& m, unsigned processor, F queue) {
  m.run_on(processor, [&] {
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);
    queue();
    KeLowerIrql(old);
  });
}

// The order in which the DPCs ran when queued in this order on processor 0 at DISPATCH_LEVEL.
std::string RunOrder(Machine& m, CallLog& log, std::initializer_list<RecordedDpc*> dpcs) {
  AtDispatchOn(m, 0, [&] {
    for (RecordedDpc* d : dpcs) Queue(*d);
  });
  m.wait_until_quiescent();
  return log.names();
}

// Keeps a processor busy at PASSIVE_LEVEL in driver code that keeps calling the library (a
// preemption point at every turn) from construction until release() or destruction.
class BusyProcessor {
 public:
  BusyProcessor(Machine& m, unsigned processor) : state_(std::make_shared<State>()) {
    m.post(processor, [state = state_] {
      state->started.open();
      while (!state->release.is_open()) KeStallExecutionProcessor(10);
    });
    state_->started.wait();
  }
  ~BusyProcessor() { release(); }
  BusyProcessor(const BusyProcessor&) = delete;
  BusyProcessor& operator=(const BusyProcessor&) = delete;
  void release() { state_->release.open(); }

 private:
  struct State {
    Gate started;
    Gate release;
  };
  std::shared_ptr<State> state_;  // shared with the busy function, which may outlive this
};

// Runs `queue` on the test thread while `processor` is busy in driver code at PASSIVE_LEVEL that
// makes no library call, then lets that code reach exactly one preemption point; returns how
// many times `record`'s routine had run by then. The machine is quiescent when it returns.
template <class F>
int RunsSeenAtNextPreemptionPoint(Machine& m, unsigned processor, const DpcRecord& record, F queue) {
  struct State {
    Gate busy;
    Gate queued;
    std::atomic<int> seen{-1};
  };
  auto state = std::make_shared<State>();
  m.post(processor, [state, &record] {
    state->busy.open();
    state->queued.wait();
    PreemptionPoint();
    state->seen = record.runs.load();
  });
  state->busy.wait();
  {
    OpenOnExit queued(state->queued);
    queue();
  }
  m.wait_until_quiescent();
  return state->seen;
}

// ================================================================================================
// KeInitializeDpc and what the routine is called with
// ================================================================================================

TEST(KeInitializeDpc, SetsTypeImportanceTargetRoutineAndContext) {
  Machine m({.processors = 2});
  KDPC dpc;
  std::memset(&dpc, 0xCD, sizeof dpc);  // KeInitializeDpc must not rely on a zeroed object
  int context = 0;
  KeInitializeDpc(&dpc, RecordingDpc, &context);
  EXPECT_EQ(dpc.Type, 0x13);  // the header's documented "initialised" type
  EXPECT_EQ(dpc.Importance, MediumImportance);
  EXPECT_EQ(dpc.Number, 0) << "the default target is the processor that queues it";
  EXPECT_EQ(dpc.DeferredRoutine, &RecordingDpc);
  EXPECT_EQ(dpc.DeferredContext, &context);
}

TEST(KeSetImportanceDpc, StoresTheImportance) {
  Machine m({.processors = 1});
  RecordedDpc d;
  for (const KDPC_IMPORTANCE importance : {LowImportance, HighImportance, MediumHighImportance, MediumImportance}) {
    KeSetImportanceDpc(&d.dpc, importance);
    EXPECT_EQ(d.dpc.Importance, importance);
  }
}

TEST(KeInsertQueueDpc, TheRoutineGetsItsArgumentsAtDispatchLevelOnTheTargetProcessor) {
  Machine m({.processors = 3});
  RecordedDpc d;
  TargetedAt(d, 2);
  EXPECT_EQ(Queue(d), TRUE);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.dpc, &d.dpc);
  EXPECT_EQ(d.record.argument1, kArgument1);
  EXPECT_EQ(d.record.argument2, kArgument2);
  EXPECT_EQ(d.record.irql, DISPATCH_LEVEL);
  EXPECT_EQ(d.record.processor, 2);
}

TEST(KeInsertQueueDpc, WithoutATargetRunsOnTheQueuingProcessor) {
  Machine m({.processors = 3});
  RecordedDpc d;
  for (unsigned p = 0; p < 3; ++p) {
    SCOPED_TRACE(testing::Message() << "queued on processor " << p);
    m.run_on(p, [&] { Queue(d); });
    m.wait_until_quiescent();
    EXPECT_EQ(d.record.processor, static_cast<int>(p));
    EXPECT_EQ(d.record.irql, DISPATCH_LEVEL);
  }
  EXPECT_EQ(d.record.runs, 3);
}

TEST(KeInsertQueueDpc, WithoutATargetFromTheTestThreadRunsOnProcessor0) {
  Machine m({.processors = 3});
  RecordedDpc d;
  EXPECT_EQ(Queue(d), TRUE);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.processor, 0);
}

TEST(KeInsertQueueDpc, QueuedTwiceBeforeItRunsRunsOnceWithTheFirstArguments) {
  Machine m({.processors = 2});
  RecordedDpc d;
  BOOLEAN first = FALSE;
  BOOLEAN second = TRUE;
  AtDispatchOn(m, 1, [&] {
    first = KeInsertQueueDpc(&d.dpc, kArgument1, kArgument2);
    second = KeInsertQueueDpc(&d.dpc, kOtherArgument1, kOtherArgument2);
  });
  m.wait_until_quiescent();
  EXPECT_EQ(first, TRUE);
  EXPECT_EQ(second, FALSE);
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.argument1, kArgument1);
  EXPECT_EQ(d.record.argument2, kArgument2);
}

TEST(KeInsertQueueDpc, ARoutineCanQueueItsOwnDpcAgain) {
  constexpr int kRuns = 5;
  Machine m({.processors = 2});
  RecordedDpc d;
  std::vector<BOOLEAN> requeued;  // only the routine touches it until the machine is quiescent
  d.record.then = [&](PKDPC dpc) {
    if (d.record.runs < kRuns) requeued.push_back(KeInsertQueueDpc(dpc, kArgument1, kArgument2));
  };
  TargetedAt(d, 1);
  EXPECT_EQ(Queue(d), TRUE);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.runs, kRuns);
  EXPECT_EQ(requeued, std::vector<BOOLEAN>(kRuns - 1, TRUE));
}

TEST(KeInsertQueueDpc, CanQueueTheDpcAgainOnceItHasRun) {
  Machine m({.processors = 2});
  RecordedDpc d;
  for (int run = 1; run <= 3; ++run) {
    EXPECT_EQ(Queue(d), TRUE) << "run " << run;
    m.wait_until_quiescent();
    EXPECT_EQ(d.record.runs, run);
  }
}

// ================================================================================================
// KeRemoveQueueDpc
// ================================================================================================

TEST(KeRemoveQueueDpc, RemovedBeforeItRanReturnsTrueAndTheRoutineNeverRuns) {
  Machine m({.processors = 2});
  RecordedDpc d;
  BOOLEAN removed = FALSE;
  AtDispatchOn(m, 1, [&] {
    Queue(d);
    removed = KeRemoveQueueDpc(&d.dpc);
  });
  m.wait_until_quiescent();
  EXPECT_EQ(removed, TRUE);
  EXPECT_EQ(d.record.runs, 0);
}

TEST(KeRemoveQueueDpc, ReturnsFalseForADpcThatIsNotQueued) {
  Machine m({.processors = 2});
  RecordedDpc d;
  EXPECT_EQ(KeRemoveQueueDpc(&d.dpc), FALSE) << "never queued";
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(KeRemoveQueueDpc(&d.dpc), FALSE) << "already ran";
  EXPECT_EQ(d.record.runs, 1);
}

TEST(KeRemoveQueueDpc, ReturnsFalseForADpcThatIsRunning) {
  Machine m({.processors = 2});
  RecordedDpc d;
  BOOLEAN removed_while_running = TRUE;
  d.record.then = [&](PKDPC dpc) { removed_while_running = KeRemoveQueueDpc(dpc); };
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(removed_while_running, FALSE);
  EXPECT_EQ(d.record.finished, 1);
}

TEST(KeRemoveQueueDpc, ARemovedDpcCanBeQueuedAgain) {
  Machine m({.processors = 2});
  RecordedDpc d;
  BOOLEAN removed = FALSE;
  BOOLEAN queued_again = FALSE;
  AtDispatchOn(m, 1, [&] {
    KeInsertQueueDpc(&d.dpc, kOtherArgument1, kOtherArgument2);
    removed = KeRemoveQueueDpc(&d.dpc);
    queued_again = KeInsertQueueDpc(&d.dpc, kArgument1, kArgument2);
  });
  m.wait_until_quiescent();
  EXPECT_EQ(removed, TRUE);
  EXPECT_EQ(queued_again, TRUE);
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.argument1, kArgument1);
}

// ================================================================================================
// Order within one processor's queue
// ================================================================================================

TEST(DpcQueueOrder, MediumImportanceDpcsRunInTheOrderQueued) {
  CallLog log;
  Machine m({.processors = 2});
  RecordedDpc a('A', &log), b('B', &log), c('C', &log);
  EXPECT_EQ(RunOrder(m, log, {&a, &b, &c}), "ABC");
}

TEST(DpcQueueOrder, HighImportanceGoesToTheHeadOfTheQueue) {
  CallLog log;
  Machine m({.processors = 2});
  RecordedDpc a('A', &log), b('B', &log), c('C', &log), h('H', &log);
  WithImportance(h, HighImportance);
  EXPECT_EQ(RunOrder(m, log, {&a, &b, &c, &h}), "HABC");
}

TEST(DpcQueueOrder, TheLatestHighImportanceDpcRunsFirst) {
  CallLog log;
  Machine m({.processors = 2});
  RecordedDpc a('A', &log), h('H', &log), i('I', &log);
  WithImportance(h, HighImportance);
  WithImportance(i, HighImportance);
  EXPECT_EQ(RunOrder(m, log, {&a, &h, &i}), "IHA");
}

TEST(DpcQueueOrder, LowAndMediumHighImportanceGoToTheTail) {
  CallLog log;
  Machine m({.processors = 2});
  RecordedDpc l('L', &log), a('A', &log), h('H', &log);
  WithImportance(l, LowImportance);
  WithImportance(h, MediumHighImportance);
  EXPECT_EQ(RunOrder(m, log, {&l, &a, &h}), "LAH");
}

// ================================================================================================
// Target processor
// ================================================================================================

TEST(KeSetTargetProcessorDpc, RunsTheDpcOnTheChosenProcessor) {
  Machine m({.processors = 3});
  RecordedDpc d;
  for (unsigned p : {2u, 1u, 0u}) {
    SCOPED_TRACE(testing::Message() << "target " << p);
    TargetedAt(d, p);
    m.run_on(p == 0 ? 1 : 0, [&] { Queue(d); });  // queued from another processor
    m.wait_until_quiescent();
    EXPECT_EQ(d.record.processor, static_cast<int>(p));
  }
}

TEST(KeSetTargetProcessorDpc, ANumberBeyondTheProcessorsLeavesTheTargetUnchanged) {
  Machine m({.processors = 3});
  RecordedDpc d;
  TargetedAt(d, 2);
  const USHORT target = d.dpc.Number;
  for (const CCHAR number : {CCHAR{3}, CCHAR{63}, CCHAR{127}, static_cast<CCHAR>(-1)}) {
    KeSetTargetProcessorDpc(&d.dpc, number);
    EXPECT_EQ(d.dpc.Number, target) << "Number " << int{number};
  }
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.processor, 2);
}

TEST(KeSetTargetProcessorDpcEx, RunsTheDpcOnTheChosenProcessor) {
  Machine m({.processors = 3});
  RecordedDpc d;
  PROCESSOR_NUMBER number{.Group = 0, .Number = 1, .Reserved = 0};
  EXPECT_EQ(KeSetTargetProcessorDpcEx(&d.dpc, &number), STATUS_SUCCESS);
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.processor, 1);
}

TEST(KeSetTargetProcessorDpcEx, ANonexistentProcessorIsRejectedAndLeavesTheTargetUnchanged) {
  Machine m({.processors = 3});
  RecordedDpc d;
  TargetedAt(d, 2);
  const USHORT target = d.dpc.Number;
  for (PROCESSOR_NUMBER number : {PROCESSOR_NUMBER{.Group = 0, .Number = 3, .Reserved = 0},
                                  PROCESSOR_NUMBER{.Group = 1, .Number = 0, .Reserved = 0},
                                  PROCESSOR_NUMBER{.Group = 0, .Number = 255, .Reserved = 0},
                                  PROCESSOR_NUMBER{.Group = 0, .Number = 1, .Reserved = 1}}) {
    SCOPED_TRACE(testing::Message() << "group " << number.Group << ", number " << int{number.Number}
                                    << ", reserved " << int{number.Reserved});
    EXPECT_EQ(KeSetTargetProcessorDpcEx(&d.dpc, &number), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(d.dpc.Number, target);
  }
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.processor, 2);
}

TEST(KeSetTargetProcessorDpcEx, TargetsAProcessorOfAnotherGroup) {
  Machine m({.processors = 4, .processors_per_group = 2});
  RecordedDpc d;
  PROCESSOR_NUMBER number{.Group = 1, .Number = 1, .Reserved = 0};
  EXPECT_EQ(KeSetTargetProcessorDpcEx(&d.dpc, &number), STATUS_SUCCESS);
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.group, 1);
  EXPECT_EQ(d.record.number_in_group, 1);
}

TEST(KeSetTargetProcessorDpcEx, RejectsANumberBeyondTheGroupOrAGroupTheMachineLacks) {
  Machine m({.processors = 4, .processors_per_group = 2});
  RecordedDpc d;
  PROCESSOR_NUMBER valid{.Group = 1, .Number = 0, .Reserved = 0};
  ASSERT_EQ(KeSetTargetProcessorDpcEx(&d.dpc, &valid), STATUS_SUCCESS);
  const USHORT target = d.dpc.Number;
  for (PROCESSOR_NUMBER number : {PROCESSOR_NUMBER{.Group = 1, .Number = 2, .Reserved = 0},
                                  PROCESSOR_NUMBER{.Group = 2, .Number = 0, .Reserved = 0}}) {
    SCOPED_TRACE(testing::Message() << "group " << number.Group << ", number " << int{number.Number});
    EXPECT_EQ(KeSetTargetProcessorDpcEx(&d.dpc, &number), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(d.dpc.Number, target);
  }
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.group, 1);
  EXPECT_EQ(d.record.number_in_group, 0);
}

TEST(KeSetTargetProcessorDpc, NamesProcessorsOfGroup0Only) {
  Machine m({.processors = 4, .processors_per_group = 2});
  RecordedDpc d;
  TargetedAt(d, 1);
  const USHORT target = d.dpc.Number;
  KeSetTargetProcessorDpc(&d.dpc, 2);  // group 0 has processors 0 and 1
  EXPECT_EQ(d.dpc.Number, target);
  Queue(d);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.group, 0);
  EXPECT_EQ(d.record.number_in_group, 1);
}

// ================================================================================================
// When a queue is processed: importance, depth limit, clock tick, idle
// ================================================================================================

TEST(DpcProcessing, LowImportanceForTheCurrentProcessorWaitsWhileItStaysBusyAndRunsWhenItIsIdle) {
  Machine m({.processors = 2, .clock_tick = kNoClockTick, .dpc_queue_depth_limit = 1000});
  RecordedDpc d;
  WithImportance(d, LowImportance);
  const int runs_while_busy = m.run_on(1, [&] {
    Queue(d);
    for (int i = 0; i < 100; ++i) KeStallExecutionProcessor(1);  // many preemption points
    return d.record.runs.load();
  });
  EXPECT_EQ(runs_while_busy, 0);
  m.wait_until_quiescent();  // processor 1 is idle now
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.processor, 1);
}

TEST(DpcProcessing, AQueueDeeperThanTheLimitIsProcessedAtTheNextPreemptionPoint) {
  CallLog log;
  Machine m({.processors = 2, .clock_tick = kNoClockTick, .dpc_queue_depth_limit = 1});
  RecordedDpc first('1', &log), second('2', &log);
  WithImportance(first, LowImportance);
  WithImportance(second, LowImportance);
  const auto [runs_at_depth_1, runs_at_depth_2] = m.run_on(1, [&] {
    Queue(first);
    PreemptionPoint();
    const int at_depth_1 = first.record.runs;
    Queue(second);
    PreemptionPoint();
    return std::pair(at_depth_1, first.record.runs + second.record.runs);
  });
  EXPECT_EQ(runs_at_depth_1, 0) << "a queue at the limit waits";
  EXPECT_EQ(runs_at_depth_2, 2) << "a queue past the limit is processed whole";
  EXPECT_EQ(log.names(), "12");
}

TEST(DpcProcessing, ALowImportanceDpcRunsWhenAnotherOneRequestsProcessingOfItsQueue) {
  CallLog log;
  Machine m({.processors = 2, .clock_tick = kNoClockTick, .dpc_queue_depth_limit = 1000});
  RecordedDpc low('L', &log), medium('M', &log);
  WithImportance(low, LowImportance);
  const auto [low_runs_alone, runs_with_medium] = m.run_on(1, [&] {
    Queue(low);
    PreemptionPoint();
    const int alone = low.record.runs;
    Queue(medium);
    PreemptionPoint();
    return std::pair(alone, low.record.runs + medium.record.runs);
  });
  EXPECT_EQ(low_runs_alone, 0);
  EXPECT_EQ(runs_with_medium, 2);
  EXPECT_EQ(log.names(), "LM");
}

TEST(DpcProcessing, LowImportanceRunsAfterAClockTickWhileTheProcessorStaysBusy) {
  Machine m({.processors = 2, .clock_tick = 1ms, .dpc_queue_depth_limit = 1000});
  RecordedDpc d;
  WithImportance(d, LowImportance);
  const int runs_while_busy = m.run_on(1, [&] {
    Queue(d);
    for (int i = 0; i < kMaxStalls && d.record.runs == 0; ++i) KeStallExecutionProcessor(100);
    return d.record.runs.load();
  });
  EXPECT_EQ(runs_while_busy, 1);
  EXPECT_EQ(d.record.processor, 1);
  EXPECT_EQ(d.record.irql, DISPATCH_LEVEL);
}

// An importance and whether a DPC queued with it requests processing in the test's situation.
struct ImportanceCase {
  std::string name;
  KDPC_IMPORTANCE importance;
  bool requests_processing;
};

std::string CaseName(const testing::TestParamInfo<ImportanceCase>& param) { return param.param.name; }

// Makes GoogleTest (and CTest's test names) show a case by its name rather than its bytes.
void PrintTo(const ImportanceCase& c, std::ostream* os) { *os << c.name; }

// Queued by a processor at PASSIVE_LEVEL for itself: the return of KeInsertQueueDpc is a
// preemption point, so a DPC that requested processing has run by then.
class DpcForTheCurrentProcessor : public testing::TestWithParam<ImportanceCase> {};

TEST_P(DpcForTheCurrentProcessor, HasRunWhenKeInsertQueueDpcReturnsOnlyWhenTheImportanceRequestsProcessing) {
  Machine m({.processors = 2, .clock_tick = kNoClockTick});
  RecordedDpc d;
  WithImportance(d, GetParam().importance);
  const int runs_on_return = m.run_on(1, [&] {
    Queue(d);
    return d.record.runs.load();  // no library call in between
  });
  EXPECT_EQ(runs_on_return, GetParam().requests_processing ? 1 : 0);
  m.wait_until_quiescent();
  EXPECT_EQ(d.record.runs, 1) << "the processor ran it once it was idle";
  EXPECT_EQ(d.record.processor, 1);
  EXPECT_EQ(d.record.irql, DISPATCH_LEVEL);
}

INSTANTIATE_TEST_SUITE_P(Importances, DpcForTheCurrentProcessor,
                         testing::Values(ImportanceCase{"Low", LowImportance, false},
                                         ImportanceCase{"Medium", MediumImportance, true},
                                         ImportanceCase{"MediumHigh", MediumHighImportance, true},
                                         ImportanceCase{"High", HighImportance, true}),
                         CaseName);

// Queued from the test thread for a busy processor, which is never "the current processor".
class DpcForABusyProcessor : public testing::TestWithParam<ImportanceCase> {};

TEST_P(DpcForABusyProcessor, RunsAtItsNextPreemptionPointOnlyWhenTheImportanceRequestsProcessing) {
  Machine m({.processors = 2, .clock_tick = kNoClockTick});
  RecordedDpc d;
  WithImportance(d, GetParam().importance);
  TargetedAt(d, 1);
  const int seen = RunsSeenAtNextPreemptionPoint(m, 1, d.record, [&] { Queue(d); });
  EXPECT_EQ(seen, GetParam().requests_processing ? 1 : 0);
  EXPECT_EQ(d.record.runs, 1) << "the processor ran it once it was idle";
  EXPECT_EQ(d.record.processor, 1);
}

INSTANTIATE_TEST_SUITE_P(Importances, DpcForABusyProcessor,
                         testing::Values(ImportanceCase{"Low", LowImportance, false},
                                         ImportanceCase{"Medium", MediumImportance, false},
                                         ImportanceCase{"MediumHigh", MediumHighImportance, true},
                                         ImportanceCase{"High", HighImportance, true}),
                         CaseName);

TEST(DpcProcessing, MediumImportanceFromTheTestThreadDoesNotInterruptABusyProcessor0) {
  Machine m({.processors = 2, .clock_tick = kNoClockTick});
  RecordedDpc d;  // no target: processor 0, which the test thread stands for but never is
  EXPECT_EQ(RunsSeenAtNextPreemptionPoint(m, 0, d.record, [&] { Queue(d); }), 0);
  EXPECT_EQ(d.record.runs, 1);
  EXPECT_EQ(d.record.processor, 0);
}

TEST(DpcProcessing, WaitUntilQuiescentWaitsForQueuedDpcs) {
  constexpr int kChain = 4;
  Machine m({.processors = 2, .clock_tick = kNoClockTick});
  RecordedDpc slow, chained;
  WithImportance(slow, LowImportance);
  TargetedAt(slow, 1);
  slow.record.then = [](PKDPC) { KeStallExecutionProcessor(20'000); };
  chained.record.then = [&](PKDPC dpc) {
    KeStallExecutionProcessor(1'000);
    if (chained.record.runs < kChain) KeInsertQueueDpc(dpc, nullptr, nullptr);
  };
  Queue(slow);
  Queue(chained);
  m.wait_until_quiescent();
  EXPECT_EQ(slow.record.finished, 1);
  EXPECT_EQ(chained.record.finished, kChain);
}

// ================================================================================================
// KeFlushQueuedDpcs
// ================================================================================================

// DPCs queued for a processor kept busy at PASSIVE_LEVEL (Low and Medium: no processing request
// from the test thread), for an idle one, and from the flushing processor itself; each routine
// stalls, so that "finished" means more than "started".
struct FlushScenario {
  explicit FlushScenario(Machine& m) : busy(m, 1) {
    for (RecordedDpc* d : all()) d->record.then = [](PKDPC) { KeStallExecutionProcessor(2'000); };
    WithImportance(TargetedAt(low_for_busy, 1), LowImportance);
    TargetedAt(medium_for_busy, 1);
    WithImportance(TargetedAt(low_for_idle, 2), LowImportance);
    WithImportance(low_for_0, LowImportance);
  }
  std::vector<RecordedDpc*> all() { return {&low_for_busy, &medium_for_busy, &low_for_idle, &low_for_0}; }
  void queue_all() {
    for (RecordedDpc* d : all()) Queue(*d);
  }
  // How many of them had finished (read by the flushing thread right after the flush).
  int finished() {
    int count = 0;
    for (RecordedDpc* d : all()) count += d->record.finished;
    return count;
  }

  BusyProcessor busy;
  RecordedDpc low_for_busy, medium_for_busy, low_for_idle, low_for_0;
};

TEST(KeFlushQueuedDpcs, FromTheTestThreadReturnsOnceEveryQueuedDpcHasFinished) {
  Machine m({.processors = 3, .clock_tick = kNoClockTick, .dpc_queue_depth_limit = 1000});
  FlushScenario s(m);
  // Processor 0 is kept busy too, so the test thread's DPC for it runs only because of the flush.
  BusyProcessor busy0(m, 0);
  s.queue_all();
  KeFlushQueuedDpcs();
  EXPECT_EQ(s.finished(), 4);
  busy0.release();
  s.busy.release();
  m.wait_until_quiescent();
  EXPECT_EQ(s.finished(), 4) << "a flushed DPC ran again";
}

TEST(KeFlushQueuedDpcs, FromAProcessorReturnsOnceEveryQueuedDpcHasFinished) {
  Machine m({.processors = 3, .clock_tick = kNoClockTick, .dpc_queue_depth_limit = 1000});
  FlushScenario s(m);
  const int finished_after_flush = m.run_on(0, [&] {
    s.queue_all();  // low_for_0 is for this processor, which does not process a Low DPC by itself
    KeFlushQueuedDpcs();
    return s.finished();
  });
  EXPECT_EQ(finished_after_flush, 4);
  EXPECT_EQ(s.low_for_0.record.processor, 0);
  EXPECT_EQ(s.low_for_busy.record.processor, 1);
  s.busy.release();
  m.wait_until_quiescent();
}

TEST(KeFlushQueuedDpcs, WaitsForADpcThatIsRunningWhenItIsCalled) {
  Machine m({.processors = 2});
  RecordedDpc d;
  Gate running;
  Gate flushing;
  d.record.then = [&](PKDPC) {
    running.open();
    flushing.wait();
    KeStallExecutionProcessor(20'000);  // time enough for a flush that does not wait to return
  };
  TargetedAt(d, 1);
  Queue(d);
  running.wait();
  flushing.open();
  KeFlushQueuedDpcs();
  EXPECT_EQ(d.record.finished, 1);
}

TEST(KeFlushQueuedDpcs, DoesNotWaitForDpcsQueuedAfterTheCall) {
  Machine m({.processors = 2});
  RecordedDpc d;
  std::atomic<bool> stop{false};
  // Queues itself again at every run until told to stop: a flush that waited for these later
  // queuings would never return.
  d.record.then = [&](PKDPC dpc) {
    if (!stop) KeInsertQueueDpc(dpc, nullptr, nullptr);
  };
  TargetedAt(d, 1);
  Queue(d);
  KeFlushQueuedDpcs();
  EXPECT_GE(d.record.finished, 1);
  stop = true;
  m.wait_until_quiescent();
}

TEST(KeFlushQueuedDpcs, ReturnsAtOnceWhenNothingIsQueued) {
  Machine m({.processors = 2});
  KeFlushQueuedDpcs();
  m.run_on(1, [] { KeFlushQueuedDpcs(); });
  m.wait_until_quiescent();
}

// ================================================================================================
// IoInitializeDpcRequest / IoRequestDpc
// ================================================================================================

// The driver's device extension: what its ISR and DpcForIsr routine saw.
struct DeviceExtension {
  std::atomic<int> isr_runs{0};
  std::atomic<int> isr_processor{-1};
  std::atomic<bool> in_isr{false};
  PVOID request_context = nullptr;  // what the ISR passes to IoRequestDpc

  std::atomic<int> dpc_runs{0};
  std::atomic<PKDPC> dpc{nullptr};
  std::atomic<PDEVICE_OBJECT> device{nullptr};
  std::atomic<struct _IRP*> irp{nullptr};
  std::atomic<PVOID> context{nullptr};
  std::atomic<int> dpc_irql{-1};
  std::atomic<int> dpc_processor{-1};
  std::atomic<bool> dpc_ran_inside_isr{false};
};

VOID RecordingDpcForIsr(PKDPC dpc, PDEVICE_OBJECT device, struct _IRP* irp, PVOID context) {
  auto& extension = *static_cast<DeviceExtension*>(device->DeviceExtension);
  extension.dpc = dpc;
  extension.device = device;
  extension.irp = irp;
  extension.context = context;
  extension.dpc_irql = KeGetCurrentIrql();
  extension.dpc_processor = static_cast<int>(KeGetCurrentProcessorNumber());
  if (extension.in_isr) extension.dpc_ran_inside_isr = true;
  extension.dpc_runs.fetch_add(1);
}

struct _IRP* FakeIrp(std::uintptr_t value) { return reinterpret_cast<struct _IRP*>(value); }

// A functional device object with its extension and a DpcForIsr routine, as AddDevice would set
// it up. Create it after the Machine.
struct TestDevice {
  TestDevice() {
    object.DeviceExtension = &extension;
    IoInitializeDpcRequest(&object, RecordingDpcForIsr);
  }
  TestDevice(const TestDevice&) = delete;
  TestDevice& operator=(const TestDevice&) = delete;

  DEVICE_OBJECT object{};
  DeviceExtension extension;
};

// The ISR of TestDevice (ServiceContext = the device object): requests the DpcForIsr.
BOOLEAN RequestingIsr(PKINTERRUPT, PVOID context) {
  auto* device = static_cast<PDEVICE_OBJECT>(context);
  auto& extension = *static_cast<DeviceExtension*>(device->DeviceExtension);
  extension.in_isr = true;
  extension.isr_processor = static_cast<int>(KeGetCurrentProcessorNumber());
  extension.isr_runs.fetch_add(1);
  IoRequestDpc(device, FakeIrp(0x1F1F), extension.request_context);
  extension.in_isr = false;
  return TRUE;
}

TEST(IoInitializeDpcRequest, InitializesTheDevicesDpcWithTheDeviceAsContext) {
  Machine m({.processors = 2});
  TestDevice device;
  EXPECT_EQ(device.object.Dpc.Type, 0x13);
  EXPECT_EQ(device.object.Dpc.Importance, MediumImportance);
  EXPECT_EQ(device.object.Dpc.DeferredContext, &device.object);
  EXPECT_EQ(device.object.DpcForIsrRoutine, &RecordingDpcForIsr);
}

TEST(IoRequestDpc, TheDpcForIsrGetsTheDeviceTheIrpAndTheContext) {
  Machine m({.processors = 2});
  TestDevice device;
  IoRequestDpc(&device.object, FakeIrp(0x1F1F), kArgument2);
  m.wait_until_quiescent();
  const DeviceExtension& seen = device.extension;
  EXPECT_EQ(seen.dpc_runs, 1);
  EXPECT_EQ(seen.dpc, &device.object.Dpc);
  EXPECT_EQ(seen.device, &device.object);
  EXPECT_EQ(seen.irp, FakeIrp(0x1F1F));
  EXPECT_EQ(seen.context, kArgument2);
  EXPECT_EQ(seen.dpc_irql, DISPATCH_LEVEL);
}

TEST(IoRequestDpc, ARequestWhileTheDpcIsQueuedIsMergedWithIt) {
  Machine m({.processors = 2});
  TestDevice device;
  AtDispatchOn(m, 1, [&] {
    IoRequestDpc(&device.object, FakeIrp(0x1F1F), kArgument1);
    IoRequestDpc(&device.object, FakeIrp(0x2F2F), kArgument2);
  });
  m.wait_until_quiescent();
  EXPECT_EQ(device.extension.dpc_runs, 1);
  EXPECT_EQ(device.extension.irp, FakeIrp(0x1F1F));
  EXPECT_EQ(device.extension.context, kArgument1);
}

TEST(IoRequestDpc, FromAnIsrThatInterruptedDispatchLevelCodeRunsOnceThatCodeLowersItsIrql) {
  constexpr ULONG kVector = 0x62;
  Machine m({.processors = 2});
  TestDevice device;
  PKINTERRUPT object = ConnectLatched(RequestingIsr, &device.object, kVector, 5, 5, 0b10);
  Gate raised;
  std::atomic<int> dpc_runs_at_dispatch{-1};
  std::atomic<int> dpc_runs_after_lowering{-1};
  m.post(1, [&] {
    const KIRQL old = RaiseTo(DISPATCH_LEVEL);  // as code holding a spin lock would be
    raised.open();
    for (int i = 0; i < kMaxStalls && device.extension.isr_runs == 0; ++i) KeStallExecutionProcessor(100);
    dpc_runs_at_dispatch = device.extension.dpc_runs.load();
    KeLowerIrql(old);
    dpc_runs_after_lowering = device.extension.dpc_runs.load();
  });
  raised.wait();
  m.pulse(kVector);
  m.wait_until_quiescent();
  EXPECT_EQ(device.extension.isr_runs, 1);
  EXPECT_EQ(dpc_runs_at_dispatch, 0);
  EXPECT_EQ(dpc_runs_after_lowering, 1);
  EXPECT_EQ(device.extension.dpc_processor, 1);
  IoDisconnectInterrupt(object);
}

TEST(IoRequestDpc, FromAnIsrRunsTheDpcForIsrAfterItAtDispatchLevelOnTheSameProcessor) {
  constexpr ULONG kVector = 0x61;
  constexpr int kPulses = 20;
  Machine m({.processors = 3, .delivery = irqsim::DeliveryPolicy::RoundRobin});
  TestDevice device;
  device.extension.request_context = kArgument1;
  PKINTERRUPT object = ConnectLatched(RequestingIsr, &device.object, kVector, 5, 5, 0b110);
  std::uint64_t dpc_processors = 0;
  for (int i = 1; i <= kPulses; ++i) {
    m.pulse(kVector);  // one at a time, so that no edge merges with a pending one
    m.wait_until_quiescent();
    const DeviceExtension& seen = device.extension;
    ASSERT_EQ(seen.isr_runs, i);
    ASSERT_EQ(seen.dpc_runs, i);
    EXPECT_EQ(seen.dpc_processor, seen.isr_processor) << "pulse " << i;
    EXPECT_EQ(seen.dpc_irql, DISPATCH_LEVEL);
    dpc_processors |= std::uint64_t{1} << seen.dpc_processor;
  }
  EXPECT_EQ(dpc_processors, 0b110u) << "the interrupt went to both processors of its affinity";
  EXPECT_FALSE(device.extension.dpc_ran_inside_isr);
  EXPECT_EQ(device.extension.irp, FakeIrp(0x1F1F));
  EXPECT_EQ(device.extension.context, kArgument1);
  IoDisconnectInterrupt(object);
}

// ================================================================================================
// Bug checks
// ================================================================================================

TEST(DpcBugChecks, QueuingAnUninitializedDpcBugChecks0xC7) {
  Machine m({.processors = 2});
  KDPC zeroed{};
  EXPECT_THAT(bug_check_from([&] { KeInsertQueueDpc(&zeroed, nullptr, nullptr); }),
              Optional(AllOf(IsBugCheck(bugcheck::kTimerOrDpcInvalid),
                             HasParameters({1, AddressOf(&zeroed), 0, 0}), OnTestThread(),
                             RuleMentions("KeInsertQueueDpc"))));
}

TEST(DpcBugChecks, QueuingAGarbageDpcOnAProcessorBugChecks0xC7) {
  Machine m({.processors = 2});
  KDPC garbage;
  std::memset(&garbage, 0xCD, sizeof garbage);
  EXPECT_THAT(BugCheckOn(m, 1, [&] { KeInsertQueueDpc(&garbage, nullptr, nullptr); }),
              Optional(AllOf(IsBugCheck(bugcheck::kTimerOrDpcInvalid), HasParameter(0, 1),
                             HasParameter(1, AddressOf(&garbage)), OnProcessor(1))));
}

TEST(DpcBugChecks, ANullDpcPointerBugChecks0x50AtPassiveLevel) {
  Machine m({.processors = 2});
  EXPECT_THAT(bug_check_from([] { KeInsertQueueDpc(nullptr, nullptr, nullptr); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, 0), OnTestThread(),
                             AtIrql(PASSIVE_LEVEL), RuleMentions("KeInsertQueueDpc"))));
}

TEST(DpcBugChecks, ANullDpcPointerBugChecks0xAAtDispatchLevel) {
  Machine m({.processors = 2});
  EXPECT_THAT(BugCheckOn(m, 1,
                         [] {
                           RaiseTo(DISPATCH_LEVEL);
                           KeInsertQueueDpc(nullptr, nullptr, nullptr);
                         }),
              Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), HasParameter(0, 0),
                             HasParameter(1, DISPATCH_LEVEL), OnProcessor(1), AtIrql(DISPATCH_LEVEL))));
}

TEST(DpcBugChecks, FlushingFromADpcRoutineBugChecks0xB8) {
  Machine m({.processors = 2});
  RecordedDpc d;
  TargetedAt(d, 1);
  d.record.then = [](PKDPC) { KeFlushQueuedDpcs(); };
  EXPECT_THAT(bug_check_from([&] {
                Queue(d);
                m.wait_until_quiescent();
              }),
              Optional(AllOf(IsBugCheck(bugcheck::kAttemptedSwitchFromDpc), OnProcessor(1),
                             AtIrql(DISPATCH_LEVEL), RuleMentions("KeFlushQueuedDpcs"))));
  EXPECT_EQ(d.record.finished, 0);
}

TEST(DpcBugChecks, FlushingAtDispatchLevelOnAProcessorBugChecks0xA) {
  Machine m({.processors = 2});
  EXPECT_THAT(BugCheckOn(m, 1,
                         [] {
                           RaiseTo(DISPATCH_LEVEL);
                           KeFlushQueuedDpcs();
                         }),
              Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), HasParameter(0, KeFlushQueuedDpcsAddress()),
                             HasParameter(1, DISPATCH_LEVEL), OnProcessor(1), AtIrql(DISPATCH_LEVEL),
                             RuleMentions("KeFlushQueuedDpcs"))));
}

TEST(DpcBugChecks, FlushingAtApcLevelOnTheTestThreadBugChecks0xA) {
  Machine m({.processors = 2});
  const auto report = bug_check_from([] {
    RaiseTo(APC_LEVEL);
    KeFlushQueuedDpcs();
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), HasParameter(1, APC_LEVEL),
                                     OnTestThread(), RuleMentions("KeFlushQueuedDpcs"))));
}

TEST(DpcBugChecks, ARoutineReturningAtARaisedIrqlBugChecks0xC8) {
  constexpr KIRQL kRaisedTo = 7;
  Machine m({.processors = 2});
  RecordedDpc d;
  TargetedAt(d, 1);
  d.record.then = [](PKDPC) { RaiseTo(kRaisedTo); };
  const auto report = bug_check_from([&] {
    Queue(d);
    m.wait_until_quiescent();
  });
  // P1 = (IRQL returned at << 16) | (DISPATCH_LEVEL << 8) | 4 (after a DPC routine).
  constexpr std::uint64_t kExpectedP1 = (std::uint64_t{kRaisedTo} << 16) | (std::uint64_t{DISPATCH_LEVEL} << 8) | 4;
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlUnexpectedValue), HasParameter(0, kExpectedP1),
                                     HasParameter(1, RecordingDpcAddress()), HasParameter(2, AddressOf(&d.dpc)),
                                     OnProcessor(1), AtIrql(kRaisedTo))));
  EXPECT_EQ(d.record.finished, 1);
}

VOID RaisingDpcForIsr(PKDPC, PDEVICE_OBJECT, struct _IRP*, PVOID) { RaiseTo(HIGH_LEVEL); }

TEST(DpcBugChecks, ADpcForIsrReturningAtARaisedIrqlBugChecks0xC8NamingTheDriversRoutine) {
  Machine m({.processors = 2});
  DEVICE_OBJECT device{};
  IoInitializeDpcRequest(&device, RaisingDpcForIsr);
  const auto report = bug_check_from([&] {
    IoRequestDpc(&device, nullptr, nullptr);
    m.wait_until_quiescent();
  });
  constexpr std::uint64_t kExpectedP1 = (std::uint64_t{HIGH_LEVEL} << 16) | (std::uint64_t{DISPATCH_LEVEL} << 8) | 4;
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlUnexpectedValue), HasParameter(0, kExpectedP1),
                                     HasParameter(1, reinterpret_cast<std::uintptr_t>(&RaisingDpcForIsr)),
                                     HasParameter(2, AddressOf(&device.Dpc)))));
}

TEST(DpcBugChecks, ARoutineLoweringBelowDispatchLevelBugChecks0xC4_31) {
  Machine m({.processors = 2});
  RecordedDpc d;
  TargetedAt(d, 1);
  d.record.then = [](PKDPC) { KeLowerIrql(PASSIVE_LEVEL); };
  const auto report = bug_check_from([&] {
    Queue(d);
    m.wait_until_quiescent();
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kVerifierLowerToHigherIrql),
                                     HasParameters({bugcheck::kVerifierLowerToHigherIrql, DISPATCH_LEVEL,
                                                    PASSIVE_LEVEL, 1}),
                                     OnProcessor(1), AtIrql(DISPATCH_LEVEL), RuleMentions("KeLowerIrql"))));
  EXPECT_EQ(d.record.finished, 0);
}

TEST(DpcBugChecks, RunningADpcWithANullRoutineBugChecks0xD1) {
  Machine m({.processors = 2});
  KDPC dpc{};
  KeInitializeDpc(&dpc, nullptr, nullptr);  // accepted: the fault happens when it runs
  // Medium importance for its own processor: it runs when the insert returns.
  const auto report = BugCheckOn(m, 1, [&] { KeInsertQueueDpc(&dpc, nullptr, nullptr); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kDriverIrqlNotLessOrEqual),
                                     HasParameters({0, DISPATCH_LEVEL, 8, AddressOf(&dpc)}), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL))));
}

TEST(DpcBugChecks, RunningADpcForIsrWithANullRoutineBugChecks0xD1) {
  Machine m({.processors = 2});
  DEVICE_OBJECT device{};
  IoInitializeDpcRequest(&device, nullptr);
  const auto report = BugCheckOn(m, 1, [&] { IoRequestDpc(&device, nullptr, nullptr); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kDriverIrqlNotLessOrEqual),
                                     HasParameters({0, DISPATCH_LEVEL, 8, AddressOf(&device.Dpc)}), OnProcessor(1))));
}

TEST(DpcBugChecks, ADpcTargetedOnALargerMachineBugChecks0xC7) {
  KDPC dpc{};
  {
    Machine larger({.processors = 4});
    KeInitializeDpc(&dpc, RecordingDpc, nullptr);
    KeSetTargetProcessorDpc(&dpc, 3);
  }
  Machine m({.processors = 2});
  EXPECT_THAT(bug_check_from([&] { KeInsertQueueDpc(&dpc, nullptr, nullptr); }),
              Optional(AllOf(IsBugCheck(bugcheck::kTimerOrDpcInvalid), HasParameters({1, AddressOf(&dpc), 0, 0}))));
}

}  // namespace
