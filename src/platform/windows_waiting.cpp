// The Windows side of platform/semaphore.hpp and platform/doorbell.hpp: the system's semaphore
// and its wait-on-address, the primitives Windows has where Linux has the futex. Built on Windows only.

#include "platform/windows_api.hpp"

#include <climits>
#include <cstdlib>

#include "platform/doorbell.hpp"
#include "platform/semaphore.hpp"

namespace irqsim::platform {

Semaphore::Semaphore() : handle_(CreateSemaphoreW(nullptr, 0, LONG_MAX, nullptr)) {
  // Without it no participant could ever be handed the turn; nothing sensible remains to do.
  if (handle_ == nullptr) std::abort();
}

Semaphore::~Semaphore() { CloseHandle(handle_); }

void Semaphore::release() { ReleaseSemaphore(handle_, 1, nullptr); }

void Semaphore::acquire() { WaitForSingleObject(handle_, INFINITE); }

bool Semaphore::try_acquire_for(std::chrono::milliseconds timeout) {
  return WaitForSingleObject(handle_, static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
}

void Doorbell::ring() noexcept {
  rings_.fetch_add(1, std::memory_order_acq_rel);
  WakeByAddressAll(&rings_);
}

void Doorbell::sleep_unless_rung_since(std::uint32_t seen) const noexcept {
  // WaitOnAddress may return spuriously, and returns at once if the value already differs.
  while (read() == seen) {
    WaitOnAddress(const_cast<std::atomic<std::uint32_t>*>(&rings_), &seen, sizeof(seen), INFINITE);
  }
}

}  // namespace irqsim::platform
