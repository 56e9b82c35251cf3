#pragma once
// Bytes placed flush against a page the process may not touch, so that reading one byte past
// them faults in any build, not only under AddressSanitizer: how the fuzz regression tests
// prove that a parser stays inside its input.

#include <cstddef>
#include <span>

namespace irqsim::platform {

class GuardedBytes {
 public:
  // Copies `bytes` (at most one page) to the end of a readable page followed by an inaccessible
  // one; throws std::runtime_error if the host refuses the mapping.
  explicit GuardedBytes(std::span<const std::byte> bytes);
  ~GuardedBytes();
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;

  [[nodiscard]] std::byte* data() const { return data_; }

 private:
  std::size_t page_ = 0;
  void* mapping_ = nullptr;
  std::byte* data_ = nullptr;
};

}  // namespace irqsim::platform
