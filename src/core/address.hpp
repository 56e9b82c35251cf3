#pragma once
// A pointer as bug-check parameters, trace events and reports show it: its address as a 64-bit
// value, the ULONG_PTR a kernel debugger prints.

#include <cstdint>

namespace irqsim::core {

inline std::uint64_t address(const void* pointer) { return reinterpret_cast<std::uintptr_t>(pointer); }

}  // namespace irqsim::core
