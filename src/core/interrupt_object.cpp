#include "core/interrupt_object.hpp"

namespace irqsim::core {

InterruptObjectPool::InterruptObjectPool(std::size_t capacity)
    : capacity_(capacity), objects_(std::make_unique<InterruptObject[]>(capacity)) {
  for (std::size_t i = 0; i < capacity; ++i) free_.push_back(i);
}

InterruptObject* InterruptObjectPool::allocate() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return nullptr;
  InterruptObject& object = objects_[free_.front()];
  free_.pop_front();
  object.state.store(InterruptObject::State::Connecting, std::memory_order_release);
  return &object;
}

void InterruptObjectPool::give_back(InterruptObject& object) {
  object.state.store(InterruptObject::State::Free, std::memory_order_release);
  std::lock_guard lock(mutex_);
  free_.push_front(static_cast<std::size_t>(&object - objects_.get()));
}

bool InterruptObjectPool::begin_disconnect(InterruptObject& object) noexcept {
  auto expected = InterruptObject::State::Connected;
  return object.state.compare_exchange_strong(expected, InterruptObject::State::Disconnecting,
                                              std::memory_order_acq_rel);
}

void InterruptObjectPool::retire(InterruptObject& object) {
  object.state.store(InterruptObject::State::Disconnected, std::memory_order_release);
  std::lock_guard lock(mutex_);
  free_.push_back(static_cast<std::size_t>(&object - objects_.get()));
}

InterruptObjectPool::Lookup InterruptObjectPool::find(const void* handle,
                                                      InterruptObject** object) const noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(handle);
  const auto first = reinterpret_cast<std::uintptr_t>(objects_.get());
  const std::uintptr_t size = sizeof(InterruptObject);
  if (address < first || address >= first + capacity_ * size || (address - first) % size != 0) {
    return Lookup::Unknown;
  }
  InterruptObject& candidate = objects_[(address - first) / size];
  switch (candidate.state.load(std::memory_order_acquire)) {
    case InterruptObject::State::Connected:
    case InterruptObject::State::Disconnecting:
      *object = &candidate;
      return Lookup::Connected;
    case InterruptObject::State::Disconnected:
      *object = &candidate;
      return Lookup::Disconnected;
    default:
      return Lookup::Unknown;
  }
}

}  // namespace irqsim::core
