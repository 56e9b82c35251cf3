#ifndef IRQSIM_PROCESSOR_STATE_H
#define IRQSIM_PROCESSOR_STATE_H
/**
 * @file
 * @brief The part of a simulated processor's state that wdm.h's inline IRQL and spin-lock
 * routines read and write directly, as the x64 WDK's inline KeRaiseIrql and KeLowerIrql write
 * the processor's CR8. Library internals, shared with those inline routines: driver code and
 * tests never use it.
 */

#include <stdint.h>

/**
 * @brief One simulated processor's IRQL, held spin locks and pending work, laid out for C.
 *
 * Only the processor's own thread writes `irql`, `in_dpc_routine` and the lock counts; other
 * threads read `irql` (atomically) and set bits in `attention` (atomically).
 */
typedef struct irqsim_processor_state {
  /** @brief Nonzero while a library call has something to do at its preemption point: an
   *  interrupt or DPC may be pending, the machine is halting, or a check is switched on. An
   *  inline routine that finds it nonzero takes the library path. */
  uint32_t attention;
  /** @brief The processor's IRQL. */
  uint8_t irql;
  /** @brief Nonzero while the innermost routine running is a DPC routine. */
  uint8_t in_dpc_routine;
  /** @brief Bit L set while the processor holds a spin lock that requires IRQL L. */
  uint16_t held_lock_levels;
  /** @brief The value a spin lock holds while this processor owns it. */
  uintptr_t lock_token;
  /** @brief Spin locks held, by the IRQL they require (index 0..15). */
  uint32_t held_locks[16];
} irqsim_processor_state;

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The calling thread's processor state, or NULL on a thread that is not a simulated
 *  processor (such threads always take the library path). */
extern __thread irqsim_processor_state* irqsim_current_processor;

#ifdef __cplusplus
}
#endif

#endif /* IRQSIM_PROCESSOR_STATE_H */
