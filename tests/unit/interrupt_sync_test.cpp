// IInterruptSync and PcNewInterruptSync: the service routines port class calls for one interrupt
// of a device's resource list (the three modes, list order, registration while connected), the
// critical section CallSynchronizedRoutine and KeSynchronizeExecution share with them, connecting
// and disconnecting (also while the device keeps interrupting), argument and IRQL checks,
// IUnknown, and that every object and its hold on the resource list go away with the last Release.

#include <portcls.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <irqsim/device.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "driver_test_support.hpp"

namespace {

using irqsim::Device;
using irqsim::Machine;
using irqsim::Trigger;
using irqsim::VectorStats;
using namespace irqsim_test;

// A success code that is not STATUS_SUCCESS, so it must not count as "serviced".
constexpr NTSTATUS kStatusPending = STATUS_PENDING;
constexpr NTSTATUS kOk = STATUS_SUCCESS;
constexpr NTSTATUS kNo = STATUS_UNSUCCESSFUL;

constexpr std::uint32_t kVector = 0x58;
constexpr KIRQL kLevel = 6;

std::uint64_t AddressOfRoutine(PINTERRUPTSYNCROUTINE routine) { return reinterpret_cast<std::uintptr_t>(routine); }

// ---- COM references -----------------------------------------------------------------------------

// Owns one reference and releases it when the scope is left, so a failed ASSERT leaks nothing.
// Declared after the Machine, it releases before the machine goes away (the last Release of an
// interrupt sync object may disconnect it, which needs the machine).
template <class Interface>
class Ref {
 public:
  Ref() = default;
  Ref(Ref&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  Ref& operator=(Ref&&) = delete;
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() {
    if (object_ != nullptr) object_->Release();
  }

  [[nodiscard]] Interface* get() const { return object_; }
  Interface* operator->() const { return object_; }
  // Where a factory stores the new object.
  Interface** out() { return &object_; }
  // Drops the reference now and returns what Release returned.
  ULONG release() { return std::exchange(object_, nullptr)->Release(); }

 private:
  Interface* object_ = nullptr;
};

// The object's reference count, read as AddRef's answer minus the reference it added.
ULONG ReferencesOf(IUnknown* object) {
  const ULONG with_ours = object->AddRef();
  object->Release();
  return with_ours - 1;
}

// The resource list port class would hand the card's miniport at start.
Ref<IResourceList> ResourcesOf(const Device& card) {
  Ref<IResourceList> list;
  if (PcNewResourceList(list.out(), nullptr, NonPagedPool, card.translated_resources(), card.raw_resources()) !=
      STATUS_SUCCESS) {
    throw std::runtime_error("PcNewResourceList failed");
  }
  return list;
}

Ref<IInterruptSync> NewSync(IResourceList* list, ULONG index, INTERRUPTSYNCMODE mode) {
  Ref<IInterruptSync> sync;
  if (PcNewInterruptSync(sync.out(), nullptr, list, index, mode) != STATUS_SUCCESS) {
    throw std::runtime_error("PcNewInterruptSync failed");
  }
  return sync;
}

// ---- scripted service routines ------------------------------------------------------------------

// The names of the service routines called, in order, across one test's routines.
class CallLog {
 public:
  void add(char name) {
    std::lock_guard lock(mutex_);
    calls_ += name;
  }
  // The calls since the last take.
  std::string take() {
    std::lock_guard lock(mutex_);
    return std::exchange(calls_, {});
  }

 private:
  std::mutex mutex_;
  std::string calls_;
};

// A service routine whose answers the test scripts: successive calls return `script` in order,
// then `then`. It records what it saw in its last call.
struct Scripted {
  char name = '?';
  CallLog* log = nullptr;
  std::deque<NTSTATUS> script{};
  NTSTATUS then = kNo;
  PINTERRUPTSYNC seen_sync = nullptr;
  int seen_irql = -1;
  int seen_processor = -1;
  // Read while interrupts arrive.
  std::atomic<int> calls{0};
};

NTSTATUS ScriptedRoutine(PINTERRUPTSYNC sync, PVOID context) {
  auto& routine = *static_cast<Scripted*>(context);
  routine.log->add(routine.name);
  routine.calls.fetch_add(1);
  routine.seen_sync = sync;
  routine.seen_irql = KeGetCurrentIrql();
  routine.seen_processor = static_cast<int>(KeGetCurrentProcessorNumber());
  if (routine.script.empty()) return routine.then;
  const NTSTATUS status = routine.script.front();
  routine.script.pop_front();
  return status;
}

irqsim::LineInterruptConfig Line(Trigger trigger = Trigger::Latched, std::uint64_t affinity = ~std::uint64_t{0}) {
  return {.vector = kVector, .irql = kLevel, .trigger = trigger, .affinity = affinity};
}

struct RigConfig {
  INTERRUPTSYNCMODE mode = InterruptSyncModeNormal;
  irqsim::MachineConfig machine{};
  irqsim::LineInterruptConfig line = Line();
};

// A machine with an audio card on one line (latched unless configured: each pulse is one
// interrupt), its resource list and an interrupt sync object for the line, not yet connected.
struct Rig {
  explicit Rig(const RigConfig& config = {})
      : machine(config.machine),
        card(machine.plug({.name = "audio", .lines = {config.line}})),
        resources(ResourcesOf(card)),
        sync(NewSync(resources.get(), 0, config.mode)) {}

  // A scripted routine named `name`, not registered.
  Scripted& routine(char name) {
    Scripted& made = routines.emplace_back();
    made.name = name;
    made.log = &log;
    return made;
  }
  // A scripted routine named `name`, registered at the head (`first`) or the tail.
  Scripted& add(char name, BOOLEAN first = FALSE) {
    Scripted& added = routine(name);
    if (sync->RegisterServiceRoutine(ScriptedRoutine, &added, first) != STATUS_SUCCESS) {
      throw std::runtime_error("RegisterServiceRoutine failed");
    }
    return added;
  }
  // Signals one interrupt, waits until it has been handled, and returns the routines it called.
  std::string interrupt() {
    card.pulse_line();
    machine.wait_until_quiescent();
    return log.take();
  }
  [[nodiscard]] VectorStats stats() const { return machine.stats(kVector); }

  Machine machine;
  Device card;
  // The routines outlive the sync object that calls them.
  CallLog log;
  std::deque<Scripted> routines;  // a deque: registered routines must not move
  Ref<IResourceList> resources;
  Ref<IInterruptSync> sync;
};

// ================================================================================================
// Modes
// ================================================================================================

// One interrupt of a mode test: the scripts of routines A, B and C, the calls expected and
// whether the ISR claims the interrupt.
struct Interrupt {
  std::vector<std::deque<NTSTATUS>> scripts;
  std::string calls;
  bool claimed;
};

// Registers A, B and C in that order in `mode`, connects, and checks each interrupt's calls and
// how the machine counted it.
void ExpectInterrupts(INTERRUPTSYNCMODE mode, const std::vector<Interrupt>& interrupts) {
  Rig rig({.mode = mode});
  for (const char name : {'A', 'B', 'C'}) rig.add(name);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  for (std::size_t i = 0; i < interrupts.size(); ++i) {
    const Interrupt& expected = interrupts[i];
    SCOPED_TRACE(::testing::Message() << "interrupt " << i << ", expecting calls " << expected.calls);
    for (std::size_t r = 0; r < expected.scripts.size(); ++r) rig.routines[r].script = expected.scripts[r];
    const VectorStats before = rig.stats();
    EXPECT_EQ(rig.interrupt(), expected.calls);
    const VectorStats after = rig.stats();
    EXPECT_EQ(after.deliveries - before.deliveries, 1u);
    EXPECT_EQ(after.claimed - before.claimed, expected.claimed ? 1u : 0u);
    EXPECT_EQ(after.unclaimed - before.unclaimed, expected.claimed ? 0u : 1u);
  }
  rig.sync->Disconnect();
}

TEST(InterruptSyncModes, NormalCallsInOrderUntilOneReturnsExactlyStatusSuccess) {
  ExpectInterrupts(InterruptSyncModeNormal, {
                                                {{{kNo}, {kOk}, {kOk}}, "AB", true},
                                                {{{kStatusPending}, {kNo}, {kOk}}, "ABC", true},
                                                {{{kOk}, {kOk}, {kOk}}, "A", true},
                                                {{{kNo}, {kStatusPending}, {kNo}}, "ABC", false},
                                                {{{kStatusPending}, {kStatusPending}, {kStatusPending}}, "ABC", false},
                                            });
}

TEST(InterruptSyncModes, AllCallsEachRoutineOnceWhateverTheyReturn) {
  ExpectInterrupts(InterruptSyncModeAll, {
                                             {{{kNo}, {kOk}, {kStatusPending}}, "ABC", true},
                                             {{{kOk}, {kOk}, {kOk}}, "ABC", true},
                                             {{{kStatusPending}, {kNo}, {kStatusPending}}, "ABC", false},
                                             {{{kNo}, {kNo}, {kOk}}, "ABC", true},
                                             {{{kNo}, {kNo}, {kNo}}, "ABC", false},
                                         });
}

TEST(InterruptSyncModes, RepeatMakesPassesUntilOneInWhichNoRoutineReturnsStatusSuccess) {
  ExpectInterrupts(InterruptSyncModeRepeat,
                   {
                       // A has three units of work; C says "pending" first, then has one unit.
                       {{{kOk, kOk, kOk}, {kNo}, {kStatusPending, kOk}}, "ABCABCABCABC", true},
                       {{{kNo}, {kNo}, {kNo}}, "ABC", false},
                       // Pending is not "serviced": no second pass.
                       {{{kStatusPending}, {kStatusPending}, {kStatusPending}}, "ABC", false},
                       {{{kNo}, {kOk}, {kNo}}, "ABCABC", true},
                       // Work that shows up for B only in the second pass still gets a third.
                       {{{kOk}, {kNo, kOk}, {kNo}}, "ABCABCABC", true},
                   });
}

TEST(InterruptSyncModes, RoutinesRunAtTheLinesLevelOnItsProcessorsWithTheSyncObject) {
  Rig rig({.mode = InterruptSyncModeAll, .machine = {.processors = 2}, .line = Line(Trigger::Latched, 0b10)});
  Scripted& a = rig.add('A');
  Scripted& b = rig.add('B');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "AB");
  for (const Scripted* routine : {&a, &b}) {
    SCOPED_TRACE(routine->name);
    EXPECT_EQ(routine->seen_sync, rig.sync.get());
    EXPECT_EQ(routine->seen_irql, kLevel);
    EXPECT_EQ(routine->seen_processor, 1) << "the line's affinity names processor 1 only";
  }
}

TEST(InterruptSyncModes, RepeatWithARoutineThatAlwaysSucceedsIsAnInterruptStorm) {
  constexpr unsigned kThreshold = 8;
  Rig rig({.mode = InterruptSyncModeRepeat, .machine = {.storm_threshold = kThreshold}});
  Scripted& first = rig.add('A');  // never has work
  rig.add('B').then = kOk;         // always claims
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  const PKINTERRUPT object = rig.sync->GetKInterrupt();
  ASSERT_NE(object, nullptr);

  const auto report = bug_check_from([&] { rig.interrupt(); });
  // P1 and P2 name the first routine of the list and its context, not the one that kept
  // succeeding; P3 is the interrupt object, P4 = 2 a chained (port-class) ISR.
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kHardwareInterruptStorm),
                                     HasParameters({AddressOfRoutine(ScriptedRoutine), AddressOf(&first),
                                                    AddressOf(object), 2}),
                                     RuleMentions("InterruptSyncModeRepeat"))));
  std::string passes;
  for (unsigned pass = 0; pass < kThreshold; ++pass) passes += "AB";
  EXPECT_EQ(rig.log.take(), passes);

  // Cleanup after the bug check works: the ISR the halt interrupted has left service.
  rig.sync->Disconnect();
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
}

// ================================================================================================
// RegisterServiceRoutine
// ================================================================================================

TEST(InterruptSyncRegister, FirstPutsARoutineAtTheHeadAndTheRestGoToTheTail) {
  Rig rig({.mode = InterruptSyncModeAll});
  rig.add('A', FALSE);
  rig.add('B', TRUE);
  rig.add('C', FALSE);
  rig.add('D', TRUE);
  rig.add('E', FALSE);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "DBACE");
  EXPECT_EQ(rig.interrupt(), "DBACE");
}

TEST(InterruptSyncRegister, NullRoutineIsInvalidAndChangesNothing) {
  Rig rig({.mode = InterruptSyncModeAll});
  rig.add('A');
  int context = 0;
  EXPECT_EQ(rig.sync->RegisterServiceRoutine(nullptr, &context, TRUE), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(rig.sync->RegisterServiceRoutine(nullptr, nullptr, FALSE), STATUS_INVALID_PARAMETER);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "A");
}

TEST(InterruptSyncRegister, WhileConnectedTakesEffectFromTheNextInterrupt) {
  Rig rig({.mode = InterruptSyncModeAll});
  rig.add('A');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "A");
  rig.add('B', TRUE);
  EXPECT_EQ(rig.interrupt(), "BA");
  rig.add('C', FALSE);
  EXPECT_EQ(rig.interrupt(), "BAC");
  // From a processor, too.
  Scripted& d = rig.routine('D');
  EXPECT_EQ(rig.machine.run_on(1, [&] { return rig.sync->RegisterServiceRoutine(ScriptedRoutine, &d, TRUE); }),
            STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "DBAC");
}

// Routines registered at the head from a processor while the line keeps interrupting: every
// interrupt calls a whole list, the one before or after a registration, never one half changed,
// and a registration once seen stays.
TEST(InterruptSyncRegister, WhileInterruptsArriveEachInterruptSeesAWholeList) {
  Rig rig({.mode = InterruptSyncModeAll});
  Scripted& marker = rig.add('M');  // at the tail: marks the end of each interrupt's calls
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  const std::string names = "abcdefghijklmnopqrst";
  std::vector<Scripted*> late;
  for (const char name : names) late.push_back(&rig.routine(name));

  std::atomic<bool> registered{false};
  rig.machine.post(1, [&] {
    for (Scripted* routine : late) {
      if (rig.sync->RegisterServiceRoutine(ScriptedRoutine, routine, TRUE) != STATUS_SUCCESS) break;
      // An interrupt that ends after the registration returned started after the list changed:
      // wait for one, so that every list from one to all 20 late routines is seen.
      const int seen = marker.calls.load();
      while (marker.calls.load() == seen) KeStallExecutionProcessor(1);
    }
    registered = true;
  });
  while (!registered && !rig.machine.halted()) {
    rig.card.pulse_line();
    std::this_thread::yield();
  }
  rig.machine.wait_until_quiescent();
  const std::string during = rig.log.take();
  EXPECT_EQ(rig.interrupt(), std::string(names.rbegin(), names.rend()) + "M");

  std::vector<bool> list_seen(names.size() + 1, false);
  std::size_t longest = 0;
  std::size_t start = 0;
  for (std::size_t end = during.find('M'); end != std::string::npos; end = during.find('M', start)) {
    const std::string calls = during.substr(start, end - start);
    SCOPED_TRACE(::testing::Message() << "interrupt calling " << calls << "M");
    ASSERT_LE(calls.size(), names.size());
    EXPECT_EQ(calls, std::string(names.rend() - static_cast<std::ptrdiff_t>(calls.size()), names.rend()));
    EXPECT_GE(calls.size(), longest) << "a registration seen by an earlier interrupt went missing";
    longest = calls.size();
    list_seen[calls.size()] = true;
    start = end + 1;
  }
  EXPECT_EQ(start, during.size()) << "calls after the last marker: " << during.substr(start);
  for (std::size_t late_routines = 1; late_routines <= names.size(); ++late_routines) {
    EXPECT_TRUE(list_seen[late_routines]) << "no interrupt called the list with " << late_routines << " late routines";
  }
}

// ================================================================================================
// CallSynchronizedRoutine and KeSynchronizeExecution
// ================================================================================================

// What a synchronized routine saw, and the status it returns.
struct SyncProbe {
  NTSTATUS status;
  PINTERRUPTSYNC seen_sync = nullptr;
  int seen_irql = -1;
  int calls = 0;
};

NTSTATUS ProbeRoutine(PINTERRUPTSYNC sync, PVOID context) {
  auto& probe = *static_cast<SyncProbe*>(context);
  probe.seen_sync = sync;
  probe.seen_irql = KeGetCurrentIrql();
  ++probe.calls;
  return probe.status;
}

// From `caller` IRQL, calls a routine returning `status` and checks it ran once at the line's
// level, got the object, and that the status and the caller's IRQL came back.
void ExpectSynchronizedCall(PINTERRUPTSYNC sync, NTSTATUS status, KIRQL caller) {
  SyncProbe probe{status};
  const KIRQL old = RaiseTo(caller);
  EXPECT_EQ(sync->CallSynchronizedRoutine(ProbeRoutine, &probe), status);
  EXPECT_EQ(KeGetCurrentIrql(), caller);
  KeLowerIrql(old);
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(probe.seen_irql, kLevel);
  EXPECT_EQ(probe.seen_sync, sync);
}

// Every status and caller IRQL, on the test thread and on processor 1.
void ExpectSynchronizedCalls(Rig& rig) {
  for (const NTSTATUS status : {kOk, kNo, kStatusPending, STATUS_INVALID_DEVICE_STATE, STATUS_INSUFFICIENT_RESOURCES,
                                NTSTATUS{0x40000000}}) {
    for (const KIRQL caller : {KIRQL{PASSIVE_LEVEL}, KIRQL{APC_LEVEL}, KIRQL{DISPATCH_LEVEL}, KIRQL{kLevel - 1}, kLevel}) {
      SCOPED_TRACE(::testing::Message() << "status " << std::hex << status << std::dec << ", caller IRQL "
                                        << int{caller});
      ExpectSynchronizedCall(rig.sync.get(), status, caller);
      rig.machine.run_on(1, [&] { ExpectSynchronizedCall(rig.sync.get(), status, caller); });
    }
  }
}

TEST(InterruptSyncCallSynchronizedRoutine, ReturnsTheRoutinesStatusBeforeConnectWhileConnectedAndAfterDisconnect) {
  Rig rig;
  rig.add('A');
  {
    SCOPED_TRACE("before Connect");
    ExpectSynchronizedCalls(rig);
  }
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  {
    SCOPED_TRACE("connected");
    ExpectSynchronizedCalls(rig);
  }
  rig.sync->Disconnect();
  {
    SCOPED_TRACE("after Disconnect");
    ExpectSynchronizedCalls(rig);
  }
  EXPECT_EQ(rig.log.take(), "") << "synchronized calls must not call the service routines";
}

TEST(InterruptSyncCallSynchronizedRoutine, NullRoutineIsInvalid) {
  Rig rig;
  rig.add('A');
  int context = 0;
  EXPECT_EQ(rig.sync->CallSynchronizedRoutine(nullptr, &context), STATUS_INVALID_PARAMETER);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.machine.run_on(1, [&] { return rig.sync->CallSynchronizedRoutine(nullptr, nullptr); }),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST(InterruptSyncCallSynchronizedRoutine, AboveTheInterruptsLevelBugChecks0x9) {
  Rig rig;
  rig.add('A');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  SyncProbe probe{kOk};
  const auto report = BugCheckOn(rig.machine, 1, [&] {
    RaiseTo(kLevel + 1);
    rig.sync->CallSynchronizedRoutine(ProbeRoutine, &probe);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotGreaterOrEqual), HasParameter(0, kLevel + 1),
                                     HasParameter(1, kLevel), OnProcessor(1), AtIrql(kLevel + 1),
                                     RuleMentions("CallSynchronizedRoutine"))));
  EXPECT_EQ(probe.calls, 0);
}

// Counts the routines inside the interrupt's critical section at once: service routines,
// CallSynchronizedRoutine's and KeSynchronizeExecution's. Whoever enters second while another is
// still inside sees the count above zero.
struct CriticalSection {
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> service_runs{0};
  std::atomic<int> synchronized_runs{0};

  void occupy() {
    if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
    KeStallExecutionProcessor(2);  // long enough for another processor to try to get in
    inside.fetch_sub(1);
  }
};

NTSTATUS OccupyAsServiceRoutine(PINTERRUPTSYNC, PVOID context) {
  auto& section = *static_cast<CriticalSection*>(context);
  section.occupy();
  section.service_runs.fetch_add(1);
  return kOk;
}

NTSTATUS OccupyAsSynchronizedRoutine(PINTERRUPTSYNC, PVOID context) {
  auto& section = *static_cast<CriticalSection*>(context);
  section.occupy();
  section.synchronized_runs.fetch_add(1);
  return kStatusPending;
}

BOOLEAN OccupyFromKeSynchronizeExecution(PVOID context) {
  auto& section = *static_cast<CriticalSection*>(context);
  section.occupy();
  section.synchronized_runs.fetch_add(1);
  return TRUE;
}

// Adds one to a counter when the scope is left, however it is left.
class CountOnExit {
 public:
  explicit CountOnExit(std::atomic<int>& count) : count_(count) {}
  ~CountOnExit() { count_.fetch_add(1); }
  CountOnExit(const CountOnExit&) = delete;
  CountOnExit& operator=(const CountOnExit&) = delete;

 private:
  std::atomic<int>& count_;
};

TEST(InterruptSyncCallSynchronizedRoutine, ExcludesTheServiceRoutinesAndKeSynchronizeExecutionUnderContention) {
  constexpr int kCalls = 300;
  constexpr int kServiceRuns = 100;
  Rig rig({.machine = {.processors = 3}});
  CriticalSection section;
  ASSERT_EQ(rig.sync->RegisterServiceRoutine(OccupyAsServiceRoutine, &section, FALSE), STATUS_SUCCESS);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  const PKINTERRUPT object = rig.sync->GetKInterrupt();

  // Each worker keeps going until it made its calls and the service routine ran often enough, so
  // the interrupt certainly competed with it.
  const auto busy = [&](int i) { return i < kCalls || section.service_runs.load() < kServiceRuns; };
  std::atomic<int> finished{0};
  std::atomic<int> wrong_status{0};
  for (const unsigned processor : {0u, 1u}) {
    rig.machine.post(processor, [&] {
      const CountOnExit done(finished);
      for (int i = 0; busy(i); ++i) {
        if (rig.sync->CallSynchronizedRoutine(OccupyAsSynchronizedRoutine, &section) != kStatusPending) {
          wrong_status.fetch_add(1);
        }
      }
    });
  }
  rig.machine.post(2, [&] {
    const CountOnExit done(finished);
    for (int i = 0; busy(i); ++i) {
      if (KeSynchronizeExecution(object, OccupyFromKeSynchronizeExecution, &section) != TRUE) wrong_status.fetch_add(1);
    }
  });
  while (finished < 3 && !rig.machine.halted()) {
    rig.card.pulse_line();
    std::this_thread::yield();
  }
  rig.machine.wait_until_quiescent();

  EXPECT_EQ(section.overlaps.load(), 0);
  EXPECT_EQ(wrong_status.load(), 0);
  EXPECT_GE(section.service_runs.load(), kServiceRuns);
  EXPECT_GE(section.synchronized_runs.load(), 3 * kCalls);
  rig.sync->Disconnect();
}

// A synchronized routine that returns the status its caller put in the context.
NTSTATUS ReturnCallersStatus(PINTERRUPTSYNC, PVOID context) {
  KeStallExecutionProcessor(1);
  return *static_cast<const NTSTATUS*>(context);
}

// Calls ReturnCallersStatus with statuses `base`, `base` + 1, ... and counts the answers that were
// not the caller's own.
int CountForeignStatuses(PINTERRUPTSYNC sync, NTSTATUS base, int calls) {
  int foreign = 0;
  for (int i = 0; i < calls; ++i) {
    NTSTATUS mine = base + i;
    if (sync->CallSynchronizedRoutine(ReturnCallersStatus, &mine) != mine) ++foreign;
  }
  return foreign;
}

TEST(InterruptSyncCallSynchronizedRoutine, ConcurrentCallersEachGetTheirOwnRoutinesStatus) {
  constexpr int kCalls = 2000;
  Rig rig({.machine = {.processors = 2}});
  rig.add('A');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  Gate start;
  const OpenOnExit release_workers(start);
  std::atomic<int> foreign_on_processors{0};
  for (const unsigned processor : {0u, 1u}) {
    rig.machine.post(processor, [&, processor] {
      start.wait();
      const auto base = static_cast<NTSTATUS>(0x10000000 * (processor + 1));
      foreign_on_processors.fetch_add(CountForeignStatuses(rig.sync.get(), base, kCalls));
    });
  }
  start.open();
  EXPECT_EQ(CountForeignStatuses(rig.sync.get(), 0x30000000, kCalls), 0);
  rig.machine.wait_until_quiescent();
  EXPECT_EQ(foreign_on_processors.load(), 0);
  rig.sync->Disconnect();
}

// ================================================================================================
// GetKInterrupt, Connect and Disconnect
// ================================================================================================

TEST(InterruptSyncConnection, GetKInterruptIsTheConnectedObjectAndNullOtherwise) {
  Rig rig({.machine = {.processors = 2}, .line = Line(Trigger::Latched, 0b10)});
  rig.add('A');
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  const PKINTERRUPT object = rig.sync->GetKInterrupt();
  ASSERT_NE(object, nullptr);
  // Any IRQL, any processor.
  EXPECT_EQ(rig.machine.run_on(0, [&] {
    const KIRQL old = RaiseTo(HIGH_LEVEL);
    const PKINTERRUPT seen = rig.sync->GetKInterrupt();
    KeLowerIrql(old);
    return seen;
  }),
            object);

  GROUP_AFFINITY affinity{};
  EXPECT_EQ(IoGetAffinityInterrupt(object, &affinity), STATUS_SUCCESS);
  EXPECT_EQ(affinity.Group, 0);
  EXPECT_EQ(affinity.Mask, KAFFINITY{0b10}) << "the translated descriptor's affinity";
  EXPECT_EQ(rig.interrupt(), "A");

  rig.sync->Disconnect();
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_NE(rig.sync->GetKInterrupt(), nullptr);
  rig.sync->Disconnect();
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
}

TEST(InterruptSyncConnection, ConnectWithoutAServiceRoutineIsUnsuccessful) {
  Rig rig;
  EXPECT_EQ(rig.sync->Connect(), STATUS_UNSUCCESSFUL);
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
  rig.card.pulse_line();
  rig.machine.wait_until_quiescent();
  EXPECT_EQ(rig.stats().deliveries, 0u) << "nothing may be connected";
  EXPECT_EQ(rig.stats().dropped, 1u) << "an unprogrammed vector ignores the edge";
  // Nothing of the failed Connect is left in the way of a good one.
  rig.add('A');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  rig.machine.wait_until_quiescent();
  EXPECT_EQ(rig.log.take(), "");
  rig.card.pulse_line();
  rig.machine.wait_until_quiescent();
  EXPECT_EQ(rig.log.take(), "A");
  rig.sync->Disconnect();
}

TEST(InterruptSyncConnection, ConnectingTwiceIsAnInvalidStateAndKeepsOneConnection) {
  Rig rig;
  rig.add('A');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  const PKINTERRUPT object = rig.sync->GetKInterrupt();
  EXPECT_EQ(rig.sync->Connect(), STATUS_INVALID_DEVICE_STATE);
  EXPECT_EQ(rig.machine.run_on(1, [&] { return rig.sync->Connect(); }), STATUS_INVALID_DEVICE_STATE);
  EXPECT_EQ(rig.sync->GetKInterrupt(), object);
  EXPECT_EQ(rig.interrupt(), "A") << "a second connection would call the routine twice";
  rig.sync->Disconnect();
  EXPECT_EQ(rig.interrupt(), "") << "a second connection would survive the Disconnect";
  EXPECT_EQ(rig.stats().deliveries, 1u);
}

TEST(InterruptSyncConnection, DisconnectWhenNotConnectedDoesNothing) {
  Rig rig;
  rig.add('A');
  rig.sync->Disconnect();
  rig.machine.run_on(1, [&] { rig.sync->Disconnect(); });
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "A");
  rig.sync->Disconnect();
  rig.sync->Disconnect();
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "A");
  rig.sync->Disconnect();
}

BOOLEAN DeclineIsr(PKINTERRUPT, PVOID) { return FALSE; }

TEST(InterruptSyncConnection, ConnectReturnsIoConnectInterruptsFailure) {
  Rig rig;
  rig.add('A');
  // Another driver holds the vector exclusively.
  IsrRecord record;
  PKINTERRUPT other = ConnectLatched(RecordingIsr, &record, kVector, kLevel, kLevel);
  EXPECT_EQ(rig.sync->Connect(), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(rig.sync->GetKInterrupt(), nullptr);
  IoDisconnectInterrupt(other);
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(rig.interrupt(), "A");
  rig.sync->Disconnect();
  EXPECT_EQ(record.runs.load(), 0);
}

// Another ISR tries to join the sync object's vector with `mode` and sharing; true if it could.
bool AnotherIsrCanJoin(KINTERRUPT_MODE mode) {
  PKINTERRUPT other = nullptr;
  const NTSTATUS status =
      IoConnectInterrupt(&other, DeclineIsr, nullptr, nullptr, kVector, kLevel, kLevel, mode, TRUE, ~KAFFINITY{0}, FALSE);
  if (status != STATUS_SUCCESS) return false;
  IoDisconnectInterrupt(other);
  return true;
}

TEST(InterruptSyncConnection, ConnectTakesTheTriggerModeAndSharingFromTheDescriptor) {
  for (const Trigger trigger : {Trigger::Level, Trigger::Latched}) {
    for (const bool shareable : {true, false}) {
      SCOPED_TRACE(::testing::Message() << (trigger == Trigger::Level ? "level" : "latched") << ", "
                                        << (shareable ? "shared" : "exclusive"));
      irqsim::LineInterruptConfig line = Line(trigger);
      line.shareable = shareable;
      Rig rig({.line = line});
      rig.add('A');
      ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
      const KINTERRUPT_MODE same = trigger == Trigger::Level ? LevelSensitive : Latched;
      const KINTERRUPT_MODE other = trigger == Trigger::Level ? Latched : LevelSensitive;
      EXPECT_EQ(AnotherIsrCanJoin(same), shareable);
      EXPECT_FALSE(AnotherIsrCanJoin(other));
      rig.sync->Disconnect();
    }
  }
}

// A level-triggered device that keeps finding work for its driver. raise() is the hardware: one
// unit of work, then the line. The service routine acknowledges by deasserting the line before
// taking the work, so work raised meanwhile asserts the line again and is never lost.
struct BusyDevice {
  Device card;
  std::atomic<bool> work{false};
  std::atomic<long> raised{0};
  std::atomic<long> serviced{0};
  std::atomic<long> calls{0};
  // Set by the test from just before Connect until Disconnect has returned.
  std::atomic<bool> connected{false};
  std::atomic<long> calls_while_disconnected{0};

  void raise_if_idle() {
    if (work.load()) return;
    work = true;
    raised.fetch_add(1);
    card.assert_line();
  }
};

NTSTATUS ServiceBusyDevice(PINTERRUPTSYNC, PVOID context) {
  auto& device = *static_cast<BusyDevice*>(context);
  device.calls.fetch_add(1);
  if (!device.connected) device.calls_while_disconnected.fetch_add(1);
  device.card.deassert_line();
  if (!device.work.exchange(false)) return kNo;
  device.serviced.fetch_add(1);
  return kOk;
}

TEST(InterruptSyncConnection, ConnectDisconnectCyclesWhileTheDeviceKeepsInterruptingLoseAndAddNoCalls) {
  constexpr int kCycles = 50;
  Rig rig({.machine = {.processors = 2}, .line = Line(Trigger::Level)});
  BusyDevice device{rig.card};
  ASSERT_EQ(rig.sync->RegisterServiceRoutine(ServiceBusyDevice, &device, FALSE), STATUS_SUCCESS);

  std::jthread hardware([&device](const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      device.raise_if_idle();
      std::this_thread::yield();
    }
  });
  // Odd cycles connect and disconnect from processor 1, even ones from the test thread.
  const auto connect = [&](int cycle) {
    return cycle % 2 == 0 ? rig.sync->Connect() : rig.machine.run_on(1, [&] { return rig.sync->Connect(); });
  };
  const auto disconnect = [&](int cycle) {
    if (cycle % 2 == 0) {
      rig.sync->Disconnect();
    } else {
      rig.machine.run_on(1, [&] { rig.sync->Disconnect(); });
    }
  };
  long calls_after_disconnect = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(::testing::Message() << "cycle " << cycle);
    EXPECT_EQ(device.calls.load(), calls_after_disconnect) << "called while disconnected";
    const long serviced_before = device.serviced.load();
    device.connected = true;
    ASSERT_EQ(connect(cycle), STATUS_SUCCESS);
    // The line was left asserted while disconnected: the new connection serves it.
    EXPECT_TRUE(Eventually([&] { return device.serviced.load() > serviced_before; }));
    disconnect(cycle);
    device.connected = false;
    calls_after_disconnect = device.calls.load();
  }
  hardware.request_stop();
  hardware.join();

  // Whatever was raised last is served by one more connection: nothing was lost.
  device.connected = true;
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  EXPECT_TRUE(Eventually([&] { return device.serviced.load() == device.raised.load(); }));
  rig.sync->Disconnect();
  device.connected = false;
  EXPECT_EQ(device.serviced.load(), device.raised.load());
  EXPECT_EQ(device.calls_while_disconnected.load(), 0);

  // The line interrupting after the last Disconnect reaches nothing.
  rig.machine.wait_until_quiescent();
  const long calls = device.calls.load();
  const std::uint64_t deliveries = rig.stats().deliveries;
  rig.card.assert_line();
  rig.machine.wait_until_quiescent();
  EXPECT_EQ(device.calls.load(), calls);
  EXPECT_EQ(rig.stats().deliveries, deliveries);
  rig.card.deassert_line();
}

// ================================================================================================
// Lifetime and IUnknown
// ================================================================================================

TEST(InterruptSyncLifetime, LastReleaseWhileConnectedDisconnects) {
  for (const Trigger trigger : {Trigger::Latched, Trigger::Level}) {
    SCOPED_TRACE(trigger == Trigger::Level ? "level" : "latched");
    Rig rig({.line = Line(trigger)});
    rig.add('A');
    ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
    if (trigger == Trigger::Latched) {
      EXPECT_EQ(rig.interrupt(), "A");
    }
    EXPECT_EQ(ReferencesOf(rig.resources.get()), 2u);
    const VectorStats before = rig.stats();

    EXPECT_EQ(rig.sync.release(), 0u);
    EXPECT_EQ(ReferencesOf(rig.resources.get()), 1u) << "the object's reference to its list";
    if (trigger == Trigger::Level) {
      rig.card.assert_line();
    } else {
      rig.card.pulse_line();
    }
    rig.machine.wait_until_quiescent();
    EXPECT_EQ(rig.log.take(), "");
    EXPECT_EQ(rig.stats().deliveries, before.deliveries);
    if (trigger == Trigger::Level) rig.card.deassert_line();
  }
}

TEST(InterruptSyncLifetime, LastReleaseOfAConnectedObjectAbovePassiveLevelBugChecksAndFreesIt) {
  Rig rig;
  rig.add('A');
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  IInterruptSync* sync = std::exchange(*rig.sync.out(), nullptr);
  // The disconnect it implies is IoDisconnectInterrupt's, with its PASSIVE_LEVEL rule; the
  // object is freed all the same (LeakSanitizer checks in the asan build).
  const auto report = BugCheckOn(rig.machine, 1, [&] {
    RaiseTo(DISPATCH_LEVEL);
    sync->Release();
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlIoPassive4), OnProcessor(1))));
  EXPECT_EQ(ReferencesOf(rig.resources.get()), 1u) << "the object released its list";
}

TEST(InterruptSyncLifetime, LastReleaseAfterABugCheckInAServiceRoutineDisconnects) {
  Rig rig({.mode = InterruptSyncModeRepeat, .machine = {.storm_threshold = 4}});
  rig.add('A').then = kOk;  // always claims: a storm
  ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
  ASSERT_THAT(bug_check_from([&] { rig.interrupt(); }), Optional(IsBugCheck(bugcheck::kHardwareInterruptStorm)));
  EXPECT_EQ(rig.sync.release(), 0u);
  EXPECT_EQ(ReferencesOf(rig.resources.get()), 1u);
}

TEST(InterruptSyncLifetime, AddRefAndReleaseReturnTheCountAndTheListIsHeldUntilTheLastRelease) {
  Machine machine;
  const Device card = machine.plug({.name = "audio", .lines = {Line()}});
  Ref<IResourceList> list = ResourcesOf(card);
  EXPECT_EQ(list->AddRef(), 2u);
  EXPECT_EQ(list->Release(), 1u);

  Ref<IInterruptSync> sync = NewSync(list.get(), 0, InterruptSyncModeNormal);
  EXPECT_EQ(list->AddRef(), 3u) << "the sync object holds one reference to its list";
  EXPECT_EQ(list->Release(), 2u);

  EXPECT_EQ(sync->AddRef(), 2u);
  EXPECT_EQ(sync->AddRef(), 3u);
  EXPECT_EQ(sync->Release(), 2u);
  EXPECT_EQ(sync->Release(), 1u);

  CallLog log;
  Scripted a{.name = 'A', .log = &log};
  ASSERT_EQ(sync->RegisterServiceRoutine(ScriptedRoutine, &a, FALSE), STATUS_SUCCESS);
  ASSERT_EQ(sync->Connect(), STATUS_SUCCESS);
  EXPECT_EQ(ReferencesOf(sync.get()), 1u) << "connecting takes no reference";
  EXPECT_EQ(ReferencesOf(list.get()), 2u);
  sync->Disconnect();

  EXPECT_EQ(sync.release(), 0u);
  EXPECT_EQ(list->AddRef(), 2u) << "the destroyed sync object gave its reference back";
  EXPECT_EQ(list->Release(), 1u);
  EXPECT_EQ(list.release(), 0u);
}

TEST(InterruptSyncLifetime, QueryInterfaceAnswersForIInterruptSyncAndIUnknownOnly) {
  Rig rig;
  IInterruptSync* sync = rig.sync.get();
  int garbage = 0;

  PVOID object = &garbage;
  ASSERT_EQ(sync->QueryInterface(IID_IInterruptSync, &object), STATUS_SUCCESS);
  EXPECT_EQ(object, static_cast<void*>(sync));
  EXPECT_EQ(ReferencesOf(sync), 2u);
  EXPECT_EQ(static_cast<IInterruptSync*>(object)->Release(), 1u);

  object = &garbage;
  ASSERT_EQ(sync->QueryInterface(IID_IUnknown, &object), STATUS_SUCCESS);
  EXPECT_EQ(object, static_cast<void*>(static_cast<IUnknown*>(sync)));
  EXPECT_EQ(static_cast<IUnknown*>(object)->Release(), 1u);

  object = &garbage;
  EXPECT_EQ(sync->QueryInterface(IID_IResourceList, &object), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
  EXPECT_EQ(sync->QueryInterface(IID_IInterruptSync, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(ReferencesOf(sync), 1u) << "failed queries take no reference";

  // And the list is no interrupt sync object.
  object = &garbage;
  EXPECT_EQ(rig.resources->QueryInterface(IID_IInterruptSync, &object), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

// Counts its calls; claims only when the test said an interrupt was coming, so that Repeat mode
// stops after one more pass.
struct CallCounter {
  std::atomic<int> calls{0};
  std::atomic<bool> expecting{false};
};

NTSTATUS CountCall(PINTERRUPTSYNC, PVOID context) {
  auto& counter = *static_cast<CallCounter*>(context);
  counter.calls.fetch_add(1);
  return counter.expecting.exchange(false) ? kOk : kNo;
}

// Leaks show up under LeakSanitizer (the asan preset); interrupt objects that outlived their
// sync object would also exhaust MachineConfig::interrupt_object_capacity (1024) long before the end.
TEST(InterruptSyncLifetime, TenThousandSyncObjectsComeAndGoOnOneMachine) {
  constexpr int kObjects = 10000;
  constexpr int kInterruptEvery = 1000;
  Machine machine({.processors = 2});
  const Device card = machine.plug({.name = "audio", .lines = {Line()}});
  Ref<IResourceList> list = ResourcesOf(card);
  CallCounter counter;
  int interrupts = 0;
  for (int i = 0; i < kObjects; ++i) {
    const auto mode = static_cast<INTERRUPTSYNCMODE>(InterruptSyncModeNormal + i % 3);
    Ref<IInterruptSync> sync = NewSync(list.get(), 0, mode);
    ASSERT_EQ(sync->RegisterServiceRoutine(CountCall, &counter, FALSE), STATUS_SUCCESS) << "object " << i;
    ASSERT_EQ(sync->Connect(), STATUS_SUCCESS) << "object " << i;
    if (i % kInterruptEvery == 0) {
      counter.expecting = true;
      machine.pulse(kVector);
      machine.wait_until_quiescent();
      ++interrupts;
    }
    if (i % 4 != 0) sync->Disconnect();  // the others are released while connected
    ASSERT_EQ(sync.release(), 0u) << "object " << i;
  }
  EXPECT_EQ(ReferencesOf(list.get()), 1u);
  const std::uint64_t deliveries = machine.stats(kVector).deliveries;
  EXPECT_EQ(deliveries, static_cast<std::uint64_t>(interrupts));
  machine.pulse(kVector);
  machine.wait_until_quiescent();
  EXPECT_EQ(machine.stats(kVector).deliveries, deliveries);
  // Normal and All call the routine once per interrupt; Repeat once more to see nothing left.
  EXPECT_GE(counter.calls.load(), interrupts);
  EXPECT_LE(counter.calls.load(), 2 * interrupts);
}

// ================================================================================================
// PcNewInterruptSync's checks
// ================================================================================================

// What PcNewInterruptSync did with an *OutInterruptSync that held garbage.
struct Attempt {
  NTSTATUS status;
  bool out_is_null;
};

Attempt TryNewSync(PRESOURCELIST list, ULONG index, INTERRUPTSYNCMODE mode, PUNKNOWN outer = nullptr) {
  static int garbage = 0;
  PINTERRUPTSYNC out = reinterpret_cast<PINTERRUPTSYNC>(&garbage);
  const NTSTATUS status = PcNewInterruptSync(&out, outer, list, index, mode);
  // These attempts are meant to fail; one that does not must not leak.
  if (status == STATUS_SUCCESS && out != nullptr) out->Release();
  return {status, out == nullptr};
}

MATCHER(IsRejected, "is STATUS_INVALID_PARAMETER with *OutInterruptSync set to NULL") {
  *result_listener << "whose status is " << std::hex << arg.status << (arg.out_is_null ? "" : " and *Out not NULL");
  return arg.status == STATUS_INVALID_PARAMETER && arg.out_is_null;
}

// A card with a register block first (so interrupt entries are not entries 0 and 1) and two
// latched lines: 0x50 at IRQL 5 and 0x51 at IRQL 7.
irqsim::DeviceConfig TwoLineCard() {
  return {.name = "two lines",
          .lines = {{.vector = 0x50, .irql = 5, .trigger = Trigger::Latched},
                    {.vector = 0x51, .irql = 7, .trigger = Trigger::Latched}},
          .register_bytes = 0x100};
}

TEST(PcNewInterruptSyncChecks, ResourceIndexCountsInterruptEntriesOnly) {
  for (const ULONG line : {0u, 1u}) {
    SCOPED_TRACE(::testing::Message() << "interrupt index " << line);
    const std::uint32_t vector = line == 0 ? 0x50 : 0x51;
    const std::uint32_t other = line == 0 ? 0x51 : 0x50;
    Machine machine({.processors = 2});
    Device card = machine.plug(TwoLineCard());
    CallLog log;
    Scripted a{.name = 'A', .log = &log};
    Ref<IResourceList> list = ResourcesOf(card);
    ASSERT_EQ(list->NumberOfInterrupts(), 2u);
    Ref<IInterruptSync> sync = NewSync(list.get(), line, InterruptSyncModeNormal);
    ASSERT_EQ(sync->RegisterServiceRoutine(ScriptedRoutine, &a, FALSE), STATUS_SUCCESS);
    ASSERT_EQ(sync->Connect(), STATUS_SUCCESS);
    card.pulse_line(1 - line);
    card.pulse_line(line);
    machine.wait_until_quiescent();
    EXPECT_EQ(log.take(), "A");
    EXPECT_EQ(a.seen_irql, line == 0 ? 5 : 7);
    EXPECT_EQ(machine.stats(vector).deliveries, 1u);
    EXPECT_EQ(machine.stats(other).deliveries, 0u) << "the other line is not connected";
    sync->Disconnect();
  }
}

TEST(PcNewInterruptSyncChecks, RejectsAnIndexNotBelowTheNumberOfInterrupts) {
  Machine machine;
  Ref<IResourceList> list = ResourcesOf(machine.plug(TwoLineCard()));
  for (const ULONG index : {2u, 3u, 100u, 0xFFFFFFFFu}) {
    EXPECT_THAT(TryNewSync(list.get(), index, InterruptSyncModeNormal), IsRejected()) << "index " << index;
  }
  EXPECT_EQ(ReferencesOf(list.get()), 1u);
}

TEST(PcNewInterruptSyncChecks, RejectsAModeOutsideTheEnumeration) {
  Machine machine;
  Ref<IResourceList> list = ResourcesOf(machine.plug({.name = "audio", .lines = {Line()}}));
  for (const int mode : {0, 4}) {
    EXPECT_THAT(TryNewSync(list.get(), 0, static_cast<INTERRUPTSYNCMODE>(mode)), IsRejected()) << "mode " << mode;
  }
  for (const int mode : {1, 2, 3}) {
    EXPECT_EQ(TryNewSync(list.get(), 0, static_cast<INTERRUPTSYNCMODE>(mode)).status, STATUS_SUCCESS) << "mode " << mode;
  }
  EXPECT_EQ(ReferencesOf(list.get()), 1u);
}

TEST(PcNewInterruptSyncChecks, RejectsNullPointersAndAnOuterUnknown) {
  Machine machine;
  Ref<IResourceList> list = ResourcesOf(machine.plug({.name = "audio", .lines = {Line()}}));
  EXPECT_EQ(PcNewInterruptSync(nullptr, nullptr, list.get(), 0, InterruptSyncModeNormal), STATUS_INVALID_PARAMETER);
  EXPECT_THAT(TryNewSync(nullptr, 0, InterruptSyncModeNormal), IsRejected());
  EXPECT_THAT(TryNewSync(list.get(), 0, InterruptSyncModeNormal, list.get()), IsRejected()) << "aggregation";
  EXPECT_EQ(ReferencesOf(list.get()), 1u);
}

TEST(PcNewInterruptSyncChecks, RejectsAnInterruptLevelAtOrBelowDispatchLevel) {
  Machine machine;
  const Device card = machine.plug({.name = "audio", .lines = {Line()}});
  // The card's translated list, one full descriptor with one interrupt entry, with its level
  // lowered to what no device interrupt can have.
  CM_RESOURCE_LIST translated = *card.translated_resources();
  ASSERT_EQ(translated.List[0].PartialResourceList.Count, 1u);
  for (const USHORT level : {USHORT{PASSIVE_LEVEL}, USHORT{APC_LEVEL}, USHORT{DISPATCH_LEVEL}}) {
    SCOPED_TRACE(::testing::Message() << "level " << level);
    translated.List[0].PartialResourceList.PartialDescriptors[0].u.Interrupt.Level = level;
    Ref<IResourceList> list;
    ASSERT_EQ(PcNewResourceList(list.out(), nullptr, NonPagedPool, &translated, card.raw_resources()), STATUS_SUCCESS);
    EXPECT_THAT(TryNewSync(list.get(), 0, InterruptSyncModeNormal), IsRejected());
  }
}

// A PASSIVE_LEVEL port-class DDI, called on a rig prepared as `connected` says.
struct PassiveDdi {
  const char* api;
  bool connected;
  void (*call)(Rig&);
};

const PassiveDdi kPassiveDdis[] = {
    {"PcNewInterruptSync", false,
     [](Rig& rig) {
       PINTERRUPTSYNC out = nullptr;
       PcNewInterruptSync(&out, nullptr, rig.resources.get(), 0, InterruptSyncModeNormal);
       if (out != nullptr) out->Release();
     }},
    {"Connect", false, [](Rig& rig) { rig.sync->Connect(); }},
    {"Disconnect", true, [](Rig& rig) { rig.sync->Disconnect(); }},
    {"RegisterServiceRoutine", false,
     [](Rig& rig) { rig.sync->RegisterServiceRoutine(ScriptedRoutine, &rig.routine('B'), TRUE); }},
};

TEST(InterruptSyncIrql, PassiveLevelDdisAbovePassiveLevelBugCheckWithRulePcIrqlDdis) {
  for (const PassiveDdi& ddi : kPassiveDdis) {
    for (const KIRQL irql : {KIRQL{APC_LEVEL}, KIRQL{DISPATCH_LEVEL}}) {
      SCOPED_TRACE(::testing::Message() << ddi.api << " at IRQL " << int{irql});
      Rig rig;
      rig.add('A');
      if (ddi.connected) {
        ASSERT_EQ(rig.sync->Connect(), STATUS_SUCCESS);
      }
      const PKINTERRUPT before = rig.sync->GetKInterrupt();
      const auto report = BugCheckOn(rig.machine, 1, [&] {
        RaiseTo(irql);
        ddi.call(rig);
      });
      EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRulePcIrqlDdis), DdiRuleTextMentions("PcIrqlDDIs"),
                                         RuleMentions(ddi.api), OnProcessor(1), AtIrql(irql))));
      EXPECT_EQ(rig.sync->GetKInterrupt(), before) << "the call must not have done anything";
    }
  }
}

}  // namespace
