/**
 * @file
 * @brief The subset of the WDK's `<wdm.h>` that irqsim implements, so driver sources compile
 *        unchanged in a user-mode test process.
 *
 * Types have their x64 (LLP64) widths: `ULONG` is 32 bits, `ULONG_PTR`, `KAFFINITY` and
 * `KSPIN_LOCK` are 64 bits. Every routine declared here is implemented; its behaviour,
 * including the checks that become bug checks, is documented in docs/api-coverage.md.
 * The routines act on the irqsim::Machine the calling thread belongs to.
 *
 * Some types are declared ahead of the routines that will take them: device objects, hardware
 * resource lists and the IoConnectInterruptEx parameter blocks. Their structures have the WDK's
 * member names, order and x64 layout, except DEVICE_OBJECT, whose layout is irqsim's own.
 *
 * On Windows the types that the SDK's `<windows.h>` also declares are its exact types (`ULONG`
 * is `unsigned long`, `LONG` is `long`), so a source may include `<windows.h>` first, as with
 * the WDK's headers in user mode: `#define WIN32_NO_STATUS`, `#include <windows.h>`,
 * `#undef WIN32_NO_STATUS`, then this header. The types, structures and macros the SDK has
 * already defined (LARGE_INTEGER, GROUP_AFFINITY, FORCEINLINE, RtlZeroMemory, ...) are then
 * the SDK's. Without WIN32_NO_STATUS, `<windows.h>` defines some STATUS_XXX codes as DWORD
 * values, which this header rejects with an error.
 */
#ifndef IRQSIM_WDK_WDM_H
#define IRQSIM_WDK_WDM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../processor_state.h"
#include "irqsim_sal.h"

#if defined(_WINNT_) && defined(STATUS_PENDING) && !defined(STATUS_INVALID_DEVICE_STATE)
#error "<windows.h> defined its DWORD STATUS_XXX codes: define WIN32_NO_STATUS before including it."
#endif

#ifdef __cplusplus
extern "C" {
#endif

IRQSIM_ANONYMOUS_MEMBERS_BEGIN

#ifndef FORCEINLINE
/** @brief A routine the compiler always inlines, as the WDK's FORCEINLINE routines are. */
#define FORCEINLINE IRQSIM_FORCEINLINE
#endif

/** @name Basic types (LLP64 widths) */
/** @{ */
#ifndef VOID
/** @brief No value. */
#define VOID void
#endif
/** @brief 8-bit unsigned. */
typedef uint8_t UCHAR;
/** @brief 8-bit signed character. */
typedef char CCHAR;
/** @brief 16-bit unsigned. */
typedef uint16_t USHORT;
/** @brief 16-bit signed. */
typedef int16_t CSHORT;
#ifdef _WIN32
/* The SDK's own definitions (long is 32 bits on Windows), which a source that includes
   <windows.h> first has already seen: repeating an identical typedef is legal in C11 and C++. */
typedef unsigned long ULONG;
typedef long LONG;
#else
/** @brief 32-bit unsigned (`unsigned long` on Windows, as in the SDK). */
typedef uint32_t ULONG;
/** @brief 32-bit signed (`long` on Windows, as in the SDK). */
typedef int32_t LONG;
#endif
/** @brief 64-bit unsigned. */
typedef uint64_t ULONGLONG;
/** @brief 64-bit unsigned (explicit-width name). */
typedef uint64_t ULONG64;
/** @brief An unsigned byte count as wide as a pointer. */
typedef size_t SIZE_T;
/** @brief 64-bit signed. */
typedef int64_t LONGLONG;
/** @brief Pointer to ULONG64. */
typedef ULONG64 *PULONG64;
/** @brief 64-bit signed (explicit-width name). */
typedef int64_t LONG64;
/** @brief Pointer to UCHAR. */
typedef UCHAR *PUCHAR;
/** @brief Pointer to USHORT. */
typedef USHORT *PUSHORT;
/** @brief Pointer-sized unsigned integer. */
typedef uintptr_t ULONG_PTR;
/** @brief Pointer to ULONG_PTR. */
typedef ULONG_PTR *PULONG_PTR;
/** @brief Pointer to SIZE_T. */
typedef SIZE_T *PSIZE_T;
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

/** @name 64-bit integers and physical addresses */
/** @{ */
#ifndef _WINNT_
/**
 * @brief A signed 64-bit value that can also be read as two 32-bit halves (little-endian:
 * `LowPart` first). On Windows, `<windows.h>` (winnt.h) defines it the same way.
 *
 * As in the WDK, the halves are reachable both directly (`x.LowPart`, through an anonymous
 * struct) and through the named struct `u` (`x.u.LowPart`). Anonymous structs are standard C11
 * but an extension in C++, so the member is marked IRQSIM_ANONYMOUS_MEMBER (`__extension__` for
 * gcc and clang), which accepts it without a -Wpedantic warning in both languages.
 */
typedef union _LARGE_INTEGER {
  IRQSIM_ANONYMOUS_MEMBER struct {
    ULONG LowPart; /**< Low 32 bits. */
    LONG HighPart; /**< High 32 bits, signed. */
  };
  /** @brief The same halves, through a named member. */
  struct {
    ULONG LowPart; /**< Low 32 bits. */
    LONG HighPart; /**< High 32 bits, signed. */
  } u;
  LONGLONG QuadPart; /**< The whole 64-bit value. */
} LARGE_INTEGER;
/** @brief Pointer to LARGE_INTEGER. */
typedef LARGE_INTEGER *PLARGE_INTEGER;
#endif
/** @brief A physical (bus or system) address: a LARGE_INTEGER, normally used through `QuadPart`. */
typedef LARGE_INTEGER PHYSICAL_ADDRESS;
/** @brief Pointer to PHYSICAL_ADDRESS. */
typedef PHYSICAL_ADDRESS *PPHYSICAL_ADDRESS;
/** @} */

#ifndef TRUE
/** @brief BOOLEAN true. */
#define TRUE 1
#endif
#ifndef FALSE
/** @brief BOOLEAN false. */
#define FALSE 0
#endif
#ifndef NTAPI
/** @brief Calling-convention marker (empty on x64). */
#define NTAPI
#endif
#ifndef DECLSPEC_NORETURN
/** @brief Marks a routine that never returns. */
#define DECLSPEC_NORETURN IRQSIM_NORETURN
#endif
#ifndef UNREFERENCED_PARAMETER
/** @brief Silences an unused-parameter warning. */
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#endif
#ifndef RtlZeroMemory
/** @brief Zeroes `Length` bytes at `Destination`. */
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#endif
#ifndef RtlFillMemory
/** @brief Fills `Length` bytes at `Destination` with `Fill`. */
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#endif
#ifndef RtlCopyMemory
/** @brief Copies `Length` bytes between ranges that do not overlap. */
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#endif
#ifndef RtlMoveMemory
/** @brief Copies `Length` bytes between ranges that may overlap. */
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#endif
#ifndef FIELD_OFFSET
/** @brief The byte offset of `field` in structure `type`. */
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#endif
#ifndef CONTAINING_RECORD
/** @brief The structure of type `type` whose member `field` is at `address`. */
#define CONTAINING_RECORD(address, type, field) ((type *)((char *)(address) - offsetof(type, field)))
#endif
/** @brief TRUE if an optional pointer argument was supplied. */
#define ARGUMENT_PRESENT(ArgumentPointer) ((ArgumentPointer) != NULL)
#ifndef NT_SUCCESS
/** @brief TRUE for success and informational status codes (also defined by the SDK's winternl.h). */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#endif

/** @name NTSTATUS values used by the implemented routines
 *  Each is left to the SDK's `<ntstatus.h>` if a source included it first. */
/** @{ */
#ifndef STATUS_SUCCESS
/** @brief The operation succeeded. */
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#endif
#ifndef STATUS_PENDING
/** @brief The operation was started and will finish later (a success code). */
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#endif
#ifndef STATUS_UNSUCCESSFUL
/** @brief Unspecified failure. */
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#endif
#ifndef STATUS_INVALID_PARAMETER
/** @brief A parameter was invalid. */
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#endif
#ifndef STATUS_INVALID_DEVICE_REQUEST
/** @brief The request is not valid for this device. */
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif
#ifndef STATUS_INSUFFICIENT_RESOURCES
/** @brief Not enough resources (nonpaged pool, interrupt objects) to finish the request. */
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#endif
#ifndef STATUS_NOT_SUPPORTED
/** @brief The request is not supported. */
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#endif
#ifndef STATUS_INVALID_DEVICE_STATE
/** @brief The device is not in a state in which it can do the request. */
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184L)
#endif
#ifndef STATUS_INVALID_PARAMETER_1
/** @brief The first parameter was invalid. */
#define STATUS_INVALID_PARAMETER_1 ((NTSTATUS)0xC00000EFL)
#endif
#ifndef STATUS_INVALID_PARAMETER_10
/** @brief The tenth parameter was invalid. */
#define STATUS_INVALID_PARAMETER_10 ((NTSTATUS)0xC00000F8L)
#endif
#ifndef STATUS_NOT_FOUND
/** @brief The object was not found. */
#define STATUS_NOT_FOUND ((NTSTATUS)0xC0000225L)
#endif
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
#ifndef _WINNT_ /* winnt.h defines these the same way. */
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
#endif
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

/** @name Memory pools */
/** @{ */
/** @brief The pool an allocation comes from. irqsim allocates from the host heap whatever the type. */
typedef enum _POOL_TYPE {
  NonPagedPool = 0,        /**< Resident memory, usable at any IRQL. */
  NonPagedPoolExecute = 0, /**< NonPagedPool's newer name. */
  PagedPool = 1,           /**< Pageable memory, usable below DISPATCH_LEVEL. */
  NonPagedPoolNx = 512     /**< Resident memory that cannot be executed. */
} POOL_TYPE;
/** @} */

/** @name Deferred procedure calls */
/** @{ */
struct _KDPC;
struct _DEVICE_OBJECT;
struct _IRP;

/** @brief A DPC routine (CustomDpc), called at DISPATCH_LEVEL with the arguments given to KeInsertQueueDpc. */
typedef VOID KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                               PVOID SystemArgument2);
/** @brief Pointer to a DPC routine. */
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

/** @brief A DpcForIsr routine, queued by IoRequestDpc and called at DISPATCH_LEVEL. */
typedef VOID IO_DPC_ROUTINE(struct _KDPC *Dpc, struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp,
                            PVOID Context);
/** @brief Pointer to a DpcForIsr routine. */
typedef IO_DPC_ROUTINE *PIO_DPC_ROUTINE;

/** @brief Where KeInsertQueueDpc puts a DPC and whether it starts the queue (KeSetImportanceDpc). */
typedef enum _KDPC_IMPORTANCE {
  LowImportance = 0,       /**< Append; do not start processing the queue. */
  MediumImportance = 1,    /**< Append; start processing at once if the DPC is for the current processor (default). */
  HighImportance = 2,      /**< Put at the head and start processing at once. */
  MediumHighImportance = 3 /**< Append and start processing at once. */
} KDPC_IMPORTANCE;

/**
 * @brief A DPC object. Drivers treat it as opaque and initialise it with KeInitializeDpc (or
 * IoInitializeDpcRequest). The members are the documented ones, 64 bytes on x64 as on Windows;
 * what irqsim keeps in them is its own: Type is 0x13 once initialised, Number is 0 for "the
 * processor that queues it" or 1 + the target processor's system-wide index, and whether the DPC
 * is queued is kept by the simulated machine.
 */
typedef struct _KDPC {
  UCHAR Type;                            /**< Object type, set by KeInitializeDpc. */
  UCHAR Importance;                      /**< A KDPC_IMPORTANCE value. */
  USHORT Number;                         /**< Target processor (see above). */
  ULONG Reserved;                        /**< Padding, as in the x64 layout. */
  PVOID DpcListEntry;                    /**< Unused by irqsim. */
  KAFFINITY ProcessorHistory;            /**< Unused by irqsim. */
  PKDEFERRED_ROUTINE DeferredRoutine;    /**< The routine KeInitializeDpc bound. */
  PVOID DeferredContext;                 /**< Its context. */
  PVOID SystemArgument1;                 /**< Unused by irqsim: the routine receives the arguments directly. */
  PVOID SystemArgument2;                 /**< Unused by irqsim, likewise. */
  PVOID DpcData;                         /**< Unused by irqsim. */
} KDPC;
/** @brief Pointer to a DPC object. */
typedef struct _KDPC *PKDPC;
/** @brief Pointer to a resident DPC object. */
typedef struct _KDPC *PRKDPC;
/** @} */

/** @name Device objects */
/** @{ */
/** @brief A driver object. Opaque: not defined by irqsim yet. */
struct _DRIVER_OBJECT;
/** @brief An I/O request packet. Opaque: not defined by irqsim yet. */
struct _IRP;

/**
 * @brief A device object: a physical device object (PDO) that irqsim's device simulation
 * provides, or a driver's own functional device object.
 *
 * Only the members the WDK documents as driver-visible are present, in the WDK's documented
 * order; the members it documents as opaque (CurrentIrp, Timer, Vpb, Queue, DeviceQueue,
 * SecurityDescriptor, DeviceLock, ...) are left out. The layout is therefore irqsim's own:
 * drivers must use the members by name and must not depend on their offsets or on
 * `sizeof(DEVICE_OBJECT)`.
 */
typedef struct _DEVICE_OBJECT {
  CSHORT Type;                          /**< Object type: 3 for a device object. Read-only. */
  USHORT Size;                          /**< Size of the object with its device extension. Read-only. */
  LONG ReferenceCount;                  /**< Open handles to the device. Read-only. */
  struct _DRIVER_OBJECT *DriverObject;  /**< The driver that created the object. Read-only. */
  struct _DEVICE_OBJECT *NextDevice;    /**< Next device object created by the same driver. */
  struct _DEVICE_OBJECT *AttachedDevice; /**< Device object attached above this one, or NULL. */
  ULONG Flags;                          /**< `DO_XXX` flags. */
  ULONG Characteristics;                /**< `FILE_XXX` device characteristics. */
  PVOID DeviceExtension;                /**< The driver-defined device extension. */
  ULONG DeviceType;                     /**< `FILE_DEVICE_XXX` device type. */
  CCHAR StackSize;                      /**< Minimum number of IRP stack locations. */
  ULONG AlignmentRequirement;           /**< `FILE_XXX_ALIGNMENT` for data transfers. */
  KDPC Dpc;                             /**< The DpcForIsr object IoInitializeDpcRequest initialises. */
  USHORT SectorSize;                    /**< Volume sector size, 0 if not a volume. */
  PVOID DeviceObjectExtension;          /**< Opaque, for the system (irqsim); drivers must not touch it. */
  PIO_DPC_ROUTINE DpcForIsrRoutine;     /**< irqsim's own: the routine IoInitializeDpcRequest registered. */
} DEVICE_OBJECT;
/** @brief Pointer to DEVICE_OBJECT. */
typedef struct _DEVICE_OBJECT *PDEVICE_OBJECT;
/** @} */

/** @name Hardware resources: resource types and flags */
/** @{ */
#ifndef NT_PROCESSOR_GROUPS
/**
 * @brief Selects the processor-group layouts of the resource descriptors (a `USHORT Level`
 * plus `USHORT Group` instead of a `ULONG Level`), as for any x64 driver built for Windows 7 or
 * later. irqsim only has these layouts.
 */
#define NT_PROCESSOR_GROUPS
#endif

/** @brief A resource type, stored in CM_PARTIAL_RESOURCE_DESCRIPTOR::Type as a UCHAR. */
typedef int CM_RESOURCE_TYPE;
/** @brief No resource. */
#define CmResourceTypeNull 0
/** @brief I/O port range: `u.Port`. */
#define CmResourceTypePort 1
/** @brief Interrupt: `u.Interrupt`, or `u.MessageInterrupt` if CM_RESOURCE_INTERRUPT_MESSAGE is set. */
#define CmResourceTypeInterrupt 2
/** @brief Memory range: `u.Memory`. */
#define CmResourceTypeMemory 3
/** @brief DMA channel: `u.Dma`. */
#define CmResourceTypeDma 4
/** @brief Device-specific data appended after the descriptor: `u.DeviceSpecificData`. */
#define CmResourceTypeDeviceSpecific 5
/** @brief Bus number range: `u.BusNumber`. */
#define CmResourceTypeBusNumber 6
/** @brief Memory range above the 32-bit length limit: `u.Memory40`, `u.Memory48` or `u.Memory64`. */
#define CmResourceTypeMemoryLarge 7
/** @brief Not arbitrated (not used by drivers). */
#define CmResourceTypeNonArbitrated 128
/** @brief Configuration data (reserved for the system; same value as CmResourceTypeNonArbitrated). */
#define CmResourceTypeConfigData 128
/** @brief Private device data: `u.DevicePrivate`. */
#define CmResourceTypeDevicePrivate 129
/** @brief PC Card configuration: `u.DevicePrivate`. */
#define CmResourceTypePcCardConfig 130
/** @brief Multifunction card configuration: `u.DevicePrivate`. */
#define CmResourceTypeMfCardConfig 131
/** @brief Connection to a serial bus, serial port or GPIO pins (Windows 8 and later). */
#define CmResourceTypeConnection 132

/** @brief Whether a resource can be shared, stored in CM_PARTIAL_RESOURCE_DESCRIPTOR::ShareDisposition. */
typedef enum _CM_SHARE_DISPOSITION {
  CmResourceShareUndetermined = 0,    /**< Reserved. */
  CmResourceShareDeviceExclusive = 1, /**< The device needs the resource exclusively. */
  CmResourceShareDriverExclusive = 2, /**< The driver needs the resource exclusively (not for WDM drivers). */
  CmResourceShareShared = 3           /**< The resource can be shared. */
} CM_SHARE_DISPOSITION;

/** @brief Interrupt flag: level-triggered (the absence of CM_RESOURCE_INTERRUPT_LATCHED). */
#define CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE 0x0000
/** @brief Interrupt flag: edge-triggered. */
#define CM_RESOURCE_INTERRUPT_LATCHED 0x0001
/** @brief Interrupt flag: message-signaled (MSI or MSI-X); use `u.MessageInterrupt`. */
#define CM_RESOURCE_INTERRUPT_MESSAGE 0x0002
/** @brief Interrupt flag: an affinity policy is included (IO_RESOURCE_DESCRIPTOR only). */
#define CM_RESOURCE_INTERRUPT_POLICY_INCLUDED 0x0004
/** @brief Interrupt flag: a secondary (GPIO) interrupt (Windows 8 and later). */
#define CM_RESOURCE_INTERRUPT_SECONDARY_INTERRUPT 0x0010
/** @brief Interrupt flag: the interrupt can wake the system (Windows 8 and later). */
#define CM_RESOURCE_INTERRUPT_WAKE_HINT 0x0020
/** @brief Mask of the level-sensitive/latched bit of the interrupt flags. */
#define CM_RESOURCE_INTERRUPT_LEVEL_LATCHED_BITS 0x0001
/** @brief In an interrupt requirement's MaximumVector: the device asks for message-signaled interrupts. */
#define CM_RESOURCE_INTERRUPT_MESSAGE_TOKEN ((ULONG)-2)

/** @brief Memory flag: readable and writable. */
#define CM_RESOURCE_MEMORY_READ_WRITE 0x0000
/** @brief Memory flag: read-only. */
#define CM_RESOURCE_MEMORY_READ_ONLY 0x0001
/** @brief Memory flag: write-only. */
#define CM_RESOURCE_MEMORY_WRITE_ONLY 0x0002
/** @brief Mask of the read/write bits of the memory flags. */
#define CM_RESOURCE_MEMORY_WRITEABILITY_MASK 0x0003
/** @brief Memory flag: prefetchable. */
#define CM_RESOURCE_MEMORY_PREFETCHABLE 0x0004
/** @brief Memory flag: combined-write caching allowed. */
#define CM_RESOURCE_MEMORY_COMBINEDWRITE 0x0008
/** @brief Memory flag: 24-bit addressing. */
#define CM_RESOURCE_MEMORY_24 0x0010
/** @brief Memory flag: cacheable. */
#define CM_RESOURCE_MEMORY_CACHEABLE 0x0020
/** @brief Memory flag (CmResourceTypeMemoryLarge): the descriptor uses `u.Memory40`. */
#define CM_RESOURCE_MEMORY_LARGE_40 0x0200
/** @brief Memory flag (CmResourceTypeMemoryLarge): the descriptor uses `u.Memory48`. */
#define CM_RESOURCE_MEMORY_LARGE_48 0x0400
/** @brief Memory flag (CmResourceTypeMemoryLarge): the descriptor uses `u.Memory64`. */
#define CM_RESOURCE_MEMORY_LARGE_64 0x0800

/** @brief Port flag: the port range is in memory space. */
#define CM_RESOURCE_PORT_MEMORY 0x0000
/** @brief Port flag: the port range is in I/O space. */
#define CM_RESOURCE_PORT_IO 0x0001

/** @brief The bus type of a full resource descriptor (unused by WDM drivers). */
typedef enum _INTERFACE_TYPE {
  InterfaceTypeUndefined = -1, /**< Undefined. */
  Internal = 0,                /**< Internal (system) bus. */
  Isa = 1,                     /**< ISA. */
  Eisa = 2,                    /**< EISA. */
  MicroChannel = 3,            /**< MicroChannel. */
  TurboChannel = 4,            /**< TurboChannel. */
  PCIBus = 5,                  /**< PCI. */
  VMEBus = 6,                  /**< VME. */
  NuBus = 7,                   /**< NuBus. */
  PCMCIABus = 8,               /**< PCMCIA. */
  CBus = 9,                    /**< CBus. */
  MPIBus = 10,                 /**< MPI. */
  MPSABus = 11,                /**< MPSA. */
  ProcessorInternal = 12,      /**< Processor-internal. */
  InternalPowerBus = 13,       /**< Internal power bus. */
  PNPISABus = 14,              /**< Plug and Play ISA. */
  PNPBus = 15,                 /**< Plug and Play bus. */
  Vmcs = 16,                   /**< Reserved for the system. */
  ACPIBus = 17,                /**< ACPI (Windows 8 and later). */
  MaximumInterfaceType = 18    /**< One past the last bus type. */
} INTERFACE_TYPE;
/** @brief Pointer to INTERFACE_TYPE. */
typedef INTERFACE_TYPE *PINTERFACE_TYPE;
/** @} */

/** @name Hardware resources: resource lists */
/** @{ */
#pragma pack(push, 4)
/**
 * @brief One hardware resource (or one set of MSI messages) assigned to a device.
 *
 * Declared with 4-byte packing as in the WDK: on x64 it is 20 bytes, `u` is at offset 4 and
 * the 64-bit members of `u` are only 4-byte aligned. `Type` selects the member of `u`.
 * In a raw list the values are bus-relative; in the translated list (the one a driver connects
 * its interrupts from) they are system values: `u.Interrupt.Level` is the DIRQL and
 * `u.Interrupt.Vector` the system vector. As in the WDK, `u.MessageInterrupt.Raw` and
 * `u.MessageInterrupt.Translated` are members of an anonymous union (marked IRQSIM_ANONYMOUS_MEMBER,
 * as in LARGE_INTEGER, so that C99 and C++ accept it under -Wpedantic).
 */
typedef struct _CM_PARTIAL_RESOURCE_DESCRIPTOR {
  UCHAR Type;             /**< A CmResourceTypeXxx value. */
  UCHAR ShareDisposition; /**< A CM_SHARE_DISPOSITION value. */
  USHORT Flags;           /**< CM_RESOURCE_XXX flags of the resource type. */
  /** @brief The resource, by type. */
  union {
    /** @brief Any range: start and length. */
    struct {
      PHYSICAL_ADDRESS Start; /**< First address. */
      ULONG Length;           /**< Length in bytes. */
    } Generic;
    /** @brief CmResourceTypePort: an I/O port range. */
    struct {
      PHYSICAL_ADDRESS Start; /**< First port address (bus-relative raw, system translated). */
      ULONG Length;           /**< Length in bytes. */
    } Port;
    /** @brief CmResourceTypeInterrupt without CM_RESOURCE_INTERRUPT_MESSAGE: a line-based interrupt. */
    struct {
      USHORT Level;       /**< Translated: the DIRQL. Raw: the bus-specific level. */
      USHORT Group;       /**< Processor group of Affinity; ALL_PROCESSOR_GROUPS for any. */
      ULONG Vector;       /**< Translated: the system vector. Raw: the bus-specific vector. */
      KAFFINITY Affinity; /**< Processors the device may interrupt; (KAFFINITY)-1 for any. */
    } Interrupt;
    /** @brief CmResourceTypeInterrupt with CM_RESOURCE_INTERRUPT_MESSAGE (Windows Vista and later). */
    IRQSIM_ANONYMOUS_MEMBER struct {
      /** @brief Raw or translated view. */
      IRQSIM_ANONYMOUS_MEMBER union {
        /** @brief Raw resource: the messages granted. */
        struct {
          USHORT Group;        /**< Processor group of Affinity. */
          USHORT MessageCount; /**< Number of messages (MSI: all of them in one descriptor). */
          ULONG Vector;        /**< The device's interrupt vector. */
          KAFFINITY Affinity;  /**< Processors that receive the messages. */
        } Raw;
        /** @brief Translated resource: what IoConnectInterruptEx needs. */
        struct {
          USHORT Level;       /**< The DIRQL of the messages. */
          USHORT Group;       /**< Processor group of Affinity. */
          ULONG Vector;       /**< The system vector. */
          KAFFINITY Affinity; /**< Processors that receive the messages. */
        } Translated;
      };
    } MessageInterrupt;
    /** @brief CmResourceTypeMemory: a memory range (device registers, for MmMapIoSpaceEx). */
    struct {
      PHYSICAL_ADDRESS Start; /**< First address (bus-relative raw, system physical translated). */
      ULONG Length;           /**< Length in bytes. */
    } Memory;
    /** @brief CmResourceTypeDma: a system DMA channel. */
    struct {
      ULONG Channel;   /**< DMA channel number. */
      ULONG Port;      /**< DMA port (MCA devices). */
      ULONG Reserved1; /**< Not used. */
    } Dma;
    /** @brief CmResourceTypeDma with CM_RESOURCE_DMA_V3: a system DMA request line (Windows 8 and later). */
    struct {
      ULONG Channel;       /**< DMA channel number. */
      ULONG RequestLine;   /**< Request line on the DMA controller. */
      UCHAR TransferWidth; /**< Data bus width in bits. */
      UCHAR Reserved1;     /**< Not used. */
      UCHAR Reserved2;     /**< Not used. */
      UCHAR Reserved3;     /**< Not used. */
    } DmaV3;
    /** @brief CmResourceTypeDevicePrivate (and PC Card / multifunction configuration). */
    struct {
      ULONG Data[3]; /**< Reserved for the system. */
    } DevicePrivate;
    /** @brief CmResourceTypeBusNumber: a range of bus numbers. */
    struct {
      ULONG Start;    /**< First bus number. */
      ULONG Length;   /**< Number of buses. */
      ULONG Reserved; /**< Not used. */
    } BusNumber;
    /** @brief CmResourceTypeDeviceSpecific: data appended after this (last) descriptor. */
    struct {
      ULONG DataSize;  /**< Bytes appended after the descriptor. */
      ULONG Reserved1; /**< Not used. */
      ULONG Reserved2; /**< Not used. */
    } DeviceSpecificData;
    /** @brief CmResourceTypeMemoryLarge with CM_RESOURCE_MEMORY_LARGE_40. */
    struct {
      PHYSICAL_ADDRESS Start; /**< First address. */
      ULONG Length40;         /**< Length in bytes, shifted right by 8. */
    } Memory40;
    /** @brief CmResourceTypeMemoryLarge with CM_RESOURCE_MEMORY_LARGE_48. */
    struct {
      PHYSICAL_ADDRESS Start; /**< First address. */
      ULONG Length48;         /**< Length in bytes, shifted right by 16. */
    } Memory48;
    /** @brief CmResourceTypeMemoryLarge with CM_RESOURCE_MEMORY_LARGE_64. */
    struct {
      PHYSICAL_ADDRESS Start; /**< First address. */
      ULONG Length64;         /**< Length in bytes, shifted right by 32. */
    } Memory64;
    /** @brief CmResourceTypeConnection: a serial bus, serial port or GPIO connection (Windows 8 and later). */
    struct {
      UCHAR Class;      /**< Connection class (GPIO or serial). */
      UCHAR Type;       /**< Connection type within the class. */
      UCHAR Reserved1;  /**< Not used. */
      UCHAR Reserved2;  /**< Not used. */
      ULONG IdLowPart;  /**< Low 32 bits of the connection ID. */
      ULONG IdHighPart; /**< High 32 bits of the connection ID. */
    } Connection;
  } u;
} CM_PARTIAL_RESOURCE_DESCRIPTOR;
#pragma pack(pop)
/** @brief Pointer to CM_PARTIAL_RESOURCE_DESCRIPTOR. */
typedef CM_PARTIAL_RESOURCE_DESCRIPTOR *PCM_PARTIAL_RESOURCE_DESCRIPTOR;

/**
 * @brief The resources of one bus: a header and `Count` descriptors back to back
 * (`sizeof(CM_PARTIAL_RESOURCE_LIST) + (Count - 1) * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR)`
 * bytes, plus any device-specific data after a last CmResourceTypeDeviceSpecific descriptor).
 */
typedef struct _CM_PARTIAL_RESOURCE_LIST {
  USHORT Version;  /**< Version, 1. */
  USHORT Revision; /**< Revision, 1. */
  ULONG Count;     /**< Number of descriptors. */
  CM_PARTIAL_RESOURCE_DESCRIPTOR PartialDescriptors[1]; /**< The first of Count descriptors. */
} CM_PARTIAL_RESOURCE_LIST;
/** @brief Pointer to CM_PARTIAL_RESOURCE_LIST. */
typedef CM_PARTIAL_RESOURCE_LIST *PCM_PARTIAL_RESOURCE_LIST;

/** @brief The resources of one bus, with the bus identified (the bus fields are unused by WDM drivers). */
typedef struct _CM_FULL_RESOURCE_DESCRIPTOR {
  INTERFACE_TYPE InterfaceType;                /**< Bus type. */
  ULONG BusNumber;                             /**< Bus number. */
  CM_PARTIAL_RESOURCE_LIST PartialResourceList; /**< The resources; its descriptors end this structure. */
} CM_FULL_RESOURCE_DESCRIPTOR;
/** @brief Pointer to CM_FULL_RESOURCE_DESCRIPTOR. */
typedef CM_FULL_RESOURCE_DESCRIPTOR *PCM_FULL_RESOURCE_DESCRIPTOR;

/**
 * @brief The resources assigned to a device, as IRP_MN_START_DEVICE passes them (raw and
 * translated, same order). `Count` full descriptors follow one another: the next one starts
 * right after the last partial descriptor of the previous one. For WDM drivers `Count` is 1.
 */
typedef struct _CM_RESOURCE_LIST {
  ULONG Count;                         /**< Number of full descriptors. */
  CM_FULL_RESOURCE_DESCRIPTOR List[1]; /**< The first of Count full descriptors. */
} CM_RESOURCE_LIST;
/** @brief Pointer to CM_RESOURCE_LIST. */
typedef CM_RESOURCE_LIST *PCM_RESOURCE_LIST;
/** @} */

/** @name Mapping device memory */
/** @{ */
/** @brief Caching behaviour of a mapping or allocation. */
typedef enum _MEMORY_CACHING_TYPE {
  MmNonCached = 0,              /**< Not cached. */
  MmCached = 1,                 /**< Cached. */
  MmWriteCombined = 2,          /**< Not cached, but writes may be combined. */
  MmHardwareCoherentCached = 3, /**< Reserved for the system. */
  MmNonCachedUnordered = 4,     /**< Reserved for the system. */
  MmUSWCCached = 5,             /**< Reserved for the system. */
  MmMaximumCacheType = 6,       /**< Reserved for the system: one past the last type. */
  MmNotMapped = -1              /**< Reserved for the system: not mapped. */
} MEMORY_CACHING_TYPE;

#ifndef _WINNT_ /* winnt.h defines these the same way. */
/** @brief Page protection: no access. */
#define PAGE_NOACCESS 0x01
/** @brief Page protection: read-only. */
#define PAGE_READONLY 0x02
/** @brief Page protection: read and write. */
#define PAGE_READWRITE 0x04
/** @brief Page protection: copy on write. */
#define PAGE_WRITECOPY 0x08
/** @brief Page protection: execute only. */
#define PAGE_EXECUTE 0x10
/** @brief Page protection: execute and read. */
#define PAGE_EXECUTE_READ 0x20
/** @brief Page protection: execute, read and write. */
#define PAGE_EXECUTE_READWRITE 0x40
/** @brief Page protection: execute and copy on write. */
#define PAGE_EXECUTE_WRITECOPY 0x80
/** @brief Page protection modifier: guard page. */
#define PAGE_GUARD 0x100
/** @brief Page protection modifier: not cached (MmMapIoSpaceEx). */
#define PAGE_NOCACHE 0x200
/** @brief Page protection modifier: write-combined (MmMapIoSpaceEx). */
#define PAGE_WRITECOMBINE 0x400
#endif
/** @} */

/** @name IoConnectInterruptEx and message-signaled interrupts */
/** @{ */
/** @brief IO_CONNECT_INTERRUPT_PARAMETERS::Version: connect one interrupt described in full (`FullySpecified`). */
#define CONNECT_FULLY_SPECIFIED 0x1
/** @brief Version: connect one ISR to all of the device's line-based interrupts (`LineBased`). */
#define CONNECT_LINE_BASED 0x2
/** @brief Version: connect a message ISR to the device's messages, with an optional line fallback (`MessageBased`). */
#define CONNECT_MESSAGE_BASED 0x3
/** @brief Version: as CONNECT_FULLY_SPECIFIED, honouring `FullySpecified.Group` (Windows 7 and later). */
#define CONNECT_FULLY_SPECIFIED_GROUP 0x4
/** @brief Version: as CONNECT_MESSAGE_BASED, with the message ISR run at PASSIVE_LEVEL. */
#define CONNECT_MESSAGE_BASED_PASSIVE 0x5
/** @brief The highest Version this header knows. */
#define CONNECT_CURRENT_VERSION 0x5

/**
 * @brief A message-signaled interrupt service routine (IMSR).
 * @param Interrupt the interrupt object of the message.
 * @param ServiceContext the `MessageBased.ServiceContext` given at connection.
 * @param MessageID the message, an index into IO_INTERRUPT_MESSAGE_INFO::MessageInfo.
 * @return TRUE if the device raised this message and it was serviced, FALSE otherwise.
 */
typedef BOOLEAN KMESSAGE_SERVICE_ROUTINE(struct _KINTERRUPT *Interrupt, PVOID ServiceContext,
                                         ULONG MessageID);
/** @brief Pointer to a message ISR. */
typedef KMESSAGE_SERVICE_ROUTINE *PKMESSAGE_SERVICE_ROUTINE;

/** @brief One message of a message-based connection. */
typedef struct _IO_INTERRUPT_MESSAGE_INFO_ENTRY {
  PHYSICAL_ADDRESS MessageAddress; /**< Address the device writes to raise the message. */
  KAFFINITY TargetProcessorSet;    /**< Processors the message may interrupt. */
  PKINTERRUPT InterruptObject;     /**< The message's interrupt object (for KeSynchronizeExecution). */
  ULONG MessageData;               /**< Value the device writes to MessageAddress. */
  ULONG Vector;                    /**< System vector. */
  KIRQL Irql;                      /**< DIRQL. */
  KINTERRUPT_MODE Mode;            /**< Level-sensitive or latched. */
  KINTERRUPT_POLARITY Polarity;    /**< Polarity. */
} IO_INTERRUPT_MESSAGE_INFO_ENTRY;
/** @brief Pointer to IO_INTERRUPT_MESSAGE_INFO_ENTRY. */
typedef IO_INTERRUPT_MESSAGE_INFO_ENTRY *PIO_INTERRUPT_MESSAGE_INFO_ENTRY;

/**
 * @brief The message table a successful CONNECT_MESSAGE_BASED connection returns: a header
 * followed by `MessageCount` entries indexed by message ID.
 */
typedef struct _IO_INTERRUPT_MESSAGE_INFO {
  KIRQL UnifiedIrql;  /**< IRQL every message's ISR runs at if a SpinLock or SynchronizeIrql was given; else 0. */
  ULONG MessageCount; /**< Number of messages (entries). */
  IO_INTERRUPT_MESSAGE_INFO_ENTRY MessageInfo[1]; /**< The first of MessageCount entries. */
} IO_INTERRUPT_MESSAGE_INFO;
/** @brief Pointer to IO_INTERRUPT_MESSAGE_INFO. */
typedef IO_INTERRUPT_MESSAGE_INFO *PIO_INTERRUPT_MESSAGE_INFO;

/** @brief IoConnectInterruptEx parameters for CONNECT_FULLY_SPECIFIED(_GROUP): one interrupt from a translated resource. */
typedef struct _IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS {
  PDEVICE_OBJECT PhysicalDeviceObject; /**< The device's PDO. */
  PKINTERRUPT *InterruptObject;        /**< Receives the interrupt object. */
  PKSERVICE_ROUTINE ServiceRoutine;    /**< The ISR. */
  PVOID ServiceContext;                /**< Passed to the ISR. */
  PKSPIN_LOCK SpinLock;                /**< An initialized interrupt lock, or NULL for one the system allocates. */
  KIRQL SynchronizeIrql;               /**< DIRQL the ISR runs at: Irql, or the highest Irql of the ISRs sharing SpinLock. */
  BOOLEAN FloatingSave;                /**< Save the floating-point state around the ISR. */
  BOOLEAN ShareVector;                 /**< The vector is sharable (`ShareDisposition == CmResourceShareShared`). */
  ULONG Vector;                        /**< `u.Interrupt.Vector` (or `u.MessageInterrupt.Translated.Vector`). */
  KIRQL Irql;                          /**< `u.Interrupt.Level` (or `u.MessageInterrupt.Translated.Level`). */
  KINTERRUPT_MODE InterruptMode;       /**< Latched if CM_RESOURCE_INTERRUPT_LATCHED, else LevelSensitive. */
  KAFFINITY ProcessorEnableMask;       /**< `u.Interrupt.Affinity` (or `u.MessageInterrupt.Translated.Affinity`). */
  USHORT Group;                        /**< Processor group; used only with CONNECT_FULLY_SPECIFIED_GROUP. */
} IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS;
/** @brief Pointer to IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS. */
typedef IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS *PIO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS;

/** @brief IoConnectInterruptEx parameters for CONNECT_LINE_BASED: one ISR for all the device's line-based interrupts. */
typedef struct _IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS {
  PDEVICE_OBJECT PhysicalDeviceObject; /**< The device's PDO; the system finds its interrupts from it. */
  PKINTERRUPT *InterruptObject;        /**< Receives the interrupt object. */
  PKSERVICE_ROUTINE ServiceRoutine;    /**< The ISR. */
  PVOID ServiceContext;                /**< Passed to the ISR. */
  PKSPIN_LOCK SpinLock;                /**< An initialized interrupt lock, or NULL for one the system allocates. */
  KIRQL SynchronizeIrql;               /**< Minimum DIRQL for the ISR, normally PASSIVE_LEVEL (0): use the interrupts' own. */
  BOOLEAN FloatingSave;                /**< Save the floating-point state around the ISR. */
} IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS;
/** @brief Pointer to IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS. */
typedef IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS *PIO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS;

/** @brief IoConnectInterruptEx parameters for CONNECT_MESSAGE_BASED: a message ISR, with an optional line-based fallback. */
typedef struct _IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS {
  PDEVICE_OBJECT PhysicalDeviceObject; /**< The device's PDO; the system finds its messages from it. */
  /**
   * @brief Where the connection context is stored: an IO_INTERRUPT_MESSAGE_INFO pointer if the
   * message ISR was connected (Version stays CONNECT_MESSAGE_BASED), a KINTERRUPT pointer if the
   * fallback ISR was (Version becomes CONNECT_LINE_BASED).
   */
  union {
    PVOID *Generic;                                   /**< The location, as a PVOID variable. */
    PIO_INTERRUPT_MESSAGE_INFO *InterruptMessageTable; /**< The location, as a message-table pointer variable. */
    PKINTERRUPT *InterruptObject;                     /**< The location, as an interrupt-object pointer variable. */
  } ConnectionContext;
  PKMESSAGE_SERVICE_ROUTINE MessageServiceRoutine; /**< The message ISR. */
  PVOID ServiceContext;                            /**< Passed to the message ISR or the fallback ISR. */
  PKSPIN_LOCK SpinLock;                            /**< One lock for all messages, or NULL for one lock per message. */
  KIRQL SynchronizeIrql;                           /**< Minimum DIRQL for the ISR, normally 0. */
  BOOLEAN FloatingSave;                            /**< Save the floating-point state around the ISR. */
  PKSERVICE_ROUTINE FallBackServiceRoutine;        /**< Line-based ISR used if the device has no messages, or NULL. */
} IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS;
/** @brief Pointer to IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS. */
typedef IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS *PIO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS;

/**
 * @brief The parameter block of IoConnectInterruptEx: `Version` selects the member of the
 * anonymous union. On return `Version` tells which kind of connection was made (see the
 * CONNECT_XXX values); keep it for the disconnect.
 */
typedef struct _IO_CONNECT_INTERRUPT_PARAMETERS {
  ULONG Version; /**< A CONNECT_XXX value; rewritten on return. */
  /** @brief The version-specific parameters (an anonymous union: IRQSIM_ANONYMOUS_MEMBER for C99). */
  IRQSIM_ANONYMOUS_MEMBER union {
    IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS FullySpecified; /**< CONNECT_FULLY_SPECIFIED(_GROUP). */
    IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS LineBased;           /**< CONNECT_LINE_BASED. */
    IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS MessageBased;     /**< CONNECT_MESSAGE_BASED(_PASSIVE). */
  };
} IO_CONNECT_INTERRUPT_PARAMETERS;
/** @brief Pointer to IO_CONNECT_INTERRUPT_PARAMETERS. */
typedef IO_CONNECT_INTERRUPT_PARAMETERS *PIO_CONNECT_INTERRUPT_PARAMETERS;

/** @brief The parameter block of IoDisconnectInterruptEx. */
typedef struct _IO_DISCONNECT_INTERRUPT_PARAMETERS {
  ULONG Version; /**< The Version IoConnectInterruptEx returned. */
  /** @brief The context IoConnectInterruptEx stored. */
  union {
    PVOID Generic;                                   /**< As a PVOID. */
    PKINTERRUPT InterruptObject;                     /**< Line-based or fully specified: the interrupt object. */
    PIO_INTERRUPT_MESSAGE_INFO InterruptMessageTable; /**< Message-based: the message table. */
  } ConnectionContext;
} IO_DISCONNECT_INTERRUPT_PARAMETERS;
/** @brief Pointer to IO_DISCONNECT_INTERRUPT_PARAMETERS. */
typedef IO_DISCONNECT_INTERRUPT_PARAMETERS *PIO_DISCONNECT_INTERRUPT_PARAMETERS;

/** @brief The parameter block of IoReportInterruptActive and IoReportInterruptInactive (Windows 8 and later). */
typedef struct _IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS {
  ULONG Version; /**< The Version IoConnectInterruptEx returned. */
  /** @brief The context IoConnectInterruptEx stored. */
  union {
    PVOID Generic;                                   /**< As a PVOID. */
    PKINTERRUPT InterruptObject;                     /**< Line-based or fully specified: the interrupt object. */
    PIO_INTERRUPT_MESSAGE_INFO InterruptMessageTable; /**< Message-based: the message table. */
  } ConnectionContext;
} IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS;
/** @brief Pointer to IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS. */
typedef IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS *PIO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS;
/** @} */

/* The inline routines are defined with irqsim's own IRQSIM_FORCEINLINE (static) rather than
   FORCEINLINE, which after <windows.h> is the SDK's: on mingw-w64 extern gnu_inline, which leaves
   no out-of-line copy for a driver that takes a routine's address. */
/** @name IRQL routines
 * As in the x64 WDK, where they read and write the processor's CR8, these are inline. On a
 * simulated processor with nothing pending and nothing to check, they only read and write its
 * IRQL; otherwise, and on threads that are not simulated processors, they call the library
 * (processor_state.h), which checks everything and takes pending interrupts and DPCs. */
/** @{ */
/** @brief Returns the IRQL of the current processor (or of the calling thread if it is not one). */
IRQSIM_FORCEINLINE
KIRQL KeGetCurrentIrql(void) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && irqsim_atomic_load_u32_relaxed(&State->attention) == 0) return State->irql;
  return irqsim_get_current_irql();
}
/**
 * @brief Raises the IRQL to NewIrql and returns the previous IRQL.
 * Bug check 0xC4/0x30 if NewIrql is below the current IRQL or above HIGH_LEVEL.
 */
IRQSIM_FORCEINLINE
KIRQL KfRaiseIrql(KIRQL NewIrql) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && irqsim_atomic_load_u32_relaxed(&State->attention) == 0 && NewIrql >= State->irql &&
      NewIrql <= HIGH_LEVEL) {
    const KIRQL OldIrql = State->irql;
    irqsim_atomic_store_u8_relaxed(&State->irql, NewIrql);
    return OldIrql;
  }
  return irqsim_raise_irql(NewIrql);
}
/** @brief Raises the IRQL to NewIrql and stores the previous IRQL in *OldIrql. */
#define KeRaiseIrql(NewIrql, OldIrql) (*(OldIrql) = KfRaiseIrql(NewIrql))
/**
 * @brief Lowers the IRQL to NewIrql, the value saved by the matching raise. Pending interrupts
 * above NewIrql are taken before it returns. Bug check 0xC4/0x31 if NewIrql is above the
 * current IRQL; 0xF if a spin lock held needs a higher IRQL.
 */
IRQSIM_FORCEINLINE
VOID KeLowerIrql(KIRQL NewIrql) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && irqsim_atomic_load_u32_relaxed(&State->attention) == 0 && NewIrql <= State->irql &&
      irqsim_may_lower_to(State, State->held_lock_levels, NewIrql)) {
    if (irqsim_store_lower_irql(State, NewIrql) != 0) irqsim_preemption_point();
    return;
  }
  irqsim_lower_irql(NewIrql);
}
/** @brief Raises to DISPATCH_LEVEL and returns the previous IRQL. Bug check 0xC4/0x00020011 above DISPATCH_LEVEL. */
IRQSIM_FORCEINLINE
KIRQL KeRaiseIrqlToDpcLevel(void) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && irqsim_atomic_load_u32_relaxed(&State->attention) == 0 && State->irql <= DISPATCH_LEVEL) {
    const KIRQL OldIrql = State->irql;
    irqsim_atomic_store_u8_relaxed(&State->irql, (KIRQL)DISPATCH_LEVEL);
    return OldIrql;
  }
  return irqsim_raise_irql_to_dpc_level();
}
/** @} */

/** @name Executive spin locks */
/** @{ */
/** @brief Initializes (releases) a spin lock. Any IRQL. */
VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
/**
 * @brief Raises to DISPATCH_LEVEL, acquires the lock and returns the previous IRQL.
 * Bug check 0xC4/0x42 above DISPATCH_LEVEL, 0xF if this processor already owns the lock.
 */
IRQSIM_FORCEINLINE
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && SpinLock != NULL && State->irql <= DISPATCH_LEVEL &&
      irqsim_atomic_load_u32_relaxed(&State->attention) == 0 &&
      irqsim_atomic_compare_exchange_uptr_acquire(SpinLock, 0, State->lock_token)) {
    const KIRQL OldIrql = State->irql;
    irqsim_atomic_store_u8_relaxed(&State->irql, (KIRQL)DISPATCH_LEVEL);
    if (State->held_locks[DISPATCH_LEVEL]++ == 0) State->held_lock_levels |= 1u << DISPATCH_LEVEL;
    return OldIrql;
  }
  return irqsim_acquire_spin_lock_raise_to_dpc(SpinLock);
}
/** @brief Acquires the lock at DISPATCH_LEVEL and stores the previous IRQL in *OldIrql. */
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))
/**
 * @brief Releases a lock taken with KeAcquireSpinLock and lowers to NewIrql.
 * Bug check 0xC4/0x32 if not at DISPATCH_LEVEL, 0x10 if this processor does not own the lock.
 */
IRQSIM_FORCEINLINE
VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && SpinLock != NULL && irqsim_atomic_load_u32_relaxed(&State->attention) == 0 &&
      State->irql == DISPATCH_LEVEL && State->held_locks[DISPATCH_LEVEL] != 0 &&
      irqsim_atomic_load_uptr_relaxed(SpinLock) == State->lock_token) {
    const unsigned HeldAfter = State->held_locks[DISPATCH_LEVEL] == 1
                                   ? State->held_lock_levels & ~(1u << DISPATCH_LEVEL)
                                   : State->held_lock_levels;
    if (NewIrql <= DISPATCH_LEVEL && irqsim_may_lower_to(State, HeldAfter, NewIrql)) {
      irqsim_atomic_store_uptr_release(SpinLock, 0);
      --State->held_locks[DISPATCH_LEVEL];
      State->held_lock_levels = (USHORT)HeldAfter;
      if (irqsim_store_lower_irql(State, NewIrql) != 0) irqsim_preemption_point();
      return;
    }
  }
  irqsim_release_spin_lock(SpinLock, NewIrql);
}
/** @brief Acquires the lock without changing IRQL. Bug check 0xC4/0x40 below DISPATCH_LEVEL. */
IRQSIM_FORCEINLINE
VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && SpinLock != NULL && State->irql >= DISPATCH_LEVEL &&
      irqsim_atomic_load_u32_relaxed(&State->attention) == 0 &&
      irqsim_atomic_compare_exchange_uptr_acquire(SpinLock, 0, State->lock_token)) {
    if (State->held_locks[DISPATCH_LEVEL]++ == 0) State->held_lock_levels |= 1u << DISPATCH_LEVEL;
    return;
  }
  irqsim_acquire_spin_lock_at_dpc_level(SpinLock);
}
/** @brief Releases a lock taken at DISPATCH_LEVEL. Bug check 0xC4/0x41 below DISPATCH_LEVEL. */
IRQSIM_FORCEINLINE
VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock) {
  irqsim_processor_state *State = irqsim_current_processor;
  if (State != NULL && SpinLock != NULL && irqsim_atomic_load_u32_relaxed(&State->attention) == 0 &&
      State->irql >= DISPATCH_LEVEL && State->held_locks[DISPATCH_LEVEL] != 0 &&
      irqsim_atomic_load_uptr_relaxed(SpinLock) == State->lock_token) {
    irqsim_atomic_store_uptr_release(SpinLock, 0);
    if (--State->held_locks[DISPATCH_LEVEL] == 0) State->held_lock_levels &= (USHORT)~(1u << DISPATCH_LEVEL);
    if (irqsim_atomic_load_u32_relaxed(&State->attention) != 0) irqsim_preemption_point();
    return;
  }
  irqsim_release_spin_lock_from_dpc_level(SpinLock);
}
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
/** @brief System-wide index of the current processor (group * group size + number in group); fills
 *  *ProcNumber, if given, with its group and group-relative number. */
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);
/** @brief Number of active processors in group 0, as for a caller that is not group-aware; stores
 *  their mask in *ActiveProcessors if given. */
ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);
/** @brief Number of active processors in GroupNumber (0 or ALL_PROCESSOR_GROUPS); 0 for another group. */
ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber);
/** @brief Mask of the active processors. Bug check 0xC4/0x0002000F above APC_LEVEL. */
KAFFINITY KeQueryActiveProcessors(void);
/** @brief Maximum number of processors in group 0, as for a caller that is not group-aware (all
 *  the machine's processors when it has one group). */
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

/** @name Interrupt connection by device (IoConnectInterruptEx) */
/** @{ */
/**
 * @brief Connects an ISR to a device's interrupts, found from its PDO, in the way
 * `Parameters->Version` says. PASSIVE_LEVEL only (bug check 0xC4/0x0002000B otherwise).
 *
 * - CONNECT_FULLY_SPECIFIED(_GROUP): one interrupt from a translated resource. Irql ==
 *   SynchronizeIrql == PASSIVE_LEVEL gives a passive-level ISR (SpinLock must be NULL).
 * - CONNECT_LINE_BASED: one ISR for all of the device's line interrupts, at the highest of
 *   their IRQLs and SynchronizeIrql, under one lock.
 * - CONNECT_MESSAGE_BASED(_PASSIVE): the message ISR for every message, with an
 *   IO_INTERRUPT_MESSAGE_INFO table; a device without messages gets FallBackServiceRoutine
 *   connected line-based instead, and Version becomes CONNECT_LINE_BASED.
 *
 * @retval STATUS_SUCCESS connected; an ISR may run before this returns.
 * @retval STATUS_INVALID_PARAMETER_1 unknown Version; Version is set to CONNECT_CURRENT_VERSION.
 * @retval STATUS_INVALID_PARAMETER NULL Parameters, output pointer, routine or PDO, a PDO of no
 *         device, a SpinLock with a passive-level ISR, bad IRQLs or mode, or a conflict with
 *         the interrupts already connected.
 * @retval STATUS_INVALID_PARAMETER_10 FullySpecified.ProcessorEnableMask has no existing processor.
 * @retval STATUS_NOT_FOUND the device has no interrupts (no messages and no fallback, for
 *         message-based), or FullySpecified.Vector is not one of the device's.
 * @retval STATUS_INVALID_DEVICE_REQUEST CONNECT_LINE_BASED on a device granted several messages.
 * @retval STATUS_INSUFFICIENT_RESOURCES no interrupt object left.
 */
NTSTATUS IoConnectInterruptEx(PIO_CONNECT_INTERRUPT_PARAMETERS Parameters);
/**
 * @brief Disconnects what IoConnectInterruptEx connected; Version must be the one it returned
 * and ConnectionContext the object or message table it stored (bug check 0x50 otherwise, 0xCC
 * for one already disconnected). PASSIVE_LEVEL only (bug check 0xC4/0x0002000D).
 */
VOID IoDisconnectInterruptEx(PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters);
/**
 * @brief Reports a connection active again after IoReportInterruptInactive: its ISRs are
 * called again and a pending interrupt is delivered. Repeating it has no effect. Parameters as
 * for IoDisconnectInterruptEx (the same bug checks for a context that does not fit its
 * Version). Callable at IRQL <= DISPATCH_LEVEL (not checked).
 */
VOID IoReportInterruptActive(PIO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS Parameters);
/**
 * @brief A soft disconnect that keeps the registration: the connection's ISRs are not called,
 * and an interrupt with no active ISR stays pending. Repeating it has no effect.
 */
VOID IoReportInterruptInactive(PIO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS Parameters);
/**
 * @brief The processor group and mask an interrupt object is connected on. Any IRQL.
 * @retval STATUS_INVALID_PARAMETER InterruptObject is not a connected interrupt object, or
 *         GroupAffinity is NULL.
 */
NTSTATUS IoGetAffinityInterrupt(PKINTERRUPT InterruptObject, PGROUP_AFFINITY GroupAffinity);
/** @} */

/** @name Device registers */
/** @{ */
/**
 * @brief Maps `NumberOfBytes` of device memory at `PhysicalAddress` (from the translated
 * CmResourceTypeMemory descriptor) and returns the address to access it through the register
 * routines, or NULL if the range is not inside one device's register block or is empty.
 */
PVOID MmMapIoSpace(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes, MEMORY_CACHING_TYPE CacheType);
/**
 * @brief MmMapIoSpace with page protection: PAGE_READWRITE or PAGE_READONLY, optionally with
 * PAGE_NOCACHE or PAGE_WRITECOMBINE; NULL for any other protection.
 */
PVOID MmMapIoSpaceEx(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes, ULONG Protect);
/**
 * @brief Releases a mapping. Bug check 0x50 unless BaseAddress and NumberOfBytes are exactly a
 * live mapping; any later access through it is bug check 0x50 too.
 */
VOID MmUnmapIoSpace(PVOID BaseAddress, SIZE_T NumberOfBytes);
/** @brief Reads an 8-bit register through a mapping (anything else: a plain volatile read). */
UCHAR READ_REGISTER_UCHAR(volatile UCHAR *Register);
/** @brief Reads a 16-bit register through a mapping. */
USHORT READ_REGISTER_USHORT(volatile USHORT *Register);
/** @brief Reads a 32-bit register through a mapping. */
ULONG READ_REGISTER_ULONG(volatile ULONG *Register);
/** @brief Reads a 64-bit register through a mapping. */
ULONG64 READ_REGISTER_ULONG64(volatile ULONG64 *Register);
/** @brief Writes an 8-bit register through a mapping (anything else: a plain volatile write). */
VOID WRITE_REGISTER_UCHAR(volatile UCHAR *Register, UCHAR Value);
/** @brief Writes a 16-bit register through a mapping. */
VOID WRITE_REGISTER_USHORT(volatile USHORT *Register, USHORT Value);
/** @brief Writes a 32-bit register through a mapping. */
VOID WRITE_REGISTER_ULONG(volatile ULONG *Register, ULONG Value);
/** @brief Writes a 64-bit register through a mapping. */
VOID WRITE_REGISTER_ULONG64(volatile ULONG64 *Register, ULONG64 Value);
/** @} */

/** @name DPC routines */
/** @{ */
/**
 * @brief Initialises a DPC object: binds DeferredRoutine and DeferredContext, MediumImportance,
 * the current processor as target, not queued. Any IRQL.
 */
VOID KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
/**
 * @brief Queues the DPC on its target processor's queue with the two arguments. Returns FALSE,
 * with no other effect, if the DPC is already queued. Any IRQL. Bug check 0xC7 (P1 = 1) for a DPC
 * object KeInitializeDpc never initialised.
 */
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
/** @brief Takes the DPC out of its queue. TRUE if it was queued (it will not run), FALSE otherwise. Any IRQL. */
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc);
/** @brief Sets where KeInsertQueueDpc puts the DPC and whether it starts the queue (see KDPC_IMPORTANCE). Any IRQL. */
VOID KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance);
/**
 * @brief Sets the processor (of group 0) whose queue the next KeInsertQueueDpc uses. A Number
 * that is not an active processor of group 0 leaves the target unchanged. Any IRQL.
 */
VOID KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number);
/**
 * @brief Sets the target processor by group and number. STATUS_INVALID_PARAMETER (target
 * unchanged) for a processor the machine does not have. Any IRQL.
 */
NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber);
/**
 * @brief Returns once every DPC queued on any processor before the call has run. PASSIVE_LEVEL
 * only: bug check 0xB8 from a DPC routine, 0xA at any other raised IRQL.
 */
VOID KeFlushQueuedDpcs(void);
/**
 * @brief Initialises DeviceObject->Dpc for the device's DpcForIsr routine. Its DeferredContext is
 * the device object, as in the WDK's inline version.
 */
VOID IoInitializeDpcRequest(PDEVICE_OBJECT DeviceObject, PIO_DPC_ROUTINE DpcRoutine);
/**
 * @brief Queues the device's DpcForIsr routine, which receives (DeviceObject, Irp, Context).
 * Called from the ISR; a request while the DPC is still queued is merged with it.
 */
VOID IoRequestDpc(PDEVICE_OBJECT DeviceObject, struct _IRP *Irp, PVOID Context);
/** @} */

/** @name Time */
/** @{ */
/**
 * @brief Busy-waits at the current IRQL for at least MicroSeconds. Interrupts above the current
 * IRQL are taken while it waits (it is a preemption point throughout).
 */
VOID KeStallExecutionProcessor(ULONG MicroSeconds);
/** @brief Time since the machine was created, in 100-nanosecond units. Any IRQL. */
ULONGLONG KeQueryInterruptTime(void);
/**
 * @brief The machine's performance counter, which counts at 10 MHz from the machine's creation;
 * stores the frequency in *PerformanceFrequency if it is not NULL. Any IRQL.
 */
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);
/** @brief The clock interrupt's interval (MachineConfig::clock_tick) in 100-nanosecond units. Any IRQL. */
ULONG KeQueryTimeIncrement(void);
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

IRQSIM_ANONYMOUS_MEMBERS_END

#ifdef __cplusplus
}
#endif

#endif /* IRQSIM_WDK_WDM_H */
