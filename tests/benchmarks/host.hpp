#pragma once
// Readings of the host process: CPU time and resident memory (the platform layer takes them),
// and the resident set of the empty process, taken when main() starts.

#include <cstdint>

#include "platform/process_usage.hpp"

namespace bench {

using irqsim::platform::peak_resident_bytes;
using irqsim::platform::process_cpu_time;
using irqsim::platform::resident_bytes;

// The resident set when main() started, before any benchmark ran: the empty process.
std::uint64_t resident_bytes_at_start();
void record_resident_bytes_at_start();

}  // namespace bench
