#pragma once
// Readings of the host process: CPU time and resident memory.

#include <chrono>
#include <cstdint>

namespace bench {

// User plus system CPU time of the whole process so far.
std::chrono::microseconds process_cpu_time();
// The resident set now, and its peak so far (VmRSS and VmHWM), in bytes; 0 when unknown.
std::uint64_t resident_bytes();
std::uint64_t peak_resident_bytes();
// The resident set when main() started, before any benchmark ran: the empty process.
std::uint64_t resident_bytes_at_start();
void record_resident_bytes_at_start();

}  // namespace bench
