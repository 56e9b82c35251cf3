#pragma once
// A counting semaphore for threads that sleep until another hands them something: the
// deterministic scheduler's turn. On Windows it is the system's semaphore: libstdc++ 12's
// std::counting_semaphore waits through its generic atomic-wait pool there (there is no futex),
// which can miss a release and sleep forever; MSVC's would do, but one Windows path is simpler.

#include <chrono>

#if !defined(_WIN32)
#include <semaphore>
#endif

namespace irqsim::platform {

class Semaphore {
 public:
  Semaphore();
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Adds one token, waking a thread that waits for it.
  void release();
  // Takes a token, sleeping until there is one.
  void acquire();
  // Takes a token if one comes within `timeout`; false otherwise.
  bool try_acquire_for(std::chrono::milliseconds timeout);

 private:
#if defined(_WIN32)
  void* handle_;
#else
  std::counting_semaphore<> semaphore_{0};
#endif
};

#if !defined(_WIN32)
inline Semaphore::Semaphore() = default;
inline Semaphore::~Semaphore() = default;
inline void Semaphore::release() { semaphore_.release(); }
inline void Semaphore::acquire() { semaphore_.acquire(); }
inline bool Semaphore::try_acquire_for(std::chrono::milliseconds timeout) {
  return semaphore_.try_acquire_for(timeout);
}
#endif

}  // namespace irqsim::platform
