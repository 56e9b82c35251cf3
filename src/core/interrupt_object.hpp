#pragma once
// An interrupt object: one connection of a service routine to a vector on a set of
// processors, with the lock and IRQL its service routine runs under. The layer above decides
// what the service routine is (a WDK ISR through a thunk); the core only calls it.
//
// Objects live in a pool owned by the machine, made in blocks as connections need them and
// never moved or freed before the machine. A handle a driver passes back can then be checked
// without touching memory that might not exist: inside the pool and connected, inside the pool
// but disconnected (a use after free), or not an interrupt object at all. An object being
// disconnected still counts as connected: its own ISR may use it until the end. An object is
// reused only once every other one has been used, and freed ones oldest-first, so a stale
// handle stays recognisable for a long time.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "irqsim/irql.hpp"

namespace irqsim::core {

enum class TriggerMode : std::uint8_t { Level, Edge };

struct InterruptObject {
  enum class State : std::uint8_t { Free, Connecting, Connected, Disconnecting, Disconnected };
  using ServiceRoutine = bool (*)(InterruptObject& object);

  std::atomic<State> state{State::Free};

  std::uint32_t vector = 0;
  Irql irql = 0;
  Irql synchronize_irql = 0;
  TriggerMode mode = TriggerMode::Level;
  bool shareable = false;
  // The processors it is connected on: a group and a mask within it (only existing processors).
  std::uint16_t group = 0;
  std::uint64_t affinity = 0;
  // Which of its connection's messages the object serves (message-signaled interrupts).
  std::uint32_t message = 0;
  // The next object connected by the same call (one per line or message), or nullptr.
  InterruptObject* next_in_set = nullptr;
  // What that call gave the driver for the whole set (its first object, or a table of them):
  // the only handle that may disconnect the set.
  const void* set_handle = nullptr;
  // Reported inactive (a soft disconnect): connected, but its service routine is not called.
  std::atomic<bool> active{true};

  // The lock the service routine runs under: a caller-supplied one or builtin_lock.
  std::uintptr_t* lock = nullptr;
  std::uintptr_t builtin_lock = 0;

  ServiceRoutine service = nullptr;
  // The driver's routine and context as the driver gave them; for the service thunk and for
  // bug-check reports.
  const void* routine = nullptr;
  void* context = nullptr;
};

class InterruptObjectPool {
 public:
  enum class Lookup : std::uint8_t { Connected, Disconnected, Unknown };

  explicit InterruptObjectPool(std::size_t capacity);

  // A free object in state Connecting, or nullptr when every object is in use.
  [[nodiscard]] InterruptObject* allocate();
  // Connect failed: the object never existed for the driver.
  void give_back(InterruptObject& object);
  // Claims a connected object for disconnection; false if it is not connected (any more).
  bool begin_disconnect(InterruptObject& object) noexcept;
  // Disconnected: the object goes to the back of the reuse queue.
  void retire(InterruptObject& object);
  [[nodiscard]] Lookup find(const void* handle, InterruptObject** object) const noexcept;
  // The objects connected now (or being disconnected), in pool order: for leak reports.
  [[nodiscard]] std::vector<const InterruptObject*> connected() const;

 private:
  // Objects per block: a machine that connects a few interrupts builds one block, not its
  // whole capacity.
  static constexpr std::size_t kBlockSize = 64;

  [[nodiscard]] InterruptObject& object_at(std::size_t index);
  // The slot of the built object starting at `address`, or capacity_ when there is none.
  [[nodiscard]] std::size_t slot_at(const void* address) const noexcept;

  std::size_t capacity_;
  // Block b holds objects b*kBlockSize onwards; published (release) once built, so find() can
  // read the table without the mutex.
  std::unique_ptr<std::atomic<InterruptObject*>[]> blocks_;
  std::size_t block_count_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<InterruptObject[]>> owned_blocks_;
  // Objects never used yet are indices made_ onwards.
  std::size_t made_ = 0;
  // Objects whose connection failed: they never existed for a driver, so they go first.
  std::vector<std::size_t> given_back_;
  // Disconnected objects, oldest first.
  std::deque<std::size_t> retired_;
};

}  // namespace irqsim::core
