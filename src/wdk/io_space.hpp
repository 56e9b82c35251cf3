#pragma once
// The driver's mappings of device registers. MmMapIoSpace hands out host memory that is never
// read or written: its addresses stand for register offsets of one device, and the register
// routines (READ_REGISTER_ULONG, ...) turn an access through them into a call to the device.
// Unmapped ranges are kept, and a guard follows each mapping, so a stale pointer or an access
// just past the end is recognised instead of touching memory the driver does not own.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace irqsim::core {
class Device;
class Machine;
}  // namespace irqsim::core

namespace irqsim::wdk {

class IoSpace {
 public:
  explicit IoSpace(core::Machine& machine);

  // A mapping of `length` bytes starting at physical address `physical`, or nullptr when that
  // range is not inside one device's register block.
  void* map(std::uint64_t physical, std::size_t length);
  // false when `base` is not the start of a live mapping of exactly `length` bytes.
  bool unmap(const void* base, std::size_t length);

  struct Register {
    core::Device* device;
    std::uint64_t offset;
  };
  enum class Lookup : std::uint8_t { Mapped, Invalid, Elsewhere };
  // Where an access of `width` bytes at `address` goes: a device register, nowhere (a range
  // unmapped since, or at or across a mapping's end), or memory that is no mapping at all.
  Lookup find(const void* address, unsigned width, Register* where) const;

 private:
  struct Mapping {
    std::unique_ptr<std::byte[]> addresses;
    std::size_t length;
    core::Device* device;
    std::uint64_t offset;
    bool unmapped = false;
  };

  core::Machine& machine_;
  mutable std::mutex mutex_;
  std::map<std::uintptr_t, Mapping> mappings_;
};

}  // namespace irqsim::wdk
