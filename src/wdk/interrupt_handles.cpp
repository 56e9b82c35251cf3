#include "wdk/interrupt_handles.hpp"

#include <fmt/format.h>

#include "core/machine.hpp"
#include "wdk/kernel_call.hpp"

namespace irqsim::wdk {

core::InterruptObject& resolve(core::ExecutionContext& context, PKINTERRUPT handle, std::string_view api) {
  core::InterruptObject* object = nullptr;
  switch (context.machine().interrupt_objects().find(handle, &object)) {
    case core::InterruptObjectPool::Lookup::Connected:
      return *object;
    case core::InterruptObjectPool::Lookup::Disconnected:
      bug_check(context, bugcheck::kPageFaultInFreedSpecialPool, {address(handle), 0, 0, 0},
                fmt::format("{} was passed interrupt object {:#x}, which IoDisconnectInterrupt already freed.", api,
                            address(handle)));
    case core::InterruptObjectPool::Lookup::Unknown:
      break;
  }
  bug_check(context, bugcheck::kPageFaultInNonpagedArea, {address(handle), 0, 0, 0},
            fmt::format("{} was passed {:#x}, which is not an interrupt object connected on this machine.", api,
                        address(handle)));
}

}  // namespace irqsim::wdk
