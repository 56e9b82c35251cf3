#ifndef IRQSIM_COMPILER_C_H
#define IRQSIM_COMPILER_C_H
/**
 * @file
 * @brief Every compiler-specific construct of irqsim's C headers (processor_state.h and the WDK
 * shims), for gcc and clang (mingw-w64 included) and for MSVC (clang-cl included), so that those
 * headers compile with all of them, as C11 and as C++20. Library internals: driver code and tests
 * never use these names.
 *
 * The atomic operations are the closed set the inline IRQL and spin-lock routines need, each
 * with its memory order in its name. gcc and clang get the `__atomic` builtins with exactly that
 * order: these are the hottest paths of a simulated driver. MSVC gets a plain volatile access for
 * a relaxed one and a full-barrier `_Interlocked` intrinsic for every stronger one, which is
 * correct on every MSVC target (x64 and ARM64) without reasoning about each architecture's
 * ordering.
 */

#include <stdint.h>

#if !defined(_MSC_VER) && !defined(__GNUC__)
#error "irqsim's C headers support gcc, clang and MSVC."
#endif

#if defined(_MSC_VER)
#include <intrin.h>

#ifndef _WIN64
#error "irqsim supports 64-bit Windows only (x64 and ARM64)."
#endif

/** @brief Storage class of a variable each thread has its own copy of. */
#define IRQSIM_THREAD_LOCAL __declspec(thread)
/** @brief Opens a header-local function definition the compiler may inline. */
#define IRQSIM_INLINE static __inline
/** @brief Opens a header-local function definition the compiler always inlines. */
#define IRQSIM_FORCEINLINE static __forceinline
/** @brief Marks a function that never returns; written before the declaration. */
#define IRQSIM_NORETURN __declspec(noreturn)
/** @brief Marks a member that is an anonymous struct or union (MSVC takes them as they are). */
#define IRQSIM_ANONYMOUS_MEMBER
/** @brief Opens a region of structure declarations with anonymous members: MSVC warns about
 *  them at /W4 (C4201) although they are standard C11 and the WDK's own headers use them. */
#define IRQSIM_ANONYMOUS_MEMBERS_BEGIN __pragma(warning(push)) __pragma(warning(disable : 4201))
/** @brief Closes the region IRQSIM_ANONYMOUS_MEMBERS_BEGIN opened. */
#define IRQSIM_ANONYMOUS_MEMBERS_END __pragma(warning(pop))

#else

/** @brief Storage class of a variable each thread has its own copy of. The same spelling in C
 *  and C++: C++'s `thread_local` would route every access through a wrapper function. */
#define IRQSIM_THREAD_LOCAL __thread
/** @brief Opens a header-local function definition the compiler may inline. */
#define IRQSIM_INLINE static __inline__
/** @brief Opens a header-local function definition the compiler always inlines. */
#define IRQSIM_FORCEINLINE static __inline__ __attribute__((always_inline))
/** @brief Marks a function that never returns; written before the declaration. */
#define IRQSIM_NORETURN __attribute__((noreturn))
/** @brief Marks a member that is an anonymous struct or union: standard C11 but an extension in
 *  C++ (and C99), which `__extension__` accepts without a -Wpedantic warning. */
#define IRQSIM_ANONYMOUS_MEMBER __extension__
/** @brief Opens a region of structure declarations with anonymous members (nothing to do here). */
#define IRQSIM_ANONYMOUS_MEMBERS_BEGIN
/** @brief Closes the region IRQSIM_ANONYMOUS_MEMBERS_BEGIN opened. */
#define IRQSIM_ANONYMOUS_MEMBERS_END

#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Reads a 32-bit word with no ordering. */
IRQSIM_FORCEINLINE uint32_t irqsim_atomic_load_u32_relaxed(const uint32_t *location) {
#if defined(_MSC_VER)
  return (uint32_t)__iso_volatile_load32((const volatile __int32 *)location);
#else
  return __atomic_load_n(location, __ATOMIC_RELAXED);
#endif
}

/** @brief Reads a 32-bit word, sequentially consistent. */
IRQSIM_FORCEINLINE uint32_t irqsim_atomic_load_u32_seq_cst(uint32_t *location) {
#if defined(_MSC_VER)
  /* An OR of nothing: a read-modify-write, so a full barrier, that leaves the word as it is.
     `long` and `uint32_t` are the same size, and neither MSVC nor clang-cl does type-based
     alias analysis. */
  return (uint32_t)_InterlockedOr((volatile long *)location, 0);
#else
  return __atomic_load_n(location, __ATOMIC_SEQ_CST);
#endif
}

/** @brief Writes a byte with no ordering. */
IRQSIM_FORCEINLINE void irqsim_atomic_store_u8_relaxed(uint8_t *location, uint8_t value) {
#if defined(_MSC_VER)
  __iso_volatile_store8((volatile __int8 *)location, (__int8)value);
#else
  __atomic_store_n(location, value, __ATOMIC_RELAXED);
#endif
}

/** @brief Writes a byte, sequentially consistent. */
IRQSIM_FORCEINLINE void irqsim_atomic_store_u8_seq_cst(uint8_t *location, uint8_t value) {
#if defined(_MSC_VER)
  (void)_InterlockedExchange8((volatile char *)location, (char)value);
#else
  __atomic_store_n(location, value, __ATOMIC_SEQ_CST);
#endif
}

/** @brief Reads a pointer-sized word with no ordering. */
IRQSIM_FORCEINLINE uintptr_t irqsim_atomic_load_uptr_relaxed(const uintptr_t *location) {
#if defined(_MSC_VER)
  return (uintptr_t)__iso_volatile_load64((const volatile __int64 *)location);
#else
  return __atomic_load_n(location, __ATOMIC_RELAXED);
#endif
}

/** @brief Writes a pointer-sized word with release order (at least). */
IRQSIM_FORCEINLINE void irqsim_atomic_store_uptr_release(uintptr_t *location, uintptr_t value) {
#if defined(_MSC_VER)
  (void)_InterlockedExchange64((volatile __int64 *)location, (__int64)value);
#else
  __atomic_store_n(location, value, __ATOMIC_RELEASE);
#endif
}

/** @brief Replaces a pointer-sized word holding `expected` with `desired`, with acquire order
 *  (at least) if it does; a failed attempt has no ordering. Returns nonzero if it did. */
IRQSIM_FORCEINLINE int irqsim_atomic_compare_exchange_uptr_acquire(uintptr_t *location, uintptr_t expected,
                                                                   uintptr_t desired) {
#if defined(_MSC_VER)
  return _InterlockedCompareExchange64((volatile __int64 *)location, (__int64)desired, (__int64)expected) ==
         (__int64)expected;
#else
  return __atomic_compare_exchange_n(location, &expected, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* IRQSIM_COMPILER_C_H */
