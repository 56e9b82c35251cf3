// Misuse a driver developer plausibly commits and the other test files do not try: each test
// proves the outcome docs/misuse.md lists for it (the NTSTATUS, or the bug check with the
// parameters that identify it) and, where something was connected before, that it was not lost.
// docs/misuse.md is the catalogue; the test docs.misuse_catalogue_names_real_tests keeps the two
// in step.

#include <portcls.h>
#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include <irqsim/device.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "connect_ex_parameters.hpp"
#include "driver_test_support.hpp"

namespace {

using namespace irqsim_test;
using irqsim::Device;
using irqsim::Machine;
using irqsim::MessageKind;
using irqsim::Trigger;

const PKINTERRUPT kGarbage = reinterpret_cast<PKINTERRUPT>(std::uintptr_t{0xDEADBEEF});

constexpr ULONG kLine = 0x51;        // an exclusive latched line
constexpr ULONG kSharedLine = 0x52;  // a shareable latched line
constexpr KIRQL kLineIrql = 5;
constexpr ULONG kFirstMessageVector = 0x60;  // two MSI-X messages, 0x60 and 0x61
constexpr KIRQL kMessageIrql = 7;
constexpr ULONG kFreeVector = 0x70;  // no device's: for IoConnectInterrupt
constexpr ULONG kOtherFreeVector = 0x71;
constexpr KIRQL kFreeIrql = 6;

constexpr std::uint64_t kWrite = 1;  // parameters[1] of 0x50 and [2] of 0xA for a write

// Counts each message's calls of a message ISR, and claims.
struct MessageCounts {
  std::array<std::atomic<int>, 2> runs{};
};

BOOLEAN CountingMessageIsr(PKINTERRUPT, PVOID context, ULONG message_id) {
  auto& counts = *static_cast<MessageCounts*>(context);
  if (message_id < counts.runs.size()) counts.runs[message_id].fetch_add(1);
  return TRUE;
}

BOOLEAN DoNothing(PVOID) { return TRUE; }

// Bug check 0x50 for kernel code reading through `address`, a pointer that is no live object.
auto IsReferenceTo(std::uint64_t address) {
  return AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameters({address, 0, 0, 0}));
}

// Driver Verifier's 0xC4 / 0x31: a "lowering" from `current` to the higher `requested`, outside a
// DPC routine.
auto IsLoweringTo(KIRQL current, KIRQL requested) {
  return AllOf(IsBugCheck(bugcheck::kDriverVerifierDetectedViolation),
               HasParameters({bugcheck::kVerifierLowerToHigherIrql, current, requested, 0}));
}

// Bug check 0xF for acquiring `lock` (0 for lowering below a held lock's IRQL).
auto IsAlreadyOwned(std::uint64_t lock) {
  return AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), HasParameters({lock, 0, 0, 0}));
}

// Bug check 0xF over the lock an interrupt object or interrupt sync object owns, whose
// address a test cannot name.
auto IsAlreadyOwnedBuiltinLock() {
  return AllOf(IsBugCheck(bugcheck::kSpinLockAlreadyOwned), Not(HasParameter(0, 0)), HasParameter(1, 0),
               HasParameter(2, 0), HasParameter(3, 0));
}

// Whether `object` is still a connected interrupt object (IoGetAffinityInterrupt works on any
// IRQL and, from the test thread, on a halted machine too).
bool StillConnected(PKINTERRUPT object) {
  GROUP_AFFINITY affinity{};
  return IoGetAffinityInterrupt(object, &affinity) == STATUS_SUCCESS;
}

// A machine with three devices and the drivers' records: an exclusive latched line, a shareable
// latched line and two MSI-X messages (message i targets processor i).
class DeviceRig : public ::testing::Test {
 protected:
  // Connects RecordingIsr with `record` to the device's line the documented way.
  PKINTERRUPT ConnectLine(const Device& device, IsrRecord& record) {
    PKINTERRUPT connected = nullptr;
    auto p = FullySpecifiedFor(device, &connected, RecordingIsr, &record);
    EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
    return connected;
  }

  // Connects `isr` to the exclusive line as a passive-level ISR.
  PKINTERRUPT ConnectPassive(PKSERVICE_ROUTINE isr) {
    PKINTERRUPT connected = nullptr;
    auto p = FullySpecifiedFor(line, &connected, isr, nullptr);
    p.FullySpecified.Irql = PASSIVE_LEVEL;
    p.FullySpecified.SynchronizeIrql = PASSIVE_LEVEL;
    EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
    return connected;
  }

  // Connects CountingMessageIsr with `messages` to the MSI-X device.
  PIO_INTERRUPT_MESSAGE_INFO ConnectMessages() {
    PVOID table = nullptr;
    auto p = MessageBased(msix.pdo(), &table, CountingMessageIsr, &messages);
    EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
    EXPECT_EQ(p.Version, ULONG{CONNECT_MESSAGE_BASED});
    return static_cast<PIO_INTERRUPT_MESSAGE_INFO>(table);
  }

  // Every device interrupts once; waits until that has been handled.
  void InterruptEverywhere() {
    line.pulse_line();
    shared.pulse_line();
    msix.signal_message(0);
    msix.signal_message(1);
    machine.wait_until_quiescent();
  }

  // IoConnectInterruptEx(&p) fails with `expected` and connects nothing: no ISR runs when every
  // device interrupts.
  void ExpectRefused(IO_CONNECT_INTERRUPT_PARAMETERS p, NTSTATUS expected) {
    EXPECT_EQ(IoConnectInterruptEx(&p), expected);
    InterruptEverywhere();
    EXPECT_EQ(first.runs, 0);
    EXPECT_EQ(second.runs, 0);
    EXPECT_EQ(messages.runs[0] + messages.runs[1], 0);
  }

  // Declared before the machine: its ISRs use them until it is gone.
  IsrRecord first;
  IsrRecord second;
  MessageCounts messages;
  Machine machine{{.processors = 2}};
  Device line =
      machine.plug({.name = "exclusive",
                    .lines = {{.vector = kLine, .irql = kLineIrql, .trigger = Trigger::Latched, .shareable = false}}});
  Device shared = machine.plug(
      {.name = "shareable",
       .lines = {{.vector = kSharedLine, .irql = kLineIrql, .trigger = Trigger::Latched, .shareable = true}}});
  Device msix =
      machine.plug({.name = "msix",
                    .message_kind = MessageKind::MsiX,
                    .messages = {{.vector = kFirstMessageVector, .irql = kMessageIrql, .affinity = 0b01},
                                 {.vector = kFirstMessageVector + 1, .irql = kMessageIrql, .affinity = 0b10}}});
  PKINTERRUPT object = kGarbage;  // where a refused connect must store NULL
};

// Expects `call`, made with a NULL pointer, to bug-check 0x50 on the test thread at PASSIVE_LEVEL
// and 0xA on a processor at DISPATCH_LEVEL, each naming `api`: the fault of kernel code writing
// through the pointer.
template <class Call>
void ExpectNullPointerBugChecks(const char* api, Call call) {
  SCOPED_TRACE(api);
  {
    Machine m({.processors = 1});
    EXPECT_THAT(bug_check_from(call),
                Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameters({0, kWrite, 0, 0}),
                               OnTestThread(), AtIrql(PASSIVE_LEVEL), RuleMentions(api))));
  }
  {
    Machine m({.processors = 1});
    const auto report = BugCheckOn(m, 0, [&] {
      RaiseTo(DISPATCH_LEVEL);
      call();
    });
    EXPECT_THAT(report,
                Optional(AllOf(IsBugCheck(bugcheck::kIrqlNotLessOrEqual), HasParameters({0, DISPATCH_LEVEL, kWrite, 0}),
                               OnProcessor(0), RuleMentions(api))));
  }
}

// =================================================================================================
// Connection
// =================================================================================================

TEST(MisuseConnect, UninitializedSpinLockBugChecks0x81WhenTheIsrFirstTakesIt) {
  constexpr KSPIN_LOCK kNeverInitialized = 0xC0FFEE;
  IsrRecord record;
  KSPIN_LOCK lock = kNeverInitialized;
  Machine m({.processors = 2});
  (void)ConnectLatched(RecordingIsr, &record, kFreeVector, kFreeIrql, kFreeIrql, ~KAFFINITY{0}, &lock);
  m.pulse(kFreeVector);
  EXPECT_THAT(bug_check_from([&] { m.wait_until_quiescent(); }),
              Optional(AllOf(IsBugCheck(bugcheck::kSpinLockInitFailure), HasParameter(0, AddressOf(&lock)),
                             HasParameter(1, kNeverInitialized), AtIrql(kFreeIrql))));
  EXPECT_EQ(record.runs, 0);
}

using MisuseConnectEx = DeviceRig;

TEST_F(MisuseConnectEx, LineBasedWithANullPdoIsInvalidParameter) {
  ExpectRefused(LineBased(nullptr, &object, RecordingIsr, &first), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

TEST_F(MisuseConnectEx, LineBasedWithANullInterruptObjectIsInvalidParameter) {
  ExpectRefused(LineBased(line.pdo(), nullptr, RecordingIsr, &first), STATUS_INVALID_PARAMETER);
}

TEST_F(MisuseConnectEx, LineBasedWithANullServiceRoutineIsInvalidParameter) {
  ExpectRefused(LineBased(line.pdo(), &object, nullptr, &first), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

TEST_F(MisuseConnectEx, LineBasedSynchronizeIrqlAboveHighLevelIsInvalidParameter) {
  ExpectRefused(LineBased(line.pdo(), &object, RecordingIsr, &first, nullptr, HIGH_LEVEL + 1),
                STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

TEST_F(MisuseConnectEx, MessageBasedWithANullPdoIsInvalidParameter) {
  PVOID table = kGarbage;
  ExpectRefused(MessageBased(nullptr, &table, CountingMessageIsr, &messages), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(table, nullptr);
}

TEST_F(MisuseConnectEx, MessageBasedSynchronizeIrqlAboveHighLevelIsInvalidParameter) {
  PVOID table = kGarbage;
  ExpectRefused(MessageBased(msix.pdo(), &table, CountingMessageIsr, &messages, nullptr, HIGH_LEVEL + 1),
                STATUS_INVALID_PARAMETER);
  EXPECT_EQ(table, nullptr);
}

TEST_F(MisuseConnectEx, FullySpecifiedIrqlOutsideTheDeviceRangeIsInvalidParameter) {
  struct Irqls {
    KIRQL irql;
    KIRQL synchronize_irql;
  };
  // DISPATCH_LEVEL and CLOCK_LEVEL are no device's; PASSIVE_LEVEL asks for a passive-level ISR
  // only together with a PASSIVE_LEVEL SynchronizeIrql.
  for (const Irqls irqls :
       {Irqls{DISPATCH_LEVEL, DISPATCH_LEVEL}, Irqls{CLOCK_LEVEL, CLOCK_LEVEL}, Irqls{PASSIVE_LEVEL, kLineIrql}}) {
    SCOPED_TRACE(::testing::Message() << "Irql " << int{irqls.irql} << ", SynchronizeIrql "
                                      << int{irqls.synchronize_irql});
    auto p = FullySpecifiedFor(line, &object, RecordingIsr, &first);
    p.FullySpecified.Irql = irqls.irql;
    p.FullySpecified.SynchronizeIrql = irqls.synchronize_irql;
    ExpectRefused(p, STATUS_INVALID_PARAMETER);
    EXPECT_EQ(object, nullptr);
  }
}

TEST_F(MisuseConnectEx, FullySpecifiedSynchronizeIrqlAboveHighLevelIsInvalidParameter) {
  auto p = FullySpecifiedFor(line, &object, RecordingIsr, &first);
  p.FullySpecified.SynchronizeIrql = HIGH_LEVEL + 1;
  ExpectRefused(p, STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

TEST_F(MisuseConnectEx, FullySpecifiedUnknownInterruptModeIsInvalidParameter) {
  auto p = FullySpecifiedFor(line, &object, RecordingIsr, &first);
  p.FullySpecified.InterruptMode = static_cast<KINTERRUPT_MODE>(2);
  ExpectRefused(p, STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

TEST_F(MisuseConnectEx, ConnectingAnExclusiveLineTwiceIsInvalidParameterAndTheFirstIsrKeepsRunning) {
  const PKINTERRUPT connected = ConnectLine(line, first);
  auto again = FullySpecifiedFor(line, &object, RecordingIsr, &second);
  EXPECT_EQ(IoConnectInterruptEx(&again), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
  object = kGarbage;
  auto line_based = LineBased(line.pdo(), &object, RecordingIsr, &second);
  EXPECT_EQ(IoConnectInterruptEx(&line_based), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);

  InterruptEverywhere();
  EXPECT_EQ(first.runs, 1);
  EXPECT_EQ(second.runs, 0);
  Disconnect(CONNECT_FULLY_SPECIFIED, connected);
}

TEST_F(MisuseConnectEx, LevelSensitiveOnALatchedSharedVectorIsInvalidParameterAndTheLatchedIsrKeepsRunning) {
  const PKINTERRUPT connected = ConnectLine(shared, first);
  auto level = FullySpecifiedFor(shared, &object, RecordingIsr, &second);
  ASSERT_EQ(level.FullySpecified.ShareVector, TRUE);
  level.FullySpecified.InterruptMode = LevelSensitive;
  EXPECT_EQ(IoConnectInterruptEx(&level), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);

  InterruptEverywhere();
  EXPECT_EQ(first.runs, 1);
  EXPECT_EQ(second.runs, 0);
  Disconnect(CONNECT_FULLY_SPECIFIED, connected);
}

TEST_F(MisuseConnectEx, MessageBasedTwiceIsInvalidParameterAndTheFirstTableKeepsWorking) {
  const PIO_INTERRUPT_MESSAGE_INFO table = ConnectMessages();
  ASSERT_NE(table, nullptr);
  MessageCounts intruder;
  PVOID again = kGarbage;
  auto p = MessageBased(msix.pdo(), &again, CountingMessageIsr, &intruder);
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(again, nullptr);

  InterruptEverywhere();
  EXPECT_EQ(messages.runs[0], 1);
  EXPECT_EQ(messages.runs[1], 1);
  EXPECT_EQ(intruder.runs[0] + intruder.runs[1], 0);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

// A message's interrupt object is never shared, whatever the newcomer asks for.
TEST_F(MisuseConnectEx, FullySpecifiedOnAConnectedMessagesVectorIsInvalidParameterAndTheMessageKeepsWorking) {
  const PIO_INTERRUPT_MESSAGE_INFO table = ConnectMessages();
  ASSERT_NE(table, nullptr);
  auto p = FullySpecifiedFor(msix, &object, RecordingIsr, &second);
  ASSERT_EQ(p.FullySpecified.Vector, kFirstMessageVector);
  p.FullySpecified.ShareVector = TRUE;
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);

  InterruptEverywhere();
  EXPECT_EQ(messages.runs[0], 1);
  EXPECT_EQ(second.runs, 0);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

// A PDO kept after its machine (the test's earlier one) was destroyed points to freed memory; it
// is recognised by its address alone, never read.
TEST_F(MisuseConnectEx, APdoOfADestroyedMachineIsInvalidParameter) {
  // The rig's PDOs exist before the other machine's is freed, so none can reuse its address.
  ASSERT_NE(line.pdo(), nullptr);
  std::optional<Machine> gone;
  gone.emplace(irqsim::MachineConfig{.processors = 1});
  const PDEVICE_OBJECT stale = gone->plug({.name = "gone", .lines = {{.vector = kLine, .irql = kLineIrql}}}).pdo();
  gone.reset();

  auto p = FullySpecifiedFor(line, &object, RecordingIsr, &first);
  p.FullySpecified.PhysicalDeviceObject = stale;
  ExpectRefused(p, STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

// =================================================================================================
// Disconnection
// =================================================================================================

using MisuseDisconnect = DeviceRig;

TEST_F(MisuseDisconnect, ExTwiceWithAFullySpecifiedObjectBugChecksCC) {
  const PKINTERRUPT connected = ConnectLine(line, first);
  Disconnect(CONNECT_FULLY_SPECIFIED, connected);
  EXPECT_THAT(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, connected); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool), HasParameter(0, AddressOf(connected)),
                             RuleMentions("IoDisconnectInterruptEx"))));
}

TEST_F(MisuseDisconnect, ExWithLineBasedVersionAndAMessageTableBugChecks50AndTheTableStaysConnected) {
  const PIO_INTERRUPT_MESSAGE_INFO table = ConnectMessages();
  ASSERT_NE(table, nullptr);
  EXPECT_THAT(bug_check_from([&] { Disconnect(CONNECT_LINE_BASED, table); }),
              Optional(AllOf(IsReferenceTo(AddressOf(table)), RuleMentions("IoDisconnectInterruptEx"))));
  EXPECT_TRUE(StillConnected(table->MessageInfo[0].InterruptObject));
  EXPECT_TRUE(StillConnected(table->MessageInfo[1].InterruptObject));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_MESSAGE_BASED, table); }), std::nullopt);
}

TEST_F(MisuseDisconnect, ExWithAPointerThatIsNoConnectionBugChecks50AndTheConnectionStays) {
  const PKINTERRUPT connected = ConnectLine(line, first);
  int not_a_connection = 0;
  EXPECT_THAT(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, &not_a_connection); }),
              Optional(IsReferenceTo(AddressOf(&not_a_connection))));
  EXPECT_TRUE(StillConnected(connected));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, connected); }), std::nullopt);
}

TEST_F(MisuseDisconnect, IoDisconnectInterruptWithAMessageTableBugChecks50) {
  const PIO_INTERRUPT_MESSAGE_INFO table = ConnectMessages();
  ASSERT_NE(table, nullptr);
  EXPECT_THAT(bug_check_from([&] { IoDisconnectInterrupt(reinterpret_cast<PKINTERRUPT>(table)); }),
              Optional(AllOf(IsReferenceTo(AddressOf(table)), RuleMentions("IoDisconnectInterrupt"))));
  EXPECT_TRUE(StillConnected(table->MessageInfo[0].InterruptObject));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_MESSAGE_BASED, table); }), std::nullopt);
}

BOOLEAN DisconnectingIsr(PKINTERRUPT interrupt, PVOID) {
  IoDisconnectInterrupt(interrupt);
  return TRUE;
}

// Disconnecting waits for the ISR to finish, so from the ISR itself it could only hang.
TEST_F(MisuseDisconnect, FromItsOwnIsrBugChecksC4IrqlIoPassive4InsteadOfHanging) {
  PKINTERRUPT connected = nullptr;
  auto p = FullySpecifiedFor(line, &connected, DisconnectingIsr, nullptr);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  line.pulse_line();
  EXPECT_THAT(bug_check_from([&] { machine.wait_until_quiescent(); }),
              Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlIoPassive4), DdiRuleTextMentions("IrqlIoPassive4"),
                             HasParameter(2, 0), HasParameter(3, 0), AtIrql(kLineIrql),
                             RuleMentions("IoDisconnectInterrupt"))));
  EXPECT_TRUE(StillConnected(connected));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, connected); }), std::nullopt);
}

// A passive-level ISR runs holding its interrupt lock too, and no IRQL rule stops it from
// disconnecting; but disconnecting waits for the ISR to finish.
TEST_F(MisuseDisconnect, FromItsOwnPassiveLevelIsrBugChecks0xFInsteadOfHanging) {
  const PKINTERRUPT connected = ConnectPassive(DisconnectingIsr);
  line.pulse_line();
  EXPECT_THAT(
      bug_check_from([&] { machine.wait_until_quiescent(); }),
      Optional(AllOf(IsAlreadyOwnedBuiltinLock(), AtIrql(PASSIVE_LEVEL), RuleMentions("IoDisconnectInterrupt"))));
  EXPECT_TRUE(StillConnected(connected));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, connected); }), std::nullopt);
}

BOOLEAN DisconnectingRoutine(PVOID context) {
  IoDisconnectInterrupt(*static_cast<PKINTERRUPT*>(context));
  return TRUE;
}

// Inside KeSynchronizeExecution the caller holds the interrupt lock, which the passive-level ISR
// a disconnect may have to wait for needs first.
TEST_F(MisuseDisconnect, InsideKeSynchronizeExecutionOfAPassiveLevelInterruptBugChecks0xF) {
  PKINTERRUPT connected = ConnectPassive(RecordingIsr);
  const auto report =
      BugCheckOn(machine, 0, [&] { KeSynchronizeExecution(connected, DisconnectingRoutine, &connected); });
  EXPECT_THAT(report, Optional(AllOf(IsAlreadyOwnedBuiltinLock(), OnProcessor(0), AtIrql(PASSIVE_LEVEL),
                                     RuleMentions("IoDisconnectInterrupt"))));
  EXPECT_TRUE(StillConnected(connected));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, connected); }), std::nullopt);
}

// An interrupt object of a machine since destroyed is recognised by its address alone.
TEST_F(MisuseDisconnect, AnObjectOfADestroyedMachineBugChecks50AndThisMachinesConnectionStays) {
  // Connected first, so that this machine's interrupt objects exist before the other machine's
  // are freed and none can reuse their memory.
  const PKINTERRUPT connected = ConnectLine(line, first);
  PKINTERRUPT stale = nullptr;
  {
    IsrRecord record;
    Machine gone({.processors = 1});
    stale = ConnectLatched(RecordingIsr, &record, kFreeVector, kFreeIrql, kFreeIrql);
    IoDisconnectInterrupt(stale);
  }
  EXPECT_THAT(bug_check_from([&] { IoDisconnectInterrupt(stale); }), Optional(IsReferenceTo(AddressOf(stale))));
  EXPECT_TRUE(StillConnected(connected));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, connected); }), std::nullopt);
}

TEST_F(MisuseDisconnect, ReportingAnInterruptActiveAfterItsDisconnectBugChecksCC) {
  const PKINTERRUPT connected = ConnectLine(line, first);
  Disconnect(CONNECT_FULLY_SPECIFIED, connected);
  IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS state{};
  state.Version = CONNECT_FULLY_SPECIFIED;
  state.ConnectionContext.InterruptObject = connected;
  EXPECT_THAT(bug_check_from([&] { IoReportInterruptActive(&state); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool), HasParameter(0, AddressOf(connected)),
                             RuleMentions("IoReportInterruptActive"))));
}

TEST_F(MisuseDisconnect, ReportingAnInterruptInactiveWithAnUnknownVersionBugChecks50AndItStaysActive) {
  const PKINTERRUPT connected = ConnectLine(line, first);
  IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS state{};
  state.Version = CONNECT_CURRENT_VERSION + 1;
  state.ConnectionContext.InterruptObject = connected;
  EXPECT_THAT(bug_check_from([&] { IoReportInterruptInactive(&state); }),
              Optional(AllOf(IsReferenceTo(AddressOf(connected)), RuleMentions("IoReportInterruptInactive"))));
  EXPECT_TRUE(StillConnected(connected));
}

TEST(MisuseReportState, NullParametersBugCheck50OrAtDispatchLevel0xA) {
  ExpectNullPointerBugChecks("IoReportInterruptActive", [] { IoReportInterruptActive(nullptr); });
  ExpectNullPointerBugChecks("IoReportInterruptInactive", [] { IoReportInterruptInactive(nullptr); });
}

// =================================================================================================
// IRQL
// =================================================================================================

TEST(MisuseIrql, LoweringNestedRaisesOutOfOrderBugChecks0xC4With0x31) {
  Machine m({.processors = 1});
  const auto report = BugCheckOn(m, 0, [] {
    const KIRQL passive = RaiseTo(DISPATCH_LEVEL);
    const KIRQL dispatch = RaiseTo(kFreeIrql);
    KeLowerIrql(passive);   // the outer raise's IRQL first: still a lowering
    KeLowerIrql(dispatch);  // now from PASSIVE_LEVEL "down" to DISPATCH_LEVEL
  });
  EXPECT_THAT(report, Optional(AllOf(IsLoweringTo(PASSIVE_LEVEL, DISPATCH_LEVEL), OnProcessor(0),
                                     RuleMentions("KeLowerIrql"))));
}

BOOLEAN LoweringIsr(PKINTERRUPT, PVOID) {
  KeLowerIrql(PASSIVE_LEVEL);
  return TRUE;
}

// The ISR runs holding its interrupt lock, which is used at SynchronizeIrql.
TEST(MisuseIrql, AnIsrLoweringItsIrqlBugChecks0xF) {
  Machine m({.processors = 2});
  (void)ConnectLatched(LoweringIsr, nullptr, kFreeVector, kFreeIrql, kFreeIrql);
  m.pulse(kFreeVector);
  EXPECT_THAT(bug_check_from([&] { m.wait_until_quiescent(); }),
              Optional(AllOf(IsAlreadyOwned(0), AtIrql(kFreeIrql), RuleMentions("KeLowerIrql"))));
}

// =================================================================================================
// Spin locks
// =================================================================================================

TEST(MisuseSpinLock, TryingALockTheCallerOwnsBugChecks0xF) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 0, [&] {
    RaiseTo(DISPATCH_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&lock);
    (void)KeTryToAcquireSpinLockAtDpcLevel(&lock);
  });
  EXPECT_THAT(report, Optional(AllOf(IsAlreadyOwned(AddressOf(&lock)), OnProcessor(0),
                                     RuleMentions("KeTryToAcquireSpinLockAtDpcLevel"))));
}

TEST(MisuseSpinLock, ReleasingWithAnOldIrqlAboveDispatchLevelBugChecks0xC4With0x31) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, kFreeIrql);
  });
  EXPECT_THAT(report, Optional(AllOf(IsLoweringTo(DISPATCH_LEVEL, kFreeIrql), OnProcessor(0),
                                     RuleMentions("KeReleaseSpinLock"))));
}

TEST(MisuseSpinLock, ReinitializingAHeldLockMakesItsReleaseBugCheck0x10) {
  Machine m({.processors = 1});
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  const auto report = BugCheckOn(m, 0, [&] {
    KIRQL old = 0;
    KeAcquireSpinLock(&lock, &old);
    KeInitializeSpinLock(&lock);
    KeReleaseSpinLock(&lock, old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&lock)),
                                     HasParameter(1, 0), OnProcessor(0), RuleMentions("KeReleaseSpinLock"))));
}

// =================================================================================================
// Interrupt spin locks and KeSynchronizeExecution
// =================================================================================================

using MisuseSynchronize = DeviceRig;

BOOLEAN SynchronizingIsr(PKINTERRUPT interrupt, PVOID) { return KeSynchronizeExecution(interrupt, DoNothing, nullptr); }

// The ISR already holds its interrupt lock: taking it again would spin forever.
TEST_F(MisuseSynchronize, KeSynchronizeExecutionFromItsOwnIsrBugChecks0xF) {
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  (void)ConnectLatched(SynchronizingIsr, nullptr, kFreeVector, kFreeIrql, kFreeIrql, ~KAFFINITY{0}, &lock);
  machine.pulse(kFreeVector);
  EXPECT_THAT(
      bug_check_from([&] { machine.wait_until_quiescent(); }),
      Optional(AllOf(IsAlreadyOwned(AddressOf(&lock)), AtIrql(kFreeIrql), RuleMentions("KeSynchronizeExecution"))));
}

// Each message has its own interrupt object in the table's entries; the table is none.
TEST_F(MisuseSynchronize, KeSynchronizeExecutionWithTheMessageTableBugChecks50) {
  const PIO_INTERRUPT_MESSAGE_INFO table = ConnectMessages();
  ASSERT_NE(table, nullptr);
  const auto report =
      BugCheckOn(machine, 0, [&] { KeSynchronizeExecution(reinterpret_cast<PKINTERRUPT>(table), DoNothing, nullptr); });
  EXPECT_THAT(report,
              Optional(AllOf(IsReferenceTo(AddressOf(table)), OnProcessor(0), RuleMentions("KeSynchronizeExecution"))));
  EXPECT_TRUE(StillConnected(table->MessageInfo[0].InterruptObject));
  EXPECT_EQ(bug_check_from([&] { Disconnect(CONNECT_MESSAGE_BASED, table); }), std::nullopt);
}

TEST_F(MisuseSynchronize, ReleasingAnotherInterruptsLockBugChecks0x10AndTheAcquiredOneStaysHeld) {
  KSPIN_LOCK acquired_lock;
  KSPIN_LOCK other_lock;
  KeInitializeSpinLock(&acquired_lock);
  KeInitializeSpinLock(&other_lock);
  const PKINTERRUPT acquired =
      ConnectLatched(RecordingIsr, &first, kFreeVector, kFreeIrql, kFreeIrql, ~KAFFINITY{0}, &acquired_lock);
  const PKINTERRUPT other =
      ConnectLatched(RecordingIsr, &second, kOtherFreeVector, kFreeIrql, kFreeIrql, ~KAFFINITY{0}, &other_lock);
  const auto report = BugCheckOn(machine, 0, [&] {
    const KIRQL old = KeAcquireInterruptSpinLock(acquired);
    KeReleaseInterruptSpinLock(other, old);
  });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kSpinLockNotOwned), HasParameter(0, AddressOf(&other_lock)),
                                     HasParameter(1, 0), OnProcessor(0), RuleMentions("KeReleaseInterruptSpinLock"))));
  EXPECT_NE(LockWord(acquired_lock), 0u);
}

// =================================================================================================
// DPCs
// =================================================================================================

BOOLEAN RequestingDpcIsr(PKINTERRUPT, PVOID context) {
  IoRequestDpc(static_cast<PDEVICE_OBJECT>(context), nullptr, nullptr);
  return TRUE;
}

TEST(MisuseDpc, IoRequestDpcWithoutIoInitializeDpcRequestBugChecks0xC7NamingIoRequestDpc) {
  DEVICE_OBJECT device{};
  Machine m({.processors = 2});
  (void)ConnectLatched(RequestingDpcIsr, &device, kFreeVector, kFreeIrql, kFreeIrql);
  m.pulse(kFreeVector);
  EXPECT_THAT(bug_check_from([&] { m.wait_until_quiescent(); }),
              Optional(AllOf(IsBugCheck(bugcheck::kTimerOrDpcInvalid), HasParameters({1, AddressOf(&device.Dpc), 0, 0}),
                             AtIrql(kFreeIrql), RuleMentions("IoRequestDpc"))));
}

VOID NoDpcRoutine(PKDPC, PVOID, PVOID, PVOID) {}
VOID NoDpcForIsr(PKDPC, PDEVICE_OBJECT, struct _IRP*, PVOID) {}

TEST(MisuseDpc, NullPointersToTheDpcRoutinesBugCheck50OrAtDispatchLevel0xA) {
  ExpectNullPointerBugChecks("KeInitializeDpc", [] { KeInitializeDpc(nullptr, NoDpcRoutine, nullptr); });
  ExpectNullPointerBugChecks("KeRemoveQueueDpc", [] { (void)KeRemoveQueueDpc(nullptr); });
  ExpectNullPointerBugChecks("KeSetImportanceDpc", [] { KeSetImportanceDpc(nullptr, HighImportance); });
  ExpectNullPointerBugChecks("KeSetTargetProcessorDpc", [] { KeSetTargetProcessorDpc(nullptr, 0); });
  ExpectNullPointerBugChecks("KeSetTargetProcessorDpcEx", [] {
    PROCESSOR_NUMBER number{};
    (void)KeSetTargetProcessorDpcEx(nullptr, &number);
  });
  ExpectNullPointerBugChecks("KeSetTargetProcessorDpcEx", [] {
    KDPC dpc;
    KeInitializeDpc(&dpc, NoDpcRoutine, nullptr);
    (void)KeSetTargetProcessorDpcEx(&dpc, nullptr);
  });
  ExpectNullPointerBugChecks("IoInitializeDpcRequest", [] { IoInitializeDpcRequest(nullptr, NoDpcForIsr); });
  ExpectNullPointerBugChecks("IoRequestDpc", [] { IoRequestDpc(nullptr, nullptr, nullptr); });
}

// =================================================================================================
// Devices and messages
// =================================================================================================

using MisuseMessages = DeviceRig;

TEST_F(MisuseMessages, SignalingAMessageTheDeviceLacksThrowsOutOfRangeAndItsMessagesKeepWorking) {
  const PIO_INTERRUPT_MESSAGE_INFO table = ConnectMessages();
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->MessageCount, 2u);
  EXPECT_THROW(msix.signal_message(2), std::out_of_range);
  EXPECT_THROW(msix.signal_message(0xFFFFFFFF), std::out_of_range);
  InterruptEverywhere();
  EXPECT_EQ(messages.runs[0], 1);
  EXPECT_EQ(messages.runs[1], 1);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

// A register access at or across the end of a mapping, as an off-by-one register offset makes one.
struct PastTheEnd {
  const char* what;
  std::size_t offset;
  bool write;
};

TEST(MisuseDevice, RegisterAccessAtOrAcrossTheEndOfAMappingBugChecks50AndReachesNothing) {
  constexpr std::size_t kMapped = 0x40;
  for (const PastTheEnd access :
       {PastTheEnd{"a read across the end", kMapped - 2, false}, PastTheEnd{"a read just past the end", kMapped, false},
        PastTheEnd{"a write just past the end", kMapped, true}}) {
    SCOPED_TRACE(access.what);
    Machine m({.processors = 1});
    Device device = m.plug({.name = "registers", .register_bytes = 0x100});
    PHYSICAL_ADDRESS start{};
    start.QuadPart = static_cast<LONGLONG>(device.register_address());
    auto* base = static_cast<volatile UCHAR*>(MmMapIoSpace(start, kMapped, MmNonCached));
    ASSERT_NE(base, nullptr);
    auto* target = reinterpret_cast<volatile ULONG*>(base + access.offset);
    const auto report = bug_check_from([&] {
      if (access.write) {
        WRITE_REGISTER_ULONG(target, 0xA5A5A5A5);
      } else {
        (void)READ_REGISTER_ULONG(target);
      }
    });
    EXPECT_THAT(report, Optional(AllOf(
                            IsBugCheck(bugcheck::kPageFaultInNonpagedArea),
                            HasParameters({AddressOf(const_cast<ULONG*>(target)), access.write ? kWrite : 0, 0, 0}))));
    EXPECT_EQ(device.stored_register(access.offset & ~std::size_t{3}, 4), 0u) << "the device was reached";
  }
}

TEST(MisuseDevice, UnmappingWhatIsNoMappingBugChecks50) {
  Machine m({.processors = 1});
  ULONG not_a_mapping = 0;
  EXPECT_THAT(bug_check_from([&] { MmUnmapIoSpace(&not_a_mapping, sizeof not_a_mapping); }),
              Optional(AllOf(IsReferenceTo(AddressOf(&not_a_mapping)), RuleMentions("MmUnmapIoSpace"))));
}

// =================================================================================================
// Port class
// =================================================================================================

constexpr ULONG kAudioVector = 0x58;
constexpr KIRQL kAudioLevel = 6;

NTSTATUS Serviced(PINTERRUPTSYNC, PVOID) { return STATUS_SUCCESS; }

NTSTATUS CallsSynchronizedRoutine(PINTERRUPTSYNC sync, PVOID) {
  return sync->CallSynchronizedRoutine(Serviced, nullptr);
}

NTSTATUS Disconnects(PINTERRUPTSYNC sync, PVOID) {
  sync->Disconnect();
  return STATUS_SUCCESS;
}

// An audio card's resource list and an interrupt sync object for its line, released at the end
// of the test (before the machine, which the last Release may need to disconnect).
class MisusePortCls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(PcNewResourceList(&resources, nullptr, NonPagedPool, card.translated_resources(), card.raw_resources()),
              STATUS_SUCCESS);
    ASSERT_EQ(PcNewInterruptSync(&sync, nullptr, resources, 0, InterruptSyncModeNormal), STATUS_SUCCESS);
  }
  void TearDown() override {
    if (sync != nullptr) sync->Release();
    if (resources != nullptr) resources->Release();
  }

  // Registers `routine` as the only service routine and connects.
  void Connect(PINTERRUPTSYNCROUTINE routine) {
    ASSERT_EQ(sync->RegisterServiceRoutine(routine, nullptr, FALSE), STATUS_SUCCESS);
    ASSERT_EQ(sync->Connect(), STATUS_SUCCESS);
  }

  Machine machine{{.processors = 2}};
  Device card = machine.plug(
      {.name = "audio", .lines = {{.vector = kAudioVector, .irql = kAudioLevel, .trigger = Trigger::Latched}}});
  PRESOURCELIST resources = nullptr;
  PINTERRUPTSYNC sync = nullptr;
};

// The service routine runs inside the critical section CallSynchronizedRoutine would enter.
TEST_F(MisusePortCls, CallSynchronizedRoutineFromAServiceRoutineBugChecks0xF) {
  Connect(CallsSynchronizedRoutine);
  card.pulse_line();
  EXPECT_THAT(bug_check_from([&] { machine.wait_until_quiescent(); }),
              Optional(AllOf(IsAlreadyOwnedBuiltinLock(), AtIrql(kAudioLevel),
                             RuleMentions("IInterruptSync::CallSynchronizedRoutine"))));
}

TEST_F(MisusePortCls, DisconnectFromAServiceRoutineBugChecksC4PcIrqlDdisAndStaysConnected) {
  Connect(Disconnects);
  const PKINTERRUPT connected = sync->GetKInterrupt();
  card.pulse_line();
  EXPECT_THAT(bug_check_from([&] { machine.wait_until_quiescent(); }),
              Optional(AllOf(IsVerifierViolation(bugcheck::kRulePcIrqlDdis), DdiRuleTextMentions("PcIrqlDDIs"),
                             HasParameter(2, 0), HasParameter(3, 0), AtIrql(kAudioLevel),
                             RuleMentions("IInterruptSync::Disconnect"))));
  EXPECT_EQ(sync->GetKInterrupt(), connected);
  EXPECT_TRUE(StillConnected(connected));
}

// The object still holds the interrupt object the driver freed behind its back.
TEST_F(MisusePortCls, DisconnectAfterTheDriverDisconnectedItsKInterruptBugChecksCC) {
  Connect(Serviced);
  const PKINTERRUPT connected = sync->GetKInterrupt();
  IoDisconnectInterrupt(connected);
  EXPECT_THAT(bug_check_from([&] { sync->Disconnect(); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool), HasParameter(0, AddressOf(connected)),
                             RuleMentions("IoDisconnectInterrupt"))));
  EXPECT_EQ(sync->GetKInterrupt(), nullptr) << "the last Release must not disconnect it once more";
}

}  // namespace
