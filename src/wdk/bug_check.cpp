// KeBugCheckEx and KeBugCheck: a driver's own request to halt the machine.

#include <fmt/format.h>

#include "wdk/kernel_call.hpp"

using namespace irqsim;

extern "C" {

VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1, ULONG_PTR BugCheckParameter2,
                  ULONG_PTR BugCheckParameter3, ULONG_PTR BugCheckParameter4) {
  auto& context = core::current_context();  // not wdk::enter(): a bug check takes no interrupts first
  wdk::bug_check(context, BugCheckCode,
                 {BugCheckParameter1, BugCheckParameter2, BugCheckParameter3, BugCheckParameter4},
                 fmt::format("The driver called KeBugCheckEx with code {:#x}.", BugCheckCode));
}

VOID KeBugCheck(ULONG BugCheckCode) { KeBugCheckEx(BugCheckCode, 0, 0, 0, 0); }

}  // extern "C"
