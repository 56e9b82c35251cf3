// A test program for trace_failing_tests_test: its tests fail or pass on purpose, so that the
// test of irqsim::testing::trace_failing_tests can run it and look at what it wrote. CTest does
// not run it by itself.

#include <gtest/gtest.h>
#include <wdm.h>

#include <irqsim/machine.hpp>
#include <irqsim/trace_failing_tests.hpp>

namespace {

[[maybe_unused]] const bool traced = irqsim::testing::trace_failing_tests();

BOOLEAN Claims(PKINTERRUPT, PVOID) { return TRUE; }

// One interrupt taken, then the verdict.
void TakeOneInterrupt() {
  irqsim::Machine m({.processors = 2});
  PKINTERRUPT object = nullptr;
  ASSERT_EQ(IoConnectInterrupt(&object, Claims, nullptr, nullptr, 0x61, 6, 6, Latched, FALSE, 1, FALSE),
            STATUS_SUCCESS);
  m.pulse(0x61);
  m.wait_until_quiescent();
  IoDisconnectInterrupt(object);
}

TEST(OnPurpose, FailsAfterAnInterrupt) {
  TakeOneInterrupt();
  ADD_FAILURE() << "failing on purpose";
}

TEST(OnPurpose, PassesAfterAnInterrupt) { TakeOneInterrupt(); }

TEST(OnPurpose, FailsAfterTwoMachines) {
  TakeOneInterrupt();
  TakeOneInterrupt();
  ADD_FAILURE() << "failing on purpose";
}

}  // namespace
