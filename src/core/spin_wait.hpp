#pragma once
// How code of the machine waits for something another participant will do (a spin lock to be
// released, a service routine to finish, a DPC queue to drain): the one place that knows the
// two execution modes wait differently. Free-running, the waiter spins, yields and sleeps
// (platform::Backoff); deterministic, it gives the turn away until what it waits for holds,
// or, on a processor, until an interrupt or work arrives for it. Callers loop as they always
// do, re-checking after each pause.

#include <cstdint>
#include <functional>
#include <optional>

#include "core/execution_context.hpp"
#include "platform/backoff.hpp"

namespace irqsim::core {

class SpinWait {
 public:
  // `what` and `subject` name the wait in a hang report ("spin lock", its address).
  SpinWait(ExecutionContext& waiter, const char* what, std::uint64_t subject = 0) noexcept
      : waiter_(waiter), what_(what), subject_(subject) {}

  void pause(std::function<bool()> ready);
  // A pause of a wait for the machine's clock to reach `until_ns`.
  void pause_until(std::int64_t until_ns);

 private:
  void pause(std::function<bool()> ready, std::optional<std::int64_t> until_ns);

  ExecutionContext& waiter_;
  const char* what_;
  std::uint64_t subject_;
  platform::Backoff backoff_;
};

}  // namespace irqsim::core
