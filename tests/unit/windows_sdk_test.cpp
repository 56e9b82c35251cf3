// irqsim in a Windows test project: a test source that includes <windows.h> before irqsim's
// control headers, and driver code that includes it before the WDK shims (windows_sdk_driver.c
// in C, windows_sdk_miniport.cpp with port class in C++), on machines the test drives.

#include <windows.h>

// Every control header, so that each meets the macros and names <windows.h> defined.
#include <irqsim/bugcheck.hpp>
#include <irqsim/device.hpp>
#include <irqsim/duration_histogram.hpp>
#include <irqsim/explore.hpp>
#include <irqsim/irql.hpp>
#include <irqsim/leak_report.hpp>
#include <irqsim/machine.hpp>
#include <irqsim/machine_stats.hpp>
#include <irqsim/schedule.hpp>
#include <irqsim/testing.hpp>
#include <irqsim/trace.hpp>
#include <irqsim/trace_collector.hpp>
#include <irqsim/trace_failing_tests.hpp>
#include <irqsim/vector_stats.hpp>

#ifdef IRQSIM_WDK_WDM_H
#error "the control headers brought in the WDK shims, whose names would meet <windows.h>'s"
#endif

#include <gtest/gtest.h>

#include <cstdint>

#include "windows_sdk_driver.h"

namespace {

using irqsim::Device;
using irqsim::DeviceConfig;
using irqsim::Machine;
using irqsim::Trigger;
namespace irql = irqsim::irql;

constexpr std::uint32_t kVector = 0x45;

DeviceConfig OneLatchedLine() {
  return {.name = "nic", .lines = {{.vector = kVector, .irql = 5, .trigger = Trigger::Latched}}};
}

TEST(WindowsSdk, TheControlHeadersWorkAfterWindowsH) {
  Machine m({.processors = 2});
  Device device = m.plug(OneLatchedLine());
  EXPECT_NE(m.run_on(1, [] { return GetCurrentThreadId(); }), GetCurrentThreadId())
      << "a simulated processor is a thread of its own";
  EXPECT_NE(device.pdo(), nullptr);
  device.pulse_line();
  m.wait_until_quiescent();
  const irqsim::VectorStats stats = m.stats(kVector);
  EXPECT_EQ(stats.raised, 1u);
  EXPECT_EQ(stats.dropped, 1u) << "nothing is connected to the vector";
}

TEST(WindowsSdk, TheInlineIrqlAndSpinLockRoutinesWorkInADriverThatIncludesWindowsH) {
  Machine m({.processors = 2});
  const windows_sdk_irqls seen = m.run_on(1, [] { return windows_sdk_driver_raise_and_lock(); });
  EXPECT_EQ(seen.before, irql::kPassive);
  EXPECT_EQ(seen.raised, irql::kDispatch);
  EXPECT_EQ(seen.lowered, irql::kPassive);
  EXPECT_EQ(seen.locked, irql::kDispatch);
  EXPECT_EQ(seen.after, irql::kPassive);
}

TEST(WindowsSdk, TheIsrOfADriverThatIncludesWindowsHTakesTheDevicesInterrupt) {
  Machine m({.processors = 2});
  Device device = m.plug(OneLatchedLine());
  ASSERT_EQ(windows_sdk_driver_connect(kVector, 5), 0) << "STATUS_SUCCESS";
  device.pulse_line();
  m.wait_until_quiescent();
  EXPECT_EQ(windows_sdk_driver_interrupts(), 1u);
  EXPECT_EQ(m.stats(kVector).claimed, 1u);
  windows_sdk_driver_disconnect();
}

TEST(WindowsSdk, PortClassAnswersAMiniportThatIncludesWindowsH) {
  Machine m;
  Device device = m.plug(OneLatchedLine());
  EXPECT_EQ(windows_sdk_miniport_interrupts(device.translated_resources(), device.raw_resources()), 1);
}

}  // namespace
