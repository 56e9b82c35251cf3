// A driver test as a consumer writes it: <wdm.h> for the driver, <irqsim/...> for the test.
#include <irqsim/machine.hpp>
#include <wdm.h>

#include <cstdio>

namespace {
KIRQL observed = 0;

BOOLEAN Isr(PKINTERRUPT, PVOID) {
  observed = KeGetCurrentIrql();
  return TRUE;
}
}  // namespace

int main() {
  irqsim::Machine machine({.processors = 2});
  PKINTERRUPT interrupt = nullptr;
  if (IoConnectInterrupt(&interrupt, Isr, nullptr, nullptr, 0x70, 7, 7, Latched, FALSE, 3, FALSE) != STATUS_SUCCESS) {
    return 1;
  }
  machine.pulse(0x70);
  machine.wait_until_quiescent();
  IoDisconnectInterrupt(interrupt);
  std::printf("irqsim consumer: ISR ran at IRQL %u\n", static_cast<unsigned>(observed));
  return observed == 7 ? 0 : 1;
}
