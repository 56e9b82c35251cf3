#pragma once
// A planted race for the exploration tests (explore_test, explore_fixture): two processors add
// to a shared counter with a read-modify-write that a WDK call splits. On a deterministic machine
// the call is a scheduling point, so some interleavings lose an update; under the spin lock none
// does.

#include <wdm.h>

#include <irqsim/machine.hpp>

namespace irqsim_test {

/// @brief Whether the read-modify-write runs under a spin lock (the fix) or not (the race).
enum class Update { Racy, Locked };

/// @brief Posts `increments` additions of one to a shared counter to each of two processors,
/// waits for them and returns the count: 2 * increments unless an update was lost.
inline int CountOnTwoProcessors(int increments, Update update) {
  irqsim::Machine machine({.processors = 2});
  KSPIN_LOCK lock = 0;
  KeInitializeSpinLock(&lock);
  int counter = 0;
  const auto add = [&] {
    for (int i = 0; i < increments; ++i) {
      KIRQL old = PASSIVE_LEVEL;
      if (update == Update::Locked) KeAcquireSpinLock(&lock, &old);
      const int read = counter;
      // A scheduling point that does not wait, so whether the other processor runs in between is
      // the scheduler's choice; a stall would hand it the turn in every run.
      (void)KeQueryInterruptTime();
      counter = read + 1;
      if (update == Update::Locked) KeReleaseSpinLock(&lock, old);
    }
  };
  machine.post(0, add);
  machine.post(1, add);
  machine.wait_until_quiescent();
  return counter;
}

}  // namespace irqsim_test
