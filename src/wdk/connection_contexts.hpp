#pragma once
// What IoConnectInterruptEx stored for the driver (an interrupt object, or a message table for
// message-based connections), found again from the Version it returned. Shared by
// IoDisconnectInterruptEx and IoReportInterruptActive/Inactive.

#include <string_view>

#include "core/execution_context.hpp"
#include "core/interrupt_object.hpp"
#include "wdm.h"

namespace irqsim::wdk {

// The first object of the set behind `connection_context`. Bug check 0x50 when the context
// does not fit the Version (or the Version is unknown), 0xCC when it was disconnected. With
// `disconnecting`, a message table counts as disconnected from now on.
core::InterruptObject& connected_set(core::ExecutionContext& context, ULONG version, PVOID connection_context,
                                     std::string_view api, bool disconnecting);

}  // namespace irqsim::wdk
