#include "host.hpp"

namespace bench {

namespace {

std::uint64_t start_resident = 0;

}  // namespace

std::uint64_t resident_bytes_at_start() { return start_resident; }
void record_resident_bytes_at_start() { start_resident = resident_bytes(); }

}  // namespace bench
