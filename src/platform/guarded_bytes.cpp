#include "platform/guarded_bytes.hpp"

#include <cstring>
#include <stdexcept>

#if defined(_WIN32)
#include "platform/windows_api.hpp"
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace irqsim::platform {

namespace {

std::size_t page_size() {
#if defined(_WIN32)
  SYSTEM_INFO system{};
  GetSystemInfo(&system);
  return system.dwPageSize;
#else
  return static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#endif
}

// Two pages, readable and writable; nullptr on failure.
void* map_two_pages(std::size_t page) {
#if defined(_WIN32)
  return VirtualAlloc(nullptr, 2 * page, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
#else
  void* mapping = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return mapping == MAP_FAILED ? nullptr : mapping;
#endif
}

bool forbid(void* page_start, std::size_t page) {
#if defined(_WIN32)
  DWORD old = 0;
  return VirtualProtect(page_start, page, PAGE_NOACCESS, &old) != 0;
#else
  return mprotect(page_start, page, PROT_NONE) == 0;
#endif
}

void unmap_two_pages(void* mapping, std::size_t page) {
#if defined(_WIN32)
  static_cast<void>(page);
  VirtualFree(mapping, 0, MEM_RELEASE);
#else
  munmap(mapping, 2 * page);
#endif
}

}  // namespace

GuardedBytes::GuardedBytes(std::span<const std::byte> bytes) : page_(page_size()), mapping_(map_two_pages(page_)) {
  std::byte* const guard = static_cast<std::byte*>(mapping_) + page_;
  if (mapping_ == nullptr || bytes.size() > page_ || !forbid(guard, page_)) {
    if (mapping_ != nullptr) unmap_two_pages(mapping_, page_);
    throw std::runtime_error("cannot map a guarded page");
  }
  data_ = guard - bytes.size();
  if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
}

GuardedBytes::~GuardedBytes() { unmap_two_pages(mapping_, page_); }

}  // namespace irqsim::platform
