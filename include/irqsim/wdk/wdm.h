/**
 * @file
 * @brief The subset of the WDK's `<wdm.h>` that irqsim implements, so driver sources compile
 *        unchanged in a user-mode test process.
 *
 * Types have their x64 (LLP64) widths: `ULONG` is 32 bits, `ULONG_PTR`, `KAFFINITY` and
 * `KSPIN_LOCK` are 64 bits. Every routine declared here is implemented; its behaviour,
 * including the checks that become bug checks, is documented in docs/api-coverage.md.
 * The routines act on the irqsim::Machine the calling thread belongs to.
 */
#ifndef IRQSIM_WDK_WDM_H
#define IRQSIM_WDK_WDM_H

#include <stddef.h>
#include <stdint.h>

#include "irqsim_sal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @name Basic types (LLP64 widths) */
/** @{ */
/** @brief No value. */
#define VOID void
/** @brief 8-bit unsigned. */
typedef uint8_t UCHAR;
/** @brief 8-bit signed character. */
typedef char CCHAR;
/** @brief 16-bit unsigned. */
typedef uint16_t USHORT;
/** @brief 16-bit signed. */
typedef int16_t CSHORT;
/** @brief 32-bit unsigned. */
typedef uint32_t ULONG;
/** @brief 32-bit signed. */
typedef int32_t LONG;
/** @brief 64-bit unsigned. */
typedef uint64_t ULONGLONG;
/** @brief 64-bit signed. */
typedef int64_t LONGLONG;
/** @brief Pointer-sized unsigned integer. */
typedef uintptr_t ULONG_PTR;
/** @brief Pointer to ULONG_PTR. */
typedef ULONG_PTR *PULONG_PTR;
/** @brief Untyped pointer. */
typedef void *PVOID;
/** @brief Pointer to ULONG. */
typedef ULONG *PULONG;
/** @brief The kernel's boolean: an 8-bit value; anything but FALSE counts as true. */
typedef UCHAR BOOLEAN;
/** @brief Pointer to BOOLEAN. */
typedef BOOLEAN *PBOOLEAN;
/** @brief Status code of a kernel routine; negative values are errors. */
typedef LONG NTSTATUS;
/** @} */

#ifndef TRUE
/** @brief BOOLEAN true. */
#define TRUE 1
#endif
#ifndef FALSE
/** @brief BOOLEAN false. */
#define FALSE 0
#endif
/** @brief Calling-convention marker (empty on x64). */
#define NTAPI
/** @brief Marks a routine that never returns. */
#define DECLSPEC_NORETURN __attribute__((noreturn))
/** @brief Silences an unused-parameter warning. */
#define UNREFERENCED_PARAMETER(P) ((void)(P))
/** @brief TRUE for success and informational status codes. */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)

/** @name NTSTATUS values used by the implemented routines */
/** @{ */
/** @brief The operation succeeded. */
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
/** @brief Unspecified failure. */
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
/** @brief A parameter was invalid. */
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
/** @brief The request is not valid for this device. */
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
/** @brief Not enough resources (nonpaged pool, interrupt objects) to finish the request. */
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
/** @brief The request is not supported. */
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
/** @brief The first parameter was invalid. */
#define STATUS_INVALID_PARAMETER_1 ((NTSTATUS)0xC00000EFL)
/** @brief The tenth parameter was invalid. */
#define STATUS_INVALID_PARAMETER_10 ((NTSTATUS)0xC00000F8L)
/** @brief The object was not found. */
#define STATUS_NOT_FOUND ((NTSTATUS)0xC0000225L)
/** @} */

/** @name Interrupt request levels (x64) */
/** @{ */
/** @brief An interrupt request level. */
typedef UCHAR KIRQL;
/** @brief Pointer to KIRQL. */
typedef KIRQL *PKIRQL;
/** @brief Normal thread execution. */
#define PASSIVE_LEVEL 0
/** @brief Lowest level (same as PASSIVE_LEVEL). */
#define LOW_LEVEL 0
/** @brief APCs masked. */
#define APC_LEVEL 1
/** @brief DPCs and the dispatcher masked. */
#define DISPATCH_LEVEL 2
/** @brief Corrected machine-check interrupt level. */
#define CMCI_LEVEL 5
/** @brief Clock interrupt level. */
#define CLOCK_LEVEL 13
/** @brief Inter-processor interrupt level. */
#define IPI_LEVEL 14
/** @brief Deferred recovery service level. */
#define DRS_LEVEL 14
/** @brief Power-fail level. */
#define POWER_LEVEL 14
/** @brief Profiling level. */
#define PROFILE_LEVEL 15
/** @brief Every interrupt masked. */
#define HIGH_LEVEL 15
/** @} */

/** @name Processors and affinity */
/** @{ */
/** @brief Set of processors: bit i stands for processor i of group 0. */
typedef ULONG_PTR KAFFINITY;
/** @brief Pointer to KAFFINITY. */
typedef KAFFINITY *PKAFFINITY;
/** @brief Maximum processors in one group on x64. */
#define MAXIMUM_PROC_PER_GROUP 64
/** @brief Maximum processors (one group on x64). */
#define MAXIMUM_PROCESSORS MAXIMUM_PROC_PER_GROUP
/** @brief Passed to the *Ex routines to mean every processor group. */
#define ALL_PROCESSOR_GROUPS 0xffff

/** @brief A processor named by group and number within the group. */
typedef struct _PROCESSOR_NUMBER {
  USHORT Group;   /**< Processor group (always 0 in the simulator). */
  UCHAR Number;   /**< Processor number within the group. */
  UCHAR Reserved; /**< Reserved, zero. */
} PROCESSOR_NUMBER;
/** @brief Pointer to PROCESSOR_NUMBER. */
typedef PROCESSOR_NUMBER *PPROCESSOR_NUMBER;

/** @brief An affinity mask qualified by a processor group. */
typedef struct _GROUP_AFFINITY {
  KAFFINITY Mask;     /**< Processors of the group. */
  USHORT Group;       /**< The group. */
  USHORT Reserved[3]; /**< Reserved, zero. */
} GROUP_AFFINITY;
/** @brief Pointer to GROUP_AFFINITY. */
typedef GROUP_AFFINITY *PGROUP_AFFINITY;
/** @} */

/** @name Spin locks */
/** @{ */
/** @brief An executive spin lock: 0 when free. Initialize with KeInitializeSpinLock. */
typedef ULONG_PTR KSPIN_LOCK;
/** @brief Pointer to KSPIN_LOCK. */
typedef KSPIN_LOCK *PKSPIN_LOCK;
/** @} */

/** @name Interrupt objects */
/** @{ */
/**
 * @brief How an interrupt line signals. Under C++ it has an `int` base (the WDK's has none) so
 * that any value a driver passes, valid or not, is well-defined and can be rejected.
 */
typedef enum _KINTERRUPT_MODE
#ifdef __cplusplus
    : int
#endif
{
  LevelSensitive = 0, /**< Level-triggered: active while asserted (line-based PCI). */
  Latched = 1         /**< Edge-triggered: one pulse per interrupt (MSI, legacy ISA). */
} KINTERRUPT_MODE;

/** @brief Polarity of an interrupt line. */
typedef enum _KINTERRUPT_POLARITY {
  InterruptPolarityUnknown = 0,                  /**< Unknown. */
  InterruptActiveHigh = 1,                       /**< Level: active high. */
  InterruptRisingEdge = 1,                       /**< Edge: low-to-high. */
  InterruptActiveLow = 2,                        /**< Level: active low. */
  InterruptFallingEdge = 2,                      /**< Edge: high-to-low. */
  InterruptActiveBoth = 3,                       /**< Edge on both transitions. */
  InterruptActiveBothTriggerLow = 3,             /**< OS-reserved alias. */
  InterruptActiveBothTriggerHigh = 4             /**< OS-reserved. */
} KINTERRUPT_POLARITY;

/** @brief An interrupt object. Opaque: drivers only pass pointers to it around. */
typedef struct _KINTERRUPT KINTERRUPT;
/** @brief Pointer to an interrupt object. */
typedef struct _KINTERRUPT *PKINTERRUPT;
/** @brief Pointer to an interrupt object (restricted form). */
typedef struct _KINTERRUPT *PRKINTERRUPT;

/**
 * @brief An interrupt service routine (ISR).
 * @return TRUE if the driver's device raised the interrupt and was serviced, FALSE otherwise.
 */
typedef BOOLEAN KSERVICE_ROUTINE(struct _KINTERRUPT *Interrupt, PVOID ServiceContext);
/** @brief Pointer to an ISR. */
typedef KSERVICE_ROUTINE *PKSERVICE_ROUTINE;

/** @brief A routine run by KeSynchronizeExecution at SynchronizeIrql under the interrupt lock. */
typedef BOOLEAN KSYNCHRONIZE_ROUTINE(PVOID SynchronizeContext);
/** @brief Pointer to a synchronized routine. */
typedef KSYNCHRONIZE_ROUTINE *PKSYNCHRONIZE_ROUTINE;
/** @} */

/** @name IRQL routines */
/** @{ */
/** @brief Returns the IRQL of the current processor (or of the calling thread if it is not one). */
KIRQL KeGetCurrentIrql(void);
/**
 * @brief Raises the IRQL to NewIrql and returns the previous IRQL.
 * Bug check 0xC4/0x30 if NewIrql is below the current IRQL or above HIGH_LEVEL.
 */
KIRQL KfRaiseIrql(KIRQL NewIrql);
/** @brief Raises the IRQL to NewIrql and stores the previous IRQL in *OldIrql. */
#define KeRaiseIrql(NewIrql, OldIrql) (*(OldIrql) = KfRaiseIrql(NewIrql))
/**
 * @brief Lowers the IRQL to NewIrql, the value saved by the matching raise. Pending interrupts
 * above NewIrql are taken before it returns. Bug check 0xC4/0x31 if NewIrql is above the
 * current IRQL; 0xF if a spin lock held needs a higher IRQL.
 */
VOID KeLowerIrql(KIRQL NewIrql);
/** @brief Raises to DISPATCH_LEVEL and returns the previous IRQL. Bug check 0xC4/0x00020011 above DISPATCH_LEVEL. */
KIRQL KeRaiseIrqlToDpcLevel(void);
/** @} */

/** @name Executive spin locks */
/** @{ */
/** @brief Initializes (releases) a spin lock. Any IRQL. */
VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
/**
 * @brief Raises to DISPATCH_LEVEL, acquires the lock and returns the previous IRQL.
 * Bug check 0xC4/0x42 above DISPATCH_LEVEL, 0xF if this processor already owns the lock.
 */
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
/** @brief Acquires the lock at DISPATCH_LEVEL and stores the previous IRQL in *OldIrql. */
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))
/**
 * @brief Releases a lock taken with KeAcquireSpinLock and lowers to NewIrql.
 * Bug check 0xC4/0x32 if not at DISPATCH_LEVEL, 0x10 if this processor does not own the lock.
 */
VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
/** @brief Acquires the lock without changing IRQL. Bug check 0xC4/0x40 below DISPATCH_LEVEL. */
VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
/** @brief Releases a lock taken at DISPATCH_LEVEL. Bug check 0xC4/0x41 below DISPATCH_LEVEL. */
VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);
/**
 * @brief Acquires the lock if it is free and returns TRUE; returns FALSE at once if another
 * owner holds it. Bug check 0xC4/0x40 below DISPATCH_LEVEL; 0xF if the caller already owns the
 * lock (Driver Verifier's SpinLock rule: no second acquire before the release).
 */
BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
/** @} */

/** @name Processor queries */
/** @{ */
/** @brief Number of the current processor (0 for a thread that is not a simulated processor). */
ULONG KeGetCurrentProcessorNumber(void);
/** @brief Group-relative number of the current processor; also fills *ProcNumber if given. */
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);
/** @brief Number of active processors; stores their mask in *ActiveProcessors if given. */
ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);
/** @brief Number of active processors in GroupNumber (0 or ALL_PROCESSOR_GROUPS); 0 for another group. */
ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber);
/** @brief Mask of the active processors. Bug check 0xC4/0x0002000F above APC_LEVEL. */
KAFFINITY KeQueryActiveProcessors(void);
/** @brief Maximum number of processors (the machine's processor count). */
ULONG KeQueryMaximumProcessorCount(void);
/** @} */

/** @name Interrupt connection and synchronization */
/** @{ */
/**
 * @brief Connects an ISR to a vector on the processors in ProcessorEnableMask.
 *
 * *InterruptObject is set to NULL first and receives the interrupt object on success.
 * Must be called at PASSIVE_LEVEL (bug check 0xC4/0x0002000B otherwise).
 * @retval STATUS_SUCCESS connected; the ISR may run before this returns.
 * @retval STATUS_INVALID_PARAMETER no active processor in ProcessorEnableMask, a NULL
 *         InterruptObject or ServiceRoutine, a bad vector, Irql outside 3..12, SynchronizeIrql
 *         below Irql or above HIGH_LEVEL, an unknown InterruptMode, or a sharing, mode or IRQL
 *         conflict with the objects already on the vector.
 * @retval STATUS_INSUFFICIENT_RESOURCES no interrupt object is left.
 */
NTSTATUS IoConnectInterrupt(PKINTERRUPT *InterruptObject, PKSERVICE_ROUTINE ServiceRoutine,
                            PVOID ServiceContext, PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql,
                            KIRQL SynchronizeIrql, KINTERRUPT_MODE InterruptMode,
                            BOOLEAN ShareVector, KAFFINITY ProcessorEnableMask,
                            BOOLEAN FloatingSave);
/**
 * @brief Disconnects an interrupt object. When it returns, the ISR is not running anywhere
 * and never runs again. PASSIVE_LEVEL only (bug check 0xC4/0x0002000D).
 */
VOID IoDisconnectInterrupt(PKINTERRUPT InterruptObject);
/**
 * @brief Runs SynchronizeRoutine at the object's SynchronizeIrql with its interrupt lock held
 * and returns its result unchanged. Bug check 0x9 if called above SynchronizeIrql.
 */
BOOLEAN KeSynchronizeExecution(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                               PVOID SynchronizeContext);
/** @brief Raises to the object's SynchronizeIrql, takes its interrupt lock, returns the old IRQL. */
KIRQL KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt);
/** @brief Releases the interrupt lock and lowers to OldIrql. */
VOID KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql);
/** @} */

/** @name Bug checks */
/** @{ */
/** @brief Halts the simulated machine with the given code and parameters. Never returns. */
DECLSPEC_NORETURN VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1,
                                    ULONG_PTR BugCheckParameter2, ULONG_PTR BugCheckParameter3,
                                    ULONG_PTR BugCheckParameter4);
/** @brief KeBugCheckEx with four zero parameters. */
DECLSPEC_NORETURN VOID KeBugCheck(ULONG BugCheckCode);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* IRQSIM_WDK_WDM_H */
