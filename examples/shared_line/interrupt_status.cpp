#include "interrupt_status.hpp"

InterruptStatusRegister::InterruptStatusRegister(irqsim::Device device, std::uint64_t offset) : device_(device) {
  device_.on_read(offset, [this](std::uint64_t, unsigned) -> std::uint64_t { return read(); });
  device_.on_write(offset, [this](std::uint64_t, unsigned, std::uint64_t value) {
    acknowledge(static_cast<std::uint32_t>(value));
  });
}

void InterruptStatusRegister::raise(std::uint32_t causes) {
  std::lock_guard lock(mutex_);
  pending_ |= causes;
  device_.assert_line();
}

std::uint32_t InterruptStatusRegister::read() {
  std::lock_guard lock(mutex_);
  ++reads_;
  return pending_;
}

void InterruptStatusRegister::acknowledge(std::uint32_t causes) {
  std::lock_guard lock(mutex_);
  acknowledgements_.push_back(causes);
  pending_ &= ~causes;
  if (pending_ == 0) device_.deassert_line();
}

std::uint32_t InterruptStatusRegister::pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

std::vector<std::uint32_t> InterruptStatusRegister::acknowledgements() const {
  std::lock_guard lock(mutex_);
  return acknowledgements_;
}

unsigned InterruptStatusRegister::reads() const {
  std::lock_guard lock(mutex_);
  return reads_;
}
