#pragma once
// A PKINTERRUPT is the address of a core interrupt object. Every routine that takes one from a
// driver resolves it here, so a stale, foreign or NULL pointer becomes a bug check instead of
// a crash of the test process.

#include <string_view>

#include "core/execution_context.hpp"
#include "core/interrupt_object.hpp"
#include "wdm.h"

namespace irqsim::wdk {

inline PKINTERRUPT to_handle(core::InterruptObject* object) { return reinterpret_cast<PKINTERRUPT>(object); }

// The connected object behind `handle`. Bug check 0xCC for a disconnected one, 0x50 for
// anything that is not an interrupt object of this machine.
core::InterruptObject& resolve(core::ExecutionContext& context, PKINTERRUPT handle, std::string_view api);

}  // namespace irqsim::wdk
