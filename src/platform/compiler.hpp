#pragma once
// Hints to the compiler where its own judgement costs the hot paths: IRQSIM_COLD marks a function
// that runs rarely (a hook only a machine that records a trace takes), so its calls are kept out
// of the way; IRQSIM_ALWAYS_INLINE keeps a small step of a hot path inlined although a rarely
// taken hook inside it makes it look bigger than it runs.

#if defined(__GNUC__) || defined(__clang__)
#define IRQSIM_COLD [[gnu::cold]]
#define IRQSIM_ALWAYS_INLINE [[gnu::always_inline]] inline
#elif defined(_MSC_VER)
#define IRQSIM_COLD
#define IRQSIM_ALWAYS_INLINE __forceinline
#else
#define IRQSIM_COLD
#define IRQSIM_ALWAYS_INLINE inline
#endif
