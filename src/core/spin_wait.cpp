#include "core/spin_wait.hpp"

#include "core/machine.hpp"
#include "core/processor.hpp"
#include "core/scheduler.hpp"

namespace irqsim::core {

void SpinWait::pause(std::function<bool()> ready) { pause(std::move(ready), std::nullopt); }

void SpinWait::pause_until(std::int64_t until_ns) { pause({}, until_ns); }

void SpinWait::pause(std::function<bool()> ready, std::optional<std::int64_t> until_ns) {
  Scheduler* scheduler = waiter_.machine().scheduler();
  if (scheduler == nullptr || scheduler->released()) {
    backoff_.pause();
    return;
  }
  Scheduler::Wait wait{.what = what_, .subject = subject_, .ready = std::move(ready), .until = until_ns};
  if (const Processor* processor = waiter_.processor()) {
    wait.wakes_on_doorbell = true;
    wait.doorbell_seen = processor->doorbell_rings();
  }
  scheduler->wait(scheduler->participant_of(waiter_), std::move(wait));
}

}  // namespace irqsim::core
