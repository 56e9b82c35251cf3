// IoReportInterruptActive / IoReportInterruptInactive and IoGetAffinityInterrupt.

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>
#include <iointex.h>
#include <wdm.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "driver_test_support.hpp"

namespace {

using irqsim::Device;
using irqsim::Machine;
using irqsim::Trigger;
using namespace irqsim_test;

// A latched line on vector 0x58 connected fully specified from the device's translated resource.
struct Connected {
  Machine m{{.processors = 4}};
  Device device = m.plug({.name = "edge", .lines = {{.vector = 0x58, .irql = 6, .trigger = Trigger::Latched,
                                                     .affinity = 0b1010}}});
  IsrRecord isr;
  PKINTERRUPT object = nullptr;

  Connected() {
    IO_CONNECT_INTERRUPT_PARAMETERS parameters{};
    parameters.Version = CONNECT_FULLY_SPECIFIED;
    parameters.FullySpecified.PhysicalDeviceObject = device.pdo();
    parameters.FullySpecified.InterruptObject = &object;
    parameters.FullySpecified.ServiceRoutine = RecordingIsr;
    parameters.FullySpecified.ServiceContext = &isr;
    parameters.FullySpecified.Vector = 0x58;
    parameters.FullySpecified.Irql = 6;
    parameters.FullySpecified.SynchronizeIrql = 6;
    parameters.FullySpecified.InterruptMode = Latched;
    parameters.FullySpecified.ProcessorEnableMask = 0b1010;
    EXPECT_EQ(IoConnectInterruptEx(&parameters), STATUS_SUCCESS);
  }

  IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS State() {
    IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS state{};
    state.Version = CONNECT_FULLY_SPECIFIED;
    state.ConnectionContext.InterruptObject = object;
    return state;
  }
};

TEST(IoReportInterruptInactive, IsrIsNotCalledAndTheInterruptWaitsUntilActiveAgain) {
  Connected c;
  IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS state = c.State();
  IoReportInterruptInactive(&state);
  IoReportInterruptInactive(&state);  // repeating is not an error
  c.device.pulse_line();
  c.m.wait_until_quiescent();
  EXPECT_EQ(c.isr.runs, 0);
  EXPECT_EQ(c.m.stats(0x58).deliveries, 0u);

  IoReportInterruptActive(&state);
  c.m.wait_until_quiescent();
  EXPECT_EQ(c.isr.runs, 1);
  IoReportInterruptActive(&state);
  c.device.pulse_line();
  c.m.wait_until_quiescent();
  EXPECT_EQ(c.isr.runs, 2);
  IoDisconnectInterrupt(c.object);
}

TEST(IoReportInterruptInactive, AContextThatDoesNotFitItsVersionBugChecks50) {
  Connected c;
  IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS state = c.State();
  state.Version = CONNECT_MESSAGE_BASED;
  EXPECT_THAT(bug_check_from([&] { IoReportInterruptInactive(&state); }),
              Optional(AllOf(IsBugCheck(bugcheck::kPageFaultInNonpagedArea), RuleMentions("CONNECT_LINE_BASED"))));
}

TEST(IoGetAffinityInterrupt, GivesTheGroupAndMaskTheObjectIsConnectedOn) {
  Connected c;
  GROUP_AFFINITY affinity{};
  affinity.Reserved[0] = 7;
  EXPECT_EQ(IoGetAffinityInterrupt(c.object, &affinity), STATUS_SUCCESS);
  EXPECT_EQ(affinity.Mask, 0b1010u);
  EXPECT_EQ(affinity.Group, 0);
  EXPECT_EQ(affinity.Reserved[0], 0);
  IoDisconnectInterrupt(c.object);
}

TEST(Wdmlib, LibraryNamesBehaveAsTheRoutinesTheyStandFor) {
  Connected c;
  GROUP_AFFINITY affinity{};
  EXPECT_EQ(WdmlibIoGetAffinityInterrupt(c.object, &affinity), STATUS_SUCCESS);
  EXPECT_EQ(affinity.Mask, 0b1010u);
  IO_CONNECT_INTERRUPT_PARAMETERS bad{};
  bad.Version = 42;
  EXPECT_EQ(WdmlibIoConnectInterruptEx(&bad), STATUS_INVALID_PARAMETER_1);
  EXPECT_EQ(bad.Version, static_cast<ULONG>(CONNECT_CURRENT_VERSION));
  IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
  disconnect.Version = CONNECT_FULLY_SPECIFIED;
  disconnect.ConnectionContext.InterruptObject = c.object;
  WdmlibIoDisconnectInterruptEx(&disconnect);
  EXPECT_EQ(WdmlibIoGetAffinityInterrupt(c.object, &affinity), STATUS_INVALID_PARAMETER);
}

TEST(IoGetAffinityInterrupt, SomethingThatIsNoConnectedInterruptObjectIsAnInvalidParameter) {
  Connected c;
  GROUP_AFFINITY affinity{};
  int not_an_object = 0;
  EXPECT_EQ(IoGetAffinityInterrupt(reinterpret_cast<PKINTERRUPT>(&not_an_object), &affinity), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(IoGetAffinityInterrupt(nullptr, &affinity), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(IoGetAffinityInterrupt(c.object, nullptr), STATUS_INVALID_PARAMETER);
  IoDisconnectInterrupt(c.object);
  EXPECT_EQ(IoGetAffinityInterrupt(c.object, &affinity), STATUS_INVALID_PARAMETER);
}

}  // namespace
