#include "host.hpp"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace bench {

namespace {

std::uint64_t status_field_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string name;
  while (status >> name) {
    if (name == field) {
      std::uint64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

std::uint64_t start_resident = 0;

}  // namespace

std::chrono::microseconds process_cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto to_microseconds = [](const timeval& time) {
    return std::chrono::seconds(time.tv_sec) + std::chrono::microseconds(time.tv_usec);
  };
  return to_microseconds(usage.ru_utime) + to_microseconds(usage.ru_stime);
}

std::uint64_t resident_bytes() { return status_field_bytes("VmRSS:"); }
std::uint64_t peak_resident_bytes() { return status_field_bytes("VmHWM:"); }
std::uint64_t resident_bytes_at_start() { return start_resident; }
void record_resident_bytes_at_start() { start_resident = resident_bytes(); }

}  // namespace bench
