// IoConnectInterruptEx in every version (fully specified, with group, line based, message based,
// passive) and IoDisconnectInterruptEx: the documented status codes, how the connected ISRs run,
// the message table, the fallback to the line ISR, and the bug checks of a wrong disconnect.

#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "connect_ex_parameters.hpp"
#include "driver_test_support.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace irqsim_test;
using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::Machine;
using irqsim::MessageKind;
using irqsim::Trigger;

const PKINTERRUPT kGarbage = reinterpret_cast<PKINTERRUPT>(std::uintptr_t{0xDEADBEEF});

// ---- routines -----------------------------------------------------------------------------------

// An ISR for level lines: counts, records its IRQL, lets time pass with preemption points, and
// silences its device from its `deassert_on_call`-th call on.
struct LevelProbe {
  Device* device = nullptr;
  int deassert_on_call = 1;
  int spin = 0;
  std::atomic<int> runs{0};
  std::atomic<int> irql{-1};
  std::atomic<bool> on_test_thread{false};
  std::thread::id test_thread = std::this_thread::get_id();
};

BOOLEAN LevelIsr(PKINTERRUPT, PVOID context) {
  auto* probe = static_cast<LevelProbe*>(context);
  const int call = probe->runs.fetch_add(1) + 1;
  probe->irql = KeGetCurrentIrql();
  if (std::this_thread::get_id() == probe->test_thread) probe->on_test_thread = true;
  for (int i = 0; i < probe->spin; ++i) {
    (void)KeGetCurrentIrql();
    std::this_thread::yield();
  }
  if (call >= probe->deassert_on_call) probe->device->deassert_line();
  return TRUE;
}

// Records the processor (global index and group) each run happened on.
struct GroupProbe {
  std::atomic<int> runs{0};
  std::atomic<std::uint64_t> processors{0};  // bit per global processor index
  std::atomic<std::uint32_t> groups{0};      // bit per group
};

BOOLEAN GroupIsr(PKINTERRUPT, PVOID context) {
  auto* probe = static_cast<GroupProbe*>(context);
  PROCESSOR_NUMBER number{};
  const ULONG index = KeGetCurrentProcessorNumberEx(&number);
  probe->processors.fetch_or(std::uint64_t{1} << index);
  probe->groups.fetch_or(std::uint32_t{1} << number.Group);
  probe->runs.fetch_add(1);
  return TRUE;
}

// What a message ISR saw, per message ID.
constexpr ULONG kMessages = 8;

struct MessageProbe {
  std::array<std::atomic<int>, kMessages> runs{};
  std::array<std::atomic<int>, kMessages> irql{};
  std::array<std::atomic<int>, kMessages> processor{};
  std::array<std::atomic<PKINTERRUPT>, kMessages> interrupt{};
  std::array<KAFFINITY, kMessages> targets{};  // expected target sets, set by the test
  std::atomic<bool> bad_message_id{false};
  std::atomic<bool> off_target{false};
  std::atomic<bool> lock_not_held{false};
  PKSPIN_LOCK lock = nullptr;  // checked as held in every call if set
};

BOOLEAN MessageIsr(PKINTERRUPT interrupt, PVOID context, ULONG message_id) {
  auto* probe = static_cast<MessageProbe*>(context);
  if (message_id >= kMessages) {
    probe->bad_message_id = true;
    return FALSE;
  }
  const ULONG processor = KeGetCurrentProcessorNumber();
  probe->irql[message_id] = KeGetCurrentIrql();
  probe->processor[message_id] = static_cast<int>(processor);
  probe->interrupt[message_id] = interrupt;
  if (probe->targets[message_id] != 0 && ((probe->targets[message_id] >> processor) & 1u) == 0) {
    probe->off_target = true;
  }
  if (probe->lock != nullptr && LockWord(*probe->lock) == 0) probe->lock_not_held = true;
  probe->runs[message_id].fetch_add(1);
  return TRUE;
}

BOOLEAN RecordIrql(PVOID context) {
  static_cast<std::atomic<int>*>(context)->store(KeGetCurrentIrql());
  return TRUE;
}

// ---- devices ------------------------------------------------------------------------------------

constexpr ULONG kLineVector = 0x51;
constexpr KIRQL kLineIrql = 5;

DeviceConfig LatchedLineDevice(std::uint64_t affinity = ~std::uint64_t{0}) {
  return {.name = "latched",
          .lines = {{.vector = kLineVector, .irql = kLineIrql, .trigger = Trigger::Latched, .shareable = false,
                     .affinity = affinity}}};
}

DeviceConfig LevelLineDevice() {
  return {.name = "level", .lines = {{.vector = kLineVector, .irql = kLineIrql, .trigger = Trigger::Level}}};
}

// A multi-queue device: 8 MSI-X messages, message i on vector 0x60 + i at IRQL 5 + i % 4,
// targeting processor i % 4.
DeviceConfig MultiQueueDevice() {
  DeviceConfig config{.name = "multi-queue", .message_kind = MessageKind::MsiX};
  for (ULONG i = 0; i < kMessages; ++i) {
    config.messages.push_back({.vector = 0x60 + i,
                               .irql = static_cast<irqsim::Irql>(5 + i % 4),
                               .affinity = std::uint64_t{1} << (i % 4)});
  }
  return config;
}

KIRQL MessageIrql(ULONG id) { return static_cast<KIRQL>(5 + id % 4); }

// =================================================================================================
// Version handling
// =================================================================================================

TEST(IoConnectInterruptEx, UnknownVersionFailsWithInvalidParameter1AndReportsTheCurrentVersion) {
  Machine m;
  for (ULONG version : {0u, 6u, 99u}) {
    IO_CONNECT_INTERRUPT_PARAMETERS p{};
    p.Version = version;
    EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER_1) << "Version " << version;
    EXPECT_EQ(p.Version, ULONG{CONNECT_CURRENT_VERSION}) << "Version " << version;
  }
}

TEST(IoConnectInterruptEx, NullParametersFailsWithInvalidParameter) {
  Machine m;
  EXPECT_EQ(IoConnectInterruptEx(nullptr), STATUS_INVALID_PARAMETER);
}

TEST(IoConnectInterruptEx, AbovePassiveLevelBugChecksC4IrqlIoPassive2) {
  IsrRecord record;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = FullySpecifiedFor(device, &object, RecordingIsr, &record);
  const auto report = BugCheckOn(m, 1, [&] {
    RaiseTo(DISPATCH_LEVEL);
    (void)IoConnectInterruptEx(&p);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlIoPassive2), OnProcessor(1),
                                     AtIrql(DISPATCH_LEVEL))));
}

// =================================================================================================
// CONNECT_FULLY_SPECIFIED
// =================================================================================================

TEST(FullySpecified, ConnectsFromTheTranslatedDescriptorAndRunsTheIsrAtSynchronizeIrql) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug(LatchedLineDevice(0b10));
  PKINTERRUPT object = kGarbage;
  auto p = FullySpecifiedFor(device, &object, RecordingIsr, &record);
  ASSERT_EQ(p.FullySpecified.InterruptMode, Latched);
  ASSERT_FALSE(p.FullySpecified.ShareVector);
  p.FullySpecified.SynchronizeIrql = 7;
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  EXPECT_EQ(p.Version, ULONG{CONNECT_FULLY_SPECIFIED});
  ASSERT_NE(object, nullptr);
  ASSERT_NE(object, kGarbage);

  device.pulse_line();
  m.wait_until_quiescent();
  EXPECT_EQ(record.runs, 1);
  EXPECT_EQ(record.irql, 7);
  EXPECT_EQ(record.processor, 1);  // the descriptor's affinity
  EXPECT_FALSE(record.on_test_thread);

  // ShareVector came from CmResourceShareDeviceExclusive: nobody else may connect the vector.
  IsrRecord other;
  PKINTERRUPT second = nullptr;
  auto again = FullySpecifiedFor(device, &second, RecordingIsr, &other);
  EXPECT_EQ(IoConnectInterruptEx(&again), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(second, nullptr);
  Disconnect(CONNECT_FULLY_SPECIFIED, object);
}

TEST(FullySpecified, LevelSharedDescriptorConnectsALevelSensitiveShareableInterrupt) {
  LevelProbe probe;
  IsrRecord other;
  Machine m({.processors = 2});
  Device device = m.plug(LevelLineDevice());
  probe.device = &device;
  probe.deassert_on_call = 3;
  PKINTERRUPT object = nullptr;
  auto p = FullySpecifiedFor(device, &object, LevelIsr, &probe);
  ASSERT_EQ(p.FullySpecified.InterruptMode, LevelSensitive);
  ASSERT_TRUE(p.FullySpecified.ShareVector);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);

  // Level-sensitive: redelivered while still asserted, until the ISR silences the device.
  device.assert_line();
  m.wait_until_quiescent();
  EXPECT_EQ(probe.runs, 3);
  EXPECT_EQ(probe.irql, kLineIrql);

  // Shareable: a second ISR may join the vector.
  PKINTERRUPT second = nullptr;
  auto again = FullySpecifiedFor(device, &second, RecordingIsr, &other);
  EXPECT_EQ(IoConnectInterruptEx(&again), STATUS_SUCCESS);
  EXPECT_NE(second, nullptr);
  Disconnect(CONNECT_FULLY_SPECIFIED, second);
  Disconnect(CONNECT_FULLY_SPECIFIED, object);
}

class FullySpecifiedRejects : public ::testing::Test {
 protected:
  IsrRecord record;
  Machine m{{.processors = 2}};
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = kGarbage;
  IO_CONNECT_INTERRUPT_PARAMETERS p = FullySpecifiedFor(device, &object, RecordingIsr, &record);

  // Connecting fails with `expected`, leaves *InterruptObject NULL and nothing connected.
  void ExpectRejected(NTSTATUS expected) {
    EXPECT_EQ(IoConnectInterruptEx(&p), expected);
    EXPECT_EQ(object, nullptr);
    ExpectNothingConnected();
  }

  void ExpectNothingConnected() {
    m.pulse(kLineVector);
    m.wait_until_quiescent();
    EXPECT_EQ(record.runs, 0);
  }
};

TEST_F(FullySpecifiedRejects, NullPdoWithInvalidParameter) {
  p.FullySpecified.PhysicalDeviceObject = nullptr;
  ExpectRejected(STATUS_INVALID_PARAMETER);
}

TEST_F(FullySpecifiedRejects, APointerThatIsNoPdoWithInvalidParameter) {
  DEVICE_OBJECT not_a_pdo{};
  not_a_pdo.Type = 3;
  p.FullySpecified.PhysicalDeviceObject = &not_a_pdo;
  ExpectRejected(STATUS_INVALID_PARAMETER);
}

TEST_F(FullySpecifiedRejects, NullInterruptObjectWithInvalidParameter) {
  p.FullySpecified.InterruptObject = nullptr;
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  ExpectNothingConnected();
}

TEST_F(FullySpecifiedRejects, NullServiceRoutineWithInvalidParameter) {
  p.FullySpecified.ServiceRoutine = nullptr;
  ExpectRejected(STATUS_INVALID_PARAMETER);
}

TEST_F(FullySpecifiedRejects, EmptyProcessorEnableMaskWithInvalidParameter10) {
  p.FullySpecified.ProcessorEnableMask = 0;
  ExpectRejected(STATUS_INVALID_PARAMETER_10);
}

TEST_F(FullySpecifiedRejects, MaskOfNonexistentProcessorsWithInvalidParameter10) {
  p.FullySpecified.ProcessorEnableMask = 0b1100;  // the machine has processors 0 and 1
  ExpectRejected(STATUS_INVALID_PARAMETER_10);
}

TEST_F(FullySpecifiedRejects, SynchronizeIrqlBelowIrqlWithInvalidParameter) {
  p.FullySpecified.SynchronizeIrql = static_cast<KIRQL>(kLineIrql - 1);
  ExpectRejected(STATUS_INVALID_PARAMETER);
}

TEST_F(FullySpecifiedRejects, AVectorNotTheDevicesWithNotFound) {
  m.plug({.name = "neighbour", .lines = {{.vector = 0x62, .irql = 6, .trigger = Trigger::Latched}}});
  p.FullySpecified.Vector = 0x62;  // another device's
  p.FullySpecified.Irql = 6;
  p.FullySpecified.SynchronizeIrql = 6;
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_NOT_FOUND);
  EXPECT_EQ(object, nullptr);
  p.FullySpecified.Vector = 0x99;  // nobody's
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_NOT_FOUND);
}

TEST_F(FullySpecifiedRejects, TheRawResourcesVectorWithNotFound) {
  const auto raw = InterruptDescriptors(device.raw_resources());
  ASSERT_EQ(raw.size(), 1u);
  ASSERT_NE(raw[0].u.Interrupt.Vector, kLineVector);
  p.FullySpecified.Vector = raw[0].u.Interrupt.Vector;  // a common driver mistake
  ExpectRejected(STATUS_NOT_FOUND);
}

// A line routed to group 1 of a machine with two groups of two processors.
DeviceConfig GroupOneDevice() {
  return {.name = "group-1",
          .lines = {{.vector = kLineVector, .irql = kLineIrql, .trigger = Trigger::Latched, .shareable = false,
                     .group = 1, .affinity = 0b11}}};
}

void PulseRounds(Machine& m, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    m.pulse(kLineVector);
    m.wait_until_quiescent();
  }
}

TEST(FullySpecified, GroupIsIgnoredAndGroupZeroUsed) {
  GroupProbe probe;
  Machine m({.processors = 4, .processors_per_group = 2});
  Device device = m.plug(GroupOneDevice());
  PKINTERRUPT object = nullptr;
  auto p = FullySpecifiedFor(device, &object, GroupIsr, &probe);
  ASSERT_EQ(p.FullySpecified.Group, 1);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  PulseRounds(m, 8);
  EXPECT_EQ(probe.runs, 8);
  EXPECT_EQ(probe.groups, 0b01u);
  EXPECT_EQ(probe.processors & ~std::uint64_t{0b0011}, 0u);
  IoDisconnectInterrupt(object);
}

TEST(FullySpecifiedGroup, HonoursGroupAndRunsOnlyOnItsProcessors) {
  GroupProbe probe;
  Machine m({.processors = 4, .processors_per_group = 2});
  Device device = m.plug(GroupOneDevice());
  PKINTERRUPT object = nullptr;
  auto p = FullySpecifiedFor(device, &object, GroupIsr, &probe);
  p.Version = CONNECT_FULLY_SPECIFIED_GROUP;
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  EXPECT_EQ(p.Version, ULONG{CONNECT_FULLY_SPECIFIED_GROUP});
  PulseRounds(m, 8);
  EXPECT_EQ(probe.runs, 8);
  EXPECT_EQ(probe.groups, 0b10u);
  EXPECT_NE(probe.processors, 0u);
  EXPECT_EQ(probe.processors & ~std::uint64_t{0b1100}, 0u);  // processors 2 and 3 only
  Disconnect(CONNECT_FULLY_SPECIFIED_GROUP, object);
}

TEST(FullySpecifiedGroup, MaskBitsOutsideTheGroupsProcessorsFailWithInvalidParameter10) {
  GroupProbe probe;
  Machine m({.processors = 4, .processors_per_group = 2});
  Device device = m.plug(GroupOneDevice());
  PKINTERRUPT object = kGarbage;
  auto p = FullySpecifiedFor(device, &object, GroupIsr, &probe);
  p.Version = CONNECT_FULLY_SPECIFIED_GROUP;
  p.FullySpecified.ProcessorEnableMask = 0b1100;  // group 1 has only bits 0 and 1
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER_10);
  EXPECT_EQ(object, nullptr);
  p.FullySpecified.ProcessorEnableMask = 0b11;
  p.FullySpecified.Group = 2;  // no such group
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER_10);
  EXPECT_EQ(object, nullptr);
}

// =================================================================================================
// Passive-level ISRs (CONNECT_FULLY_SPECIFIED with Irql = SynchronizeIrql = PASSIVE_LEVEL)
// =================================================================================================

IO_CONNECT_INTERRUPT_PARAMETERS PassiveFor(const Device& device, PKINTERRUPT* out, PKSERVICE_ROUTINE isr,
                                           PVOID context) {
  auto p = FullySpecifiedFor(device, out, isr, context);
  p.FullySpecified.Irql = PASSIVE_LEVEL;
  p.FullySpecified.SynchronizeIrql = PASSIVE_LEVEL;
  return p;
}

TEST(PassiveIsr, RunsAtPassiveLevelOnASimulatedProcessor) {
  LevelProbe probe;
  Machine m({.processors = 2});
  Device device = m.plug(LevelLineDevice());
  probe.device = &device;
  PKINTERRUPT object = nullptr;
  auto p = PassiveFor(device, &object, LevelIsr, &probe);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  device.assert_line();
  m.wait_until_quiescent();
  EXPECT_EQ(probe.runs, 1);
  EXPECT_EQ(probe.irql, PASSIVE_LEVEL);
  EXPECT_FALSE(probe.on_test_thread);
  Disconnect(CONNECT_FULLY_SPECIFIED, object);
}

TEST(PassiveIsr, LevelLineStaysMaskedWhileTheIsrRunsSoItRunsOncePerAssertion) {
  LevelProbe probe;
  Machine m({.processors = 2});
  Device device = m.plug(LevelLineDevice());
  probe.device = &device;
  probe.spin = 500;  // still asserted, with the other processor idle, for a while
  PKINTERRUPT object = nullptr;
  auto p = PassiveFor(device, &object, LevelIsr, &probe);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  for (int assertion = 1; assertion <= 3; ++assertion) {
    device.assert_line();
    m.wait_until_quiescent();
    EXPECT_EQ(probe.runs, assertion);
  }
  device.deassert_line();
  IoDisconnectInterrupt(object);
}

TEST(PassiveIsr, LevelLineStillAssertedAfterTheIsrIsRedelivered) {
  LevelProbe probe;
  Machine m({.processors = 2});
  Device device = m.plug(LevelLineDevice());
  probe.device = &device;
  probe.deassert_on_call = 2;
  PKINTERRUPT object = nullptr;
  auto p = PassiveFor(device, &object, LevelIsr, &probe);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  device.assert_line();
  m.wait_until_quiescent();
  EXPECT_EQ(probe.runs, 2);
  EXPECT_FALSE(m.line_asserted(kLineVector));
  IoDisconnectInterrupt(object);
}

TEST(PassiveIsr, SpinLockFailsWithInvalidParameter) {
  IsrRecord record;
  KSPIN_LOCK lock;
  Machine m;
  KeInitializeSpinLock(&lock);
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = kGarbage;
  auto p = PassiveFor(device, &object, RecordingIsr, &record);
  p.FullySpecified.SpinLock = &lock;
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

struct PassiveSync {
  Gate entered;
  Gate pulsed;
  Gate finished;
  std::atomic<bool> done{false};
  std::atomic<int> sync_irql{-1};
  std::atomic<int> isr_runs{0};
  std::atomic<bool> isr_ran_inside_sync{false};
};

BOOLEAN PassiveSyncRoutine(PVOID context) {
  auto* s = static_cast<PassiveSync*>(context);
  s->sync_irql = KeGetCurrentIrql();
  s->entered.open();
  s->pulsed.wait();
  for (int i = 0; i < 2000; ++i) std::this_thread::yield();  // time for a wrongly admitted ISR
  s->done = true;
  return TRUE;
}

BOOLEAN PassiveSyncIsr(PKINTERRUPT, PVOID context) {
  auto* s = static_cast<PassiveSync*>(context);
  if (!s->done) s->isr_ran_inside_sync = true;
  s->isr_runs.fetch_add(1);
  return TRUE;
}

TEST(PassiveIsr, KeSynchronizeExecutionRunsAtPassiveAndExcludesTheIsr) {
  PassiveSync s;
  Machine m({.processors = 2});
  OpenOnExit guard(s.pulsed);
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = PassiveFor(device, &object, PassiveSyncIsr, &s);
  p.FullySpecified.ProcessorEnableMask = 0b10;
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);

  std::atomic<BOOLEAN> result{FALSE};
  m.post(0, [&] {
    OpenOnExit finished(s.finished);
    result = KeSynchronizeExecution(object, PassiveSyncRoutine, &s);
  });
  s.entered.wait();
  device.pulse_line();  // processor 1 is idle and could take it at once
  s.pulsed.open();
  s.finished.wait();
  m.wait_until_quiescent();

  EXPECT_EQ(result, TRUE);
  EXPECT_EQ(s.sync_irql, PASSIVE_LEVEL);
  EXPECT_EQ(s.isr_runs, 1);
  EXPECT_FALSE(s.isr_ran_inside_sync);
  IoDisconnectInterrupt(object);
}

TEST(PassiveIsr, KeAcquireInterruptSpinLockBugChecks13B) {
  IsrRecord record;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = PassiveFor(device, &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  const auto report = bug_check_from([&] { (void)KeAcquireInterruptSpinLock(object); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPassiveInterruptError), HasParameter(0, 1),
                                     HasParameter(1, AddressOf(object)), RuleMentions("KeAcquireInterruptSpinLock"))));
}

TEST(PassiveIsr, KeReleaseInterruptSpinLockBugChecks13B) {
  IsrRecord record;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = PassiveFor(device, &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  const auto report = bug_check_from([&] { KeReleaseInterruptSpinLock(object, PASSIVE_LEVEL); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPassiveInterruptError), HasParameter(0, 1),
                                     HasParameter(1, AddressOf(object)), RuleMentions("KeReleaseInterruptSpinLock"))));
}

struct Preemption {
  std::atomic<bool> passive_entered{false};
  std::atomic<bool> dirql_ran{false};
  std::atomic<bool> passive_saw_dirql{false};
  std::atomic<int> dirql_irql{-1};
  std::atomic<int> passive_irql_after{-1};
};

BOOLEAN SpinningPassiveIsr(PKINTERRUPT, PVOID context) {
  auto* s = static_cast<Preemption*>(context);
  s->passive_entered = true;
  // Each KeGetCurrentIrql() is a preemption point; the limit only keeps a broken library from hanging.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!s->dirql_ran && std::chrono::steady_clock::now() < deadline) (void)KeGetCurrentIrql();
  s->passive_saw_dirql = s->dirql_ran.load();
  s->passive_irql_after = KeGetCurrentIrql();
  return TRUE;
}

BOOLEAN FlaggingDirqlIsr(PKINTERRUPT, PVOID context) {
  auto* s = static_cast<Preemption*>(context);
  s->dirql_irql = KeGetCurrentIrql();
  s->dirql_ran = true;
  return TRUE;
}

TEST(PassiveIsr, ADirqlInterruptPreemptsARunningPassiveIsr) {
  Preemption s;
  Machine m({.processors = 1});
  Device slow = m.plug(LatchedLineDevice());
  Device fast = m.plug({.name = "fast", .lines = {{.vector = 0x62, .irql = 6, .trigger = Trigger::Latched}}});
  PKINTERRUPT passive = nullptr;
  PKINTERRUPT dirql = nullptr;
  auto pp = PassiveFor(slow, &passive, SpinningPassiveIsr, &s);
  auto pd = FullySpecifiedFor(fast, &dirql, FlaggingDirqlIsr, &s);
  ASSERT_EQ(IoConnectInterruptEx(&pp), STATUS_SUCCESS);
  ASSERT_EQ(IoConnectInterruptEx(&pd), STATUS_SUCCESS);

  slow.pulse_line();
  ASSERT_TRUE(Eventually([&] { return s.passive_entered.load(); }));
  fast.pulse_line();
  m.wait_until_quiescent();
  EXPECT_TRUE(s.passive_saw_dirql);
  EXPECT_EQ(s.dirql_irql, 6);
  EXPECT_EQ(s.passive_irql_after, PASSIVE_LEVEL);
  IoDisconnectInterrupt(dirql);
  IoDisconnectInterrupt(passive);
}

// =================================================================================================
// CONNECT_LINE_BASED
// =================================================================================================

TEST(LineBased, ConnectsTheDevicesLineFoundFromItsPdo) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = kGarbage;
  auto p = LineBased(device.pdo(), &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  EXPECT_EQ(p.Version, ULONG{CONNECT_LINE_BASED});
  ASSERT_NE(object, nullptr);
  ASSERT_NE(object, kGarbage);
  device.pulse_line();
  m.wait_until_quiescent();
  EXPECT_EQ(record.runs, 1);
  EXPECT_EQ(record.irql, kLineIrql);
  Disconnect(CONNECT_LINE_BASED, object);
}

struct TwoLines {
  std::atomic<bool> released{false};
  std::atomic<bool> ran_while_held{false};
  std::mutex mutex;
  std::vector<int> irqls;
  std::set<PKINTERRUPT> objects;
};

BOOLEAN TwoLinesIsr(PKINTERRUPT interrupt, PVOID context) {
  auto* s = static_cast<TwoLines*>(context);
  if (!s->released) s->ran_while_held = true;
  std::lock_guard lock(s->mutex);
  s->irqls.push_back(KeGetCurrentIrql());
  s->objects.insert(interrupt);
  return TRUE;
}

TEST(LineBased, OneIsrServesBothLinesOfATwoLineDeviceUnderOneLockAtTheHigherIrql) {
  TwoLines s;
  Gate held;
  Gate pulsed;
  Machine m({.processors = 2});
  OpenOnExit guard(pulsed);
  Device device = m.plug({.name = "two-lines",
                          .lines = {{.vector = 0x51, .irql = 5, .trigger = Trigger::Latched, .shareable = false},
                                    {.vector = 0x62, .irql = 7, .trigger = Trigger::Latched, .shareable = false}}});
  PKINTERRUPT object = nullptr;
  auto p = LineBased(device.pdo(), &object, TwoLinesIsr, &s);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);

  // Hold the lock of the returned object on processor 0: the ISR for neither line may run on
  // processor 1 until it is released.
  m.post(0, [&] {
    const KIRQL old = KeAcquireInterruptSpinLock(object);
    held.open();
    pulsed.wait();
    for (int i = 0; i < 2000; ++i) std::this_thread::yield();
    s.released = true;
    KeReleaseInterruptSpinLock(object, old);
  });
  held.wait();
  device.pulse_line(0);
  device.pulse_line(1);
  pulsed.open();
  m.wait_until_quiescent();

  EXPECT_FALSE(s.ran_while_held);
  std::lock_guard lock(s.mutex);
  EXPECT_THAT(s.irqls, ::testing::ElementsAre(7, 7));
  EXPECT_EQ(s.objects.size(), 2u);  // one interrupt object per line
  Disconnect(CONNECT_LINE_BASED, object);
}

TEST(LineBased, SynchronizeIrqlIsAMinimum) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug(LatchedLineDevice());
  for (const auto& [requested, expected] : std::vector<std::pair<KIRQL, int>>{{0, 5}, {3, 5}, {9, 9}}) {
    PKINTERRUPT object = nullptr;
    auto p = LineBased(device.pdo(), &object, RecordingIsr, &record, nullptr, requested);
    ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS) << "SynchronizeIrql " << int{requested};
    device.pulse_line();
    m.wait_until_quiescent();
    EXPECT_EQ(record.irql, expected) << "SynchronizeIrql " << int{requested};
    Disconnect(CONNECT_LINE_BASED, object);
  }
  EXPECT_EQ(record.runs, 3);
}

TEST(LineBased, APointerThatIsNoPdoFailsWithInvalidParameter) {
  IsrRecord record;
  Machine m;
  m.plug(LatchedLineDevice());
  DEVICE_OBJECT not_a_pdo{};
  PKINTERRUPT object = kGarbage;
  auto p = LineBased(&not_a_pdo, &object, RecordingIsr, &record);
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(object, nullptr);
}

// Connects line-based to a device plugged in as `config` and expects `expected` with
// *InterruptObject left NULL.
void ExpectLineBasedRejected(const irqsim::DeviceConfig& config, NTSTATUS expected) {
  IsrRecord record;
  Machine m({.processors = 4});
  Device device = m.plug(config);
  PKINTERRUPT object = kGarbage;
  auto p = LineBased(device.pdo(), &object, RecordingIsr, &record);
  EXPECT_EQ(IoConnectInterruptEx(&p), expected);
  EXPECT_EQ(object, nullptr);
}

TEST(LineBased, DeviceWithoutInterruptsFailsWithNotFound) {
  ExpectLineBasedRejected({.name = "quiet", .register_bytes = 0x100}, STATUS_NOT_FOUND);
}

TEST(LineBased, DeviceWithSeveralMessagesFailsWithInvalidDeviceRequest) {
  ExpectLineBasedRejected(MultiQueueDevice(), STATUS_INVALID_DEVICE_REQUEST);
}

TEST(LineBased, DeviceWithExactlyOneMessageAndNoLinesConnectsThatMessage) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug({.name = "one-msi", .message_kind = MessageKind::Msi, .messages = {{.vector = 0x70, .irql = 7}}});
  PKINTERRUPT object = nullptr;
  auto p = LineBased(device.pdo(), &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  device.signal_message(0);
  m.wait_until_quiescent();
  EXPECT_EQ(record.runs, 1);
  EXPECT_EQ(record.irql, 7);
  Disconnect(CONNECT_LINE_BASED, object);
}

// =================================================================================================
// CONNECT_MESSAGE_BASED
// =================================================================================================

class MessageBasedTest : public ::testing::Test {
 protected:
  MessageBasedTest() {
    for (ULONG i = 0; i < kMessages; ++i) probe.targets[i] = KAFFINITY{1} << (i % 4);
  }

  // Connects MessageIsr to the 8-message device and returns the table (nullptr on failure).
  PIO_INTERRUPT_MESSAGE_INFO Connect(PKSPIN_LOCK spin_lock = nullptr, KIRQL synchronize_irql = 0,
                                     ULONG version = CONNECT_MESSAGE_BASED) {
    PVOID context = nullptr;
    auto p = MessageBased(device.pdo(), &context, MessageIsr, &probe, spin_lock, synchronize_irql, nullptr, version);
    EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
    EXPECT_EQ(p.Version, version);
    return static_cast<PIO_INTERRUPT_MESSAGE_INFO>(context);
  }

  void SignalEachMessage() {
    for (ULONG i = 0; i < kMessages; ++i) device.signal_message(i);
    m.wait_until_quiescent();
  }

  MessageProbe probe;
  KSPIN_LOCK lock = 0;
  Machine m{{.processors = 4}};
  Device device = m.plug(MultiQueueDevice());
};

TEST_F(MessageBasedTest, TableDescribesEveryMessage) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->MessageCount, kMessages);
  std::set<PKINTERRUPT> objects;
  for (ULONG i = 0; i < kMessages; ++i) {
    const IO_INTERRUPT_MESSAGE_INFO_ENTRY& entry = table->MessageInfo[i];
    EXPECT_EQ(entry.Vector, 0x60 + i) << "message " << i;
    EXPECT_EQ(entry.Irql, MessageIrql(i)) << "message " << i;
    EXPECT_EQ(entry.TargetProcessorSet, KAFFINITY{1} << (i % 4)) << "message " << i;
    EXPECT_EQ(entry.Mode, Latched) << "message " << i;
    EXPECT_NE(entry.InterruptObject, nullptr) << "message " << i;
    objects.insert(entry.InterruptObject);
  }
  EXPECT_EQ(objects.size(), kMessages);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, IsrGetsTheMessageIdAndObjectOnAProcessorOfItsTargetSet) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  for (ULONG i = 0; i < kMessages; ++i) {
    device.signal_message(i);
    m.wait_until_quiescent();
    EXPECT_EQ(probe.runs[i], 1) << "message " << i;
    EXPECT_EQ(probe.processor[i], static_cast<int>(i % 4)) << "message " << i;
    EXPECT_EQ(probe.interrupt[i].load(), table->MessageInfo[i].InterruptObject) << "message " << i;
  }
  EXPECT_FALSE(probe.bad_message_id);
  EXPECT_FALSE(probe.off_target);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, PerMessageCountsAddUpExactly) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  constexpr int kRounds = 25;
  for (int round = 0; round < kRounds; ++round) SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) EXPECT_EQ(probe.runs[i], kRounds) << "message " << i;
  EXPECT_FALSE(probe.bad_message_id);
  EXPECT_FALSE(probe.off_target);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, EachEntrysInterruptObjectSynchronizesAtThatMessagesIrql) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  for (ULONG i = 0; i < kMessages; ++i) {
    std::atomic<int> irql{-1};
    const BOOLEAN result =
        m.run_on(i % 4, [&] { return KeSynchronizeExecution(table->MessageInfo[i].InterruptObject, RecordIrql, &irql); });
    EXPECT_EQ(result, TRUE);
    EXPECT_EQ(irql, MessageIrql(i)) << "message " << i;
  }
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, WithoutLockOrSynchronizeIrqlEachMessageRunsAtItsOwnIrql) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->UnifiedIrql, 0);
  SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) EXPECT_EQ(probe.irql[i], MessageIrql(i)) << "message " << i;
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, ASpinLockUnifiesEveryMessageAtTheHighestIrqlWithTheLockHeld) {
  KeInitializeSpinLock(&lock);
  probe.lock = &lock;
  PIO_INTERRUPT_MESSAGE_INFO table = Connect(&lock);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->UnifiedIrql, 8);
  SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) {
    EXPECT_EQ(probe.runs[i], 1) << "message " << i;
    EXPECT_EQ(probe.irql[i], 8) << "message " << i;
  }
  EXPECT_FALSE(probe.lock_not_held);
  EXPECT_EQ(LockWord(lock), 0u);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, SynchronizeIrqlAboveTheHighestIsUsed) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect(nullptr, 10);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->UnifiedIrql, 10);
  SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) EXPECT_EQ(probe.irql[i], 10) << "message " << i;
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, MessagesSignalledWhileTheTargetIsRaisedAreDeliveredOnce) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  {
    ParkedProcessor parked(m, 1, 10);  // message 1 (IRQL 6) targets processor 1 only
    for (int i = 0; i < 5; ++i) device.signal_message(1);
    EXPECT_EQ(probe.runs[1], 0);
  }
  m.wait_until_quiescent();
  EXPECT_EQ(probe.runs[1], 1);
  Disconnect(CONNECT_MESSAGE_BASED, table);
}

TEST_F(MessageBasedTest, NullMessageServiceRoutineFailsWithInvalidParameter) {
  PVOID context = kGarbage;
  auto p = MessageBased(device.pdo(), &context, nullptr, &probe);
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(context, nullptr);
}

TEST_F(MessageBasedTest, NullConnectionContextFailsWithInvalidParameter) {
  auto p = MessageBased(device.pdo(), nullptr, MessageIsr, &probe);
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) EXPECT_EQ(probe.runs[i], 0);
}

TEST(MessageBased, DeviceWithoutMessagesFallsBackToTheLineIsr) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug(LatchedLineDevice());
  PVOID context = nullptr;
  auto p = MessageBased(device.pdo(), &context, MessageIsr, &record, nullptr, 0, RecordingIsr);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  EXPECT_EQ(p.Version, ULONG{CONNECT_LINE_BASED});
  ASSERT_NE(context, nullptr);

  // The context is a KINTERRUPT: it works with KeSynchronizeExecution at the line's IRQL.
  std::atomic<int> irql{-1};
  EXPECT_EQ(KeSynchronizeExecution(static_cast<PKINTERRUPT>(context), RecordIrql, &irql), TRUE);
  EXPECT_EQ(irql, kLineIrql);

  device.pulse_line();
  m.wait_until_quiescent();
  EXPECT_EQ(record.runs, 1);
  EXPECT_EQ(record.irql, kLineIrql);
  Disconnect(CONNECT_LINE_BASED, context);
}

TEST(MessageBased, DeviceWithoutMessagesOrFallbackFailsWithNotFound) {
  MessageProbe probe;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PVOID context = kGarbage;
  auto p = MessageBased(device.pdo(), &context, MessageIsr, &probe);
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_NOT_FOUND);
  EXPECT_EQ(context, nullptr);
}

// =================================================================================================
// CONNECT_MESSAGE_BASED_PASSIVE
// =================================================================================================

TEST_F(MessageBasedTest, PassiveVersionRunsTheMessageIsrAtPassiveLevel) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect(nullptr, 0, CONNECT_MESSAGE_BASED_PASSIVE);
  ASSERT_NE(table, nullptr);
  SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) {
    EXPECT_EQ(probe.runs[i], 1) << "message " << i;
    EXPECT_EQ(probe.irql[i], PASSIVE_LEVEL) << "message " << i;
  }
  EXPECT_FALSE(probe.off_target);
  Disconnect(CONNECT_MESSAGE_BASED_PASSIVE, table);
}

TEST_F(MessageBasedTest, PassiveVersionWithASpinLockFailsWithInvalidParameter) {
  KeInitializeSpinLock(&lock);
  PVOID context = kGarbage;
  auto p = MessageBased(device.pdo(), &context, MessageIsr, &probe, &lock, 0, nullptr, CONNECT_MESSAGE_BASED_PASSIVE);
  EXPECT_EQ(IoConnectInterruptEx(&p), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(context, nullptr);
}

// =================================================================================================
// IoDisconnectInterruptEx
// =================================================================================================

TEST(IoDisconnectInterruptEx, FullySpecifiedIsrNeverRunsAgain) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = FullySpecifiedFor(device, &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  device.pulse_line();
  m.wait_until_quiescent();
  ASSERT_EQ(record.runs, 1);
  Disconnect(CONNECT_FULLY_SPECIFIED, object);
  device.pulse_line();
  m.wait_until_quiescent();
  EXPECT_EQ(record.runs, 1);
}

TEST(IoDisconnectInterruptEx, LineBasedDisconnectsEveryLine) {
  IsrRecord record;
  Machine m({.processors = 2});
  Device device = m.plug({.name = "two-lines",
                          .lines = {{.vector = 0x51, .irql = 5, .trigger = Trigger::Latched, .shareable = false},
                                    {.vector = 0x62, .irql = 7, .trigger = Trigger::Latched, .shareable = false}}});
  PKINTERRUPT object = nullptr;
  auto p = LineBased(device.pdo(), &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  device.pulse_line(0);
  device.pulse_line(1);
  m.wait_until_quiescent();
  ASSERT_EQ(record.runs, 2);
  Disconnect(CONNECT_LINE_BASED, object);
  device.pulse_line(0);
  device.pulse_line(1);
  m.wait_until_quiescent();
  EXPECT_EQ(record.runs, 2);
}

TEST_F(MessageBasedTest, DisconnectDisconnectsEveryMessage) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  SignalEachMessage();
  Disconnect(CONNECT_MESSAGE_BASED, table);
  SignalEachMessage();
  for (ULONG i = 0; i < kMessages; ++i) EXPECT_EQ(probe.runs[i], 1) << "message " << i;
}

TEST_F(MessageBasedTest, DisconnectingAMessageTableTwiceBugChecksCC) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  Disconnect(CONNECT_MESSAGE_BASED, table);
  const auto report = bug_check_from([&] { Disconnect(CONNECT_MESSAGE_BASED, table); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInFreedSpecialPool),
                                     HasParameter(0, AddressOf(table)), RuleMentions("IoDisconnectInterruptEx"))));
}

// Only what the connect returned stands for a set: one message's object cannot disconnect some
// of the messages and leave the table half connected.
TEST_F(MessageBasedTest, DisconnectingOneMessagesObjectInsteadOfTheTableBugChecks50) {
  PIO_INTERRUPT_MESSAGE_INFO table = Connect();
  ASSERT_NE(table, nullptr);
  PKINTERRUPT third = table->MessageInfo[3].InterruptObject;
  const auto report = bug_check_from([&] { Disconnect(CONNECT_FULLY_SPECIFIED, third); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, AddressOf(third)),
                                     RuleMentions("one of a set"))));
}

TEST(IoDisconnectInterrupt, TheSecondLineOfALineBasedSetBugChecks50) {
  TwoLines s;
  Machine m;
  Device device = m.plug({.name = "two-lines",
                          .lines = {{.vector = 0x51, .irql = 5, .trigger = Trigger::Latched, .shareable = false},
                                    {.vector = 0x62, .irql = 7, .trigger = Trigger::Latched, .shareable = false}}});
  PKINTERRUPT object = nullptr;
  auto p = LineBased(device.pdo(), &object, TwoLinesIsr, &s);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  device.pulse_line(1);
  m.wait_until_quiescent();
  PKINTERRUPT second = nullptr;
  {
    std::lock_guard lock(s.mutex);
    ASSERT_EQ(s.objects.size(), 1u);
    second = *s.objects.begin();
  }
  ASSERT_NE(second, object);
  EXPECT_THAT(bug_check_from([&] { IoDisconnectInterrupt(second); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), RuleMentions("one of a set"))));
}

TEST(IoDisconnectInterruptEx, MessageVersionWithTheFallbacksInterruptObjectBugChecks50) {
  IsrRecord record;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PVOID context = nullptr;
  auto p = MessageBased(device.pdo(), &context, MessageIsr, &record, nullptr, 0, RecordingIsr);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  ASSERT_EQ(p.Version, ULONG{CONNECT_LINE_BASED});
  const auto report = bug_check_from([&] { Disconnect(CONNECT_MESSAGE_BASED, context); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, AddressOf(context)),
                                     RuleMentions("CONNECT_LINE_BASED"), RuleMentions("IoDisconnectInterruptEx"))));
}

TEST(IoDisconnectInterruptEx, UnknownVersionBugChecks50) {
  IsrRecord record;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = LineBased(device.pdo(), &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  const auto report = bug_check_from([&] { Disconnect(7, object); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, AddressOf(object)),
                                     RuleMentions("Version 7"))));
}

TEST(IoDisconnectInterruptEx, NullParametersBugChecks50) {
  Machine m;
  const auto report = bug_check_from([] { IoDisconnectInterruptEx(nullptr); });
  EXPECT_THAT(report, Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), HasParameter(0, 0),
                                     RuleMentions("IoDisconnectInterruptEx"), OnTestThread())));
}

TEST(IoDisconnectInterruptEx, AbovePassiveLevelBugChecksC4IrqlIoPassive4) {
  IsrRecord record;
  Machine m;
  Device device = m.plug(LatchedLineDevice());
  PKINTERRUPT object = nullptr;
  auto p = LineBased(device.pdo(), &object, RecordingIsr, &record);
  ASSERT_EQ(IoConnectInterruptEx(&p), STATUS_SUCCESS);
  const auto report = BugCheckOn(m, 0, [&] {
    RaiseTo(DISPATCH_LEVEL);
    Disconnect(CONNECT_LINE_BASED, object);
  });
  EXPECT_THAT(report, Optional(AllOf(IsVerifierViolation(bugcheck::kRuleIrqlIoPassive4), OnProcessor(0))));
}

}  // namespace
