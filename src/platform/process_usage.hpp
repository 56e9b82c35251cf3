#pragma once
// Readings of the host process the benchmarks report: its CPU time and its resident memory.

#include <chrono>
#include <cstdint>

namespace irqsim::platform {

// User plus system (kernel) CPU time of the whole process so far.
std::chrono::microseconds process_cpu_time();

// The process's resident set (working set) now, in bytes; 0 when the host does not say.
std::uint64_t resident_bytes();
// The largest resident set the process has had so far, in bytes; 0 when the host does not say.
std::uint64_t peak_resident_bytes();

}  // namespace irqsim::platform
