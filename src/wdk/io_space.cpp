#include "wdk/io_space.hpp"

#include "core/device.hpp"
#include "core/machine.hpp"

namespace irqsim::wdk {

namespace {

// Host bytes reserved after each mapping's addresses. An access just past the end (an
// off-by-one register offset) lands there and is reported, instead of being taken for ordinary
// memory and reading or writing whatever the host heap keeps beside the mapping.
constexpr std::size_t kGuardBytes = 4096;

}  // namespace

IoSpace::IoSpace(core::Machine& machine) : machine_(machine) {}

void* IoSpace::map(std::uint64_t physical, std::size_t length) {
  if (length == 0) return nullptr;
  for (core::Device* device : machine_.devices()) {
    const std::uint64_t base = device->register_base();
    const std::uint64_t size = device->wiring().register_bytes;
    if (physical < base || physical - base > size || length > size - (physical - base)) continue;
    Mapping mapping{std::make_unique<std::byte[]>(length + kGuardBytes), length, device, physical - base};
    const auto address = reinterpret_cast<std::uintptr_t>(mapping.addresses.get());
    std::lock_guard lock(mutex_);
    mappings_.emplace(address, std::move(mapping));
    return reinterpret_cast<void*>(address);
  }
  return nullptr;
}

bool IoSpace::unmap(const void* base, std::size_t length) {
  std::lock_guard lock(mutex_);
  auto found = mappings_.find(reinterpret_cast<std::uintptr_t>(base));
  if (found == mappings_.end() || found->second.unmapped || found->second.length != length) return false;
  found->second.unmapped = true;
  return true;
}

IoSpace::Lookup IoSpace::find(const void* address, unsigned width, Register* where) const {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::lock_guard lock(mutex_);
  auto after = mappings_.upper_bound(at);
  if (after == mappings_.begin()) return Lookup::Elsewhere;
  const auto& [base, mapping] = *std::prev(after);
  if (at - base >= mapping.length + kGuardBytes) return Lookup::Elsewhere;
  if (mapping.unmapped || at - base >= mapping.length || width > mapping.length - (at - base)) return Lookup::Invalid;
  *where = Register{mapping.device, mapping.offset + (at - base)};
  return Lookup::Mapped;
}

}  // namespace irqsim::wdk
