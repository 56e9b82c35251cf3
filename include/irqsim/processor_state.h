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

#include "compiler_c.h"

/**
 * @brief One simulated processor's IRQL, held spin locks and pending work, laid out for C.
 *
 * Only the processor's own thread writes `irql`, `dpc_routine_floor` and the lock counts; other
 * threads read `irql` (atomically) and set bits in `attention` (atomically).
 */
typedef struct irqsim_processor_state {
  /** @brief Nonzero while a library call has something to do at its preemption point: an
   *  interrupt or DPC may be pending, the machine is halting, a check is switched on, or the
   *  machine records a trace. An inline routine that finds it nonzero takes the library path. */
  uint32_t attention;
  /** @brief The processor's IRQL. */
  uint8_t irql;
  /** @brief 1 << DISPATCH_LEVEL while the innermost routine running is a DPC routine, which may
   *  not lower the IRQL below DISPATCH_LEVEL; 0 otherwise. Checked together with
   *  `held_lock_levels`. */
  uint8_t dpc_routine_floor;
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
extern IRQSIM_THREAD_LOCAL irqsim_processor_state* irqsim_current_processor;

/** @name Library paths of wdm.h's inline routines
 *  Each does everything its WDK routine does: the preemption point, every check (a failed one
 *  is a bug check) and the work. The inline routines call them whenever their fast path does
 *  not apply. */
/** @{ */
/** @brief KeGetCurrentIrql. */
uint8_t irqsim_get_current_irql(void);
/** @brief KfRaiseIrql. */
uint8_t irqsim_raise_irql(uint8_t new_irql);
/** @brief KeRaiseIrqlToDpcLevel. */
uint8_t irqsim_raise_irql_to_dpc_level(void);
/** @brief KeLowerIrql. */
void irqsim_lower_irql(uint8_t new_irql);
/** @brief KeAcquireSpinLockRaiseToDpc. */
uint8_t irqsim_acquire_spin_lock_raise_to_dpc(uintptr_t* spin_lock);
/** @brief KeReleaseSpinLock. */
void irqsim_release_spin_lock(uintptr_t* spin_lock, uint8_t new_irql);
/** @brief KeAcquireSpinLockAtDpcLevel. */
void irqsim_acquire_spin_lock_at_dpc_level(uintptr_t* spin_lock);
/** @brief KeReleaseSpinLockFromDpcLevel. */
void irqsim_release_spin_lock_from_dpc_level(uintptr_t* spin_lock);
/** @brief The preemption point of the calling processor, for an inline routine that found its
 *  attention word set after lowering the IRQL. */
void irqsim_preemption_point(void);
/** @} */

/** @brief Whether the processor may lower its IRQL to `new_irql` while holding spin locks of
 *  the IRQLs in `held_levels`: not below a held lock's IRQL, and not below DISPATCH_LEVEL (2)
 *  inside a DPC routine. Otherwise the library path reports the bug check. */
IRQSIM_INLINE int irqsim_may_lower_to(const irqsim_processor_state* state, unsigned held_levels,
                                     uint8_t new_irql) {
  return ((held_levels | state->dpc_routine_floor) >> (new_irql + 1u)) == 0;
}

/** @brief Stores a lower IRQL and returns the attention word read after it: nonzero means the
 *  caller must take its preemption point. The inline routines and the library both lower this
 *  way. Lowering out of a device IRQL (above DISPATCH_LEVEL, 2) races with the interrupt
 *  controller routing an interrupt here (it reads the IRQL, then sets an attention bit; this
 *  stores the IRQL, then reads the bits), so both are sequentially consistent and one sees the
 *  other. At or below DISPATCH_LEVEL no device interrupt is held back, and a DPC queued from
 *  another processor meanwhile runs at the next preemption point, as if queued a moment later. */
IRQSIM_INLINE uint32_t irqsim_store_lower_irql(irqsim_processor_state* state, uint8_t new_irql) {
  uint32_t pending;
  if (state->irql > 2) {
    irqsim_atomic_store_u8_seq_cst(&state->irql, new_irql);
    pending = irqsim_atomic_load_u32_seq_cst(&state->attention);
  } else {
    irqsim_atomic_store_u8_relaxed(&state->irql, new_irql);
    pending = irqsim_atomic_load_u32_relaxed(&state->attention);
  }
  return pending;
}

#ifdef __cplusplus
}
#endif

#endif /* IRQSIM_PROCESSOR_STATE_H */
