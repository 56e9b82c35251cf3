#include "core/interrupt_object.hpp"

#include <algorithm>

namespace irqsim::core {

InterruptObjectPool::InterruptObjectPool(std::size_t capacity)
    : capacity_(capacity),
      blocks_(std::make_unique<std::atomic<InterruptObject*>[]>((capacity + kBlockSize - 1) / kBlockSize)),
      block_count_((capacity + kBlockSize - 1) / kBlockSize) {}

InterruptObject& InterruptObjectPool::object_at(std::size_t index) {
  const std::size_t block = index / kBlockSize;
  InterruptObject* first = blocks_[block].load(std::memory_order_relaxed);
  if (first == nullptr) {
    owned_blocks_.push_back(std::make_unique<InterruptObject[]>(std::min(kBlockSize, capacity_ - block * kBlockSize)));
    first = owned_blocks_.back().get();
    blocks_[block].store(first, std::memory_order_release);
  }
  return first[index % kBlockSize];
}

std::size_t InterruptObjectPool::slot_at(const void* address) const noexcept {
  const auto wanted = reinterpret_cast<std::uintptr_t>(address);
  for (std::size_t block = 0; block < block_count_; ++block) {
    const InterruptObject* first = blocks_[block].load(std::memory_order_acquire);
    if (first == nullptr) break;  // blocks are built in order
    const auto start = reinterpret_cast<std::uintptr_t>(first);
    const std::size_t objects = std::min(kBlockSize, capacity_ - block * kBlockSize);
    if (wanted < start || wanted >= start + objects * sizeof(InterruptObject)) continue;
    if ((wanted - start) % sizeof(InterruptObject) != 0) return capacity_;
    return block * kBlockSize + (wanted - start) / sizeof(InterruptObject);
  }
  return capacity_;
}

InterruptObject* InterruptObjectPool::allocate() {
  std::lock_guard lock(mutex_);
  std::size_t index = 0;
  if (!given_back_.empty()) {
    index = given_back_.back();
    given_back_.pop_back();
  } else if (made_ < capacity_) {
    index = made_++;
  } else if (!retired_.empty()) {
    index = retired_.front();
    retired_.pop_front();
  } else {
    return nullptr;
  }
  InterruptObject& object = object_at(index);
  object.state.store(InterruptObject::State::Connecting, std::memory_order_release);
  return &object;
}

void InterruptObjectPool::give_back(InterruptObject& object) {
  object.state.store(InterruptObject::State::Free, std::memory_order_release);
  std::lock_guard lock(mutex_);
  given_back_.push_back(slot_at(&object));
}

bool InterruptObjectPool::begin_disconnect(InterruptObject& object) noexcept {
  auto expected = InterruptObject::State::Connected;
  return object.state.compare_exchange_strong(expected, InterruptObject::State::Disconnecting,
                                              std::memory_order_acq_rel);
}

void InterruptObjectPool::retire(InterruptObject& object) {
  object.state.store(InterruptObject::State::Disconnected, std::memory_order_release);
  std::lock_guard lock(mutex_);
  retired_.push_back(slot_at(&object));
}

std::vector<const InterruptObject*> InterruptObjectPool::connected() const {
  std::vector<const InterruptObject*> objects;
  for (std::size_t block = 0; block < block_count_; ++block) {
    const InterruptObject* first = blocks_[block].load(std::memory_order_acquire);
    if (first == nullptr) break;
    for (std::size_t i = 0; i < std::min(kBlockSize, capacity_ - block * kBlockSize); ++i) {
      const auto state = first[i].state.load(std::memory_order_acquire);
      if (state == InterruptObject::State::Connected || state == InterruptObject::State::Disconnecting) {
        objects.push_back(&first[i]);
      }
    }
  }
  return objects;
}

InterruptObjectPool::Lookup InterruptObjectPool::find(const void* handle,
                                                      InterruptObject** object) const noexcept {
  const std::size_t slot = slot_at(handle);
  if (slot == capacity_) return Lookup::Unknown;
  InterruptObject* candidate = blocks_[slot / kBlockSize].load(std::memory_order_acquire) + slot % kBlockSize;
  switch (candidate->state.load(std::memory_order_acquire)) {
    case InterruptObject::State::Connected:
    case InterruptObject::State::Disconnecting:
      *object = candidate;
      return Lookup::Connected;
    case InterruptObject::State::Disconnected:
      *object = candidate;
      return Lookup::Disconnected;
    default:
      return Lookup::Unknown;
  }
}

}  // namespace irqsim::core
