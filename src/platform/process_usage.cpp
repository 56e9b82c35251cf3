#include "platform/process_usage.hpp"

#if defined(_WIN32)
#include "platform/windows_api.hpp"
// windows.h first: psapi.h needs its types.
#include <psapi.h>
#else
#include <sys/resource.h>

#include <fstream>
#include <string>
#endif

namespace irqsim::platform {

#if defined(_WIN32)

namespace {

std::chrono::microseconds from_file_time(const FILETIME& time) {
  const std::uint64_t ticks = (std::uint64_t{time.dwHighDateTime} << 32) | time.dwLowDateTime;
  return std::chrono::microseconds(ticks / 10);  // FILETIME counts 100 ns
}

PROCESS_MEMORY_COUNTERS memory_counters() {
  PROCESS_MEMORY_COUNTERS counters{};
  // The kernel32 export, so that no psapi import library is needed.
  if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof(counters))) counters = {};
  return counters;
}

}  // namespace

std::chrono::microseconds process_cpu_time() {
  FILETIME created{};
  FILETIME exited{};
  FILETIME kernel{};
  FILETIME user{};
  if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) return {};
  return from_file_time(kernel) + from_file_time(user);
}

std::uint64_t resident_bytes() { return memory_counters().WorkingSetSize; }
std::uint64_t peak_resident_bytes() { return memory_counters().PeakWorkingSetSize; }

#else

namespace {

// A "VmRSS:"-style line of /proc/self/status, which is in KiB; 0 where there is no such file.
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

#endif

}  // namespace irqsim::platform
