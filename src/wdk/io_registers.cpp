// MmMapIoSpace(Ex), MmUnmapIoSpace and the register routines: a driver's view of its device's
// memory-mapped registers.

#include <fmt/format.h>

#include "core/device.hpp"
#include "core/machine.hpp"
#include "wdk/io_space.hpp"
#include "wdk/kernel_call.hpp"

using namespace irqsim;

namespace {

wdk::IoSpace& io_space(core::ExecutionContext& context) { return context.machine().extension<wdk::IoSpace>(); }

[[noreturn]] void stale_access(core::ExecutionContext& context, const volatile void* address, bool write,
                               std::string_view api) {
  wdk::bug_check(context, bugcheck::kPageFaultInNonpagedArea,
                 {wdk::address(const_cast<const void*>(address)), write ? 1u : 0u, 0, 0},
                 fmt::format("{} accessed {:#x}, which is in a register mapping that MmUnmapIoSpace released or "
                             "past the end of its mapping.",
                             api, wdk::address(const_cast<const void*>(address))));
}

// An access through a mapping goes to the device; any other address is ordinary memory,
// accessed as the WDK's volatile register macros would.
template <class T>
T read_register(volatile T* address, std::string_view api) {
  auto& context = wdk::enter();
  wdk::IoSpace::Register where{};
  switch (io_space(context).find(const_cast<const T*>(address), sizeof(T), &where)) {
    case wdk::IoSpace::Lookup::Mapped:
      return static_cast<T>(where.device->read_register(where.offset, sizeof(T)));
    case wdk::IoSpace::Lookup::Invalid:
      stale_access(context, address, false, api);
    case wdk::IoSpace::Lookup::Elsewhere:
      break;
  }
  return *address;
}

template <class T>
void write_register(volatile T* address, T value, std::string_view api) {
  auto& context = wdk::enter();
  wdk::IoSpace::Register where{};
  switch (io_space(context).find(const_cast<const T*>(address), sizeof(T), &where)) {
    case wdk::IoSpace::Lookup::Mapped:
      where.device->write_register(where.offset, sizeof(T), value);
      return;
    case wdk::IoSpace::Lookup::Invalid:
      stale_access(context, address, true, api);
    case wdk::IoSpace::Lookup::Elsewhere:
      break;
  }
  *address = value;
}

}  // namespace

extern "C" {

PVOID MmMapIoSpace(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes, MEMORY_CACHING_TYPE CacheType) {
  UNREFERENCED_PARAMETER(CacheType);  // every mapping is uncached device memory here
  auto& context = wdk::enter();
  return io_space(context).map(static_cast<std::uint64_t>(PhysicalAddress.QuadPart), NumberOfBytes);
}

PVOID MmMapIoSpaceEx(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes, ULONG Protect) {
  auto& context = wdk::enter();
  // Device memory is mapped read-write or read-only, and uncached or write-combined.
  const ULONG access = Protect & ~static_cast<ULONG>(PAGE_NOCACHE | PAGE_WRITECOMBINE);
  if (access != PAGE_READWRITE && access != PAGE_READONLY) return nullptr;
  return io_space(context).map(static_cast<std::uint64_t>(PhysicalAddress.QuadPart), NumberOfBytes);
}

VOID MmUnmapIoSpace(PVOID BaseAddress, SIZE_T NumberOfBytes) {
  auto& context = wdk::enter();
  if (!io_space(context).unmap(BaseAddress, NumberOfBytes)) {
    wdk::bug_check(context, bugcheck::kPageFaultInNonpagedArea, {wdk::address(BaseAddress), 0, 0, 0},
                   fmt::format("MmUnmapIoSpace was passed {:#x} and {:#x} bytes, which is not a mapping "
                               "MmMapIoSpace returned (or it was already unmapped, or the size differs).",
                               wdk::address(BaseAddress), NumberOfBytes));
  }
}

UCHAR READ_REGISTER_UCHAR(volatile UCHAR* Register) { return read_register(Register, "READ_REGISTER_UCHAR"); }
USHORT READ_REGISTER_USHORT(volatile USHORT* Register) { return read_register(Register, "READ_REGISTER_USHORT"); }
ULONG READ_REGISTER_ULONG(volatile ULONG* Register) { return read_register(Register, "READ_REGISTER_ULONG"); }
ULONG64 READ_REGISTER_ULONG64(volatile ULONG64* Register) {
  return read_register(Register, "READ_REGISTER_ULONG64");
}

VOID WRITE_REGISTER_UCHAR(volatile UCHAR* Register, UCHAR Value) {
  write_register(Register, Value, "WRITE_REGISTER_UCHAR");
}
VOID WRITE_REGISTER_USHORT(volatile USHORT* Register, USHORT Value) {
  write_register(Register, Value, "WRITE_REGISTER_USHORT");
}
VOID WRITE_REGISTER_ULONG(volatile ULONG* Register, ULONG Value) {
  write_register(Register, Value, "WRITE_REGISTER_ULONG");
}
VOID WRITE_REGISTER_ULONG64(volatile ULONG64* Register, ULONG64 Value) {
  write_register(Register, Value, "WRITE_REGISTER_ULONG64");
}

}  // extern "C"
