#include <gtest/gtest.h>
#include <wdm.h>
#include <irqsim/machine.hpp>
#include <atomic>

namespace {
struct Ctx { std::atomic<int> hits{0}; std::atomic<int> irql{-1}; irqsim::Machine* m; };
BOOLEAN Isr(PKINTERRUPT, PVOID c) { auto* ctx = static_cast<Ctx*>(c); ctx->irql = KeGetCurrentIrql(); ++ctx->hits; return TRUE; }
}
TEST(Smoke, ConnectPulse) {
  irqsim::Machine m({.processors = 2});
  Ctx ctx; ctx.m = &m;
  PKINTERRUPT obj = nullptr;
  ASSERT_EQ(STATUS_SUCCESS, IoConnectInterrupt(&obj, Isr, &ctx, nullptr, 0x51, 5, 6, Latched, FALSE, 3, FALSE));
  m.pulse(0x51);
  m.wait_until_quiescent();
  EXPECT_EQ(ctx.hits, 1);
  EXPECT_EQ(ctx.irql, 6);
  IoDisconnectInterrupt(obj);
}
