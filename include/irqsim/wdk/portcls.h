/**
 * @file
 * @brief The port-class (PortCls) subset an audio miniport uses for its interrupt: the
 * kernel-mode IUnknown, IResourceList, IInterruptSync and their factories, as declared by the
 * WDK's portcls.h (method order and signatures included).
 *
 * Port class sits on the WDK layer exactly as the real portcls.sys does: an interrupt sync
 * object connects with IoConnectInterrupt and synchronizes through the interrupt's spin lock
 * and IRQL. Unlike the WDK header this one is C++ only, as audio miniports are.
 *
 * After `<windows.h>` (see wdm.h), GUID, IID, REFIID, IsEqualGUID and IsEqualIID are the SDK's
 * (guiddef.h), and unless WIN32_LEAN_AND_MEAN kept COM out, so is IUnknown (unknwn.h): COM's
 * IUnknown has the same three methods in the same order, with the same types on x64 (HRESULT
 * and NTSTATUS are both LONG), so the interfaces below derive from it and call the library's
 * objects unchanged.
 */
#ifndef IRQSIM_WDK_PORTCLS_H
#define IRQSIM_WDK_PORTCLS_H

#ifndef __cplusplus
#error "portcls.h declares C++ interfaces; include it from C++."
#endif

#include "wdm.h"

/** @name Interface identifiers */
/** @{ */
#ifndef GUID_DEFINED
/** @brief A 128-bit globally unique identifier. */
typedef struct _GUID {
  ULONG Data1;    /**< First 32 bits. */
  USHORT Data2;   /**< Next 16 bits. */
  USHORT Data3;   /**< Next 16 bits. */
  UCHAR Data4[8]; /**< Last 64 bits. */
} GUID;
#endif
#ifndef __IID_DEFINED__
/** @brief An interface identifier. */
typedef GUID IID;
#endif
#ifndef _REFIID_DEFINED
/** @brief Reference to an interface identifier, as QueryInterface takes it. */
typedef const IID &REFIID;
#endif

#ifndef _SYS_GUID_OPERATORS_
/** @brief Whether two GUIDs are equal. */
inline bool IsEqualGUID(const GUID &a, const GUID &b) noexcept {
  if (a.Data1 != b.Data1 || a.Data2 != b.Data2 || a.Data3 != b.Data3) return false;
  for (int i = 0; i < 8; ++i) {
    if (a.Data4[i] != b.Data4[i]) return false;
  }
  return true;
}
/** @brief Whether two interface identifiers are equal. */
inline bool IsEqualIID(REFIID a, REFIID b) noexcept { return IsEqualGUID(a, b); }
#endif

extern "C" {
/** @brief {00000000-0000-0000-C000-000000000046}: IUnknown. */
extern const IID IID_IUnknown;
/** @brief {22C6AC60-851B-11D0-9A7F-00AA0038ACFE}: IResourceList. */
extern const IID IID_IResourceList;
/** @brief {22C6AC63-851B-11D0-9A7F-00AA0038ACFE}: IInterruptSync. */
extern const IID IID_IInterruptSync;
}
/** @} */

/** @name Interfaces */
/** @{ */
#ifndef __IUnknown_INTERFACE_DEFINED__
/**
 * @brief The kernel-mode IUnknown of port class: reference counting and interface lookup.
 * QueryInterface returns an NTSTATUS, not an HRESULT.
 */
struct IUnknown {
  /**
   * @brief Stores the object's interface `InterfaceId` in *Object with a reference added.
   * @retval STATUS_SUCCESS the object has the interface.
   * @retval STATUS_INVALID_PARAMETER it has not (or Object is NULL); *Object is set to NULL.
   */
  virtual NTSTATUS QueryInterface(REFIID InterfaceId, PVOID *Object) = 0;
  /** @brief Adds a reference; returns the new count. */
  virtual ULONG AddRef() = 0;
  /** @brief Drops a reference; the object is destroyed when it reaches 0. Returns the new count. */
  virtual ULONG Release() = 0;
};
#endif
/** @brief Pointer to IUnknown. */
typedef IUnknown *PUNKNOWN;

/**
 * @brief A device's hardware resources as port class hands them to a miniport: the translated
 * and the untranslated (raw) descriptors, entry i of one matching entry i of the other.
 *
 * Entries are found by type and by index among the entries of that type. Descriptors returned
 * stay valid until the object is destroyed. All methods are for PASSIVE_LEVEL.
 */
struct IResourceList : IUnknown {
  /** @brief Number of entries. */
  virtual ULONG NumberOfEntries() = 0;
  /** @brief Number of entries of one type (CmResourceTypeXxx). */
  virtual ULONG NumberOfEntriesOfType(CM_RESOURCE_TYPE Type) = 0;
  /** @brief The Index-th (from 0) translated entry of that type, or NULL. */
  virtual PCM_PARTIAL_RESOURCE_DESCRIPTOR FindTranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index) = 0;
  /** @brief The Index-th (from 0) untranslated entry of that type, or NULL. */
  virtual PCM_PARTIAL_RESOURCE_DESCRIPTOR FindUntranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index) = 0;
  /**
   * @brief Appends a copy of the two descriptors.
   * @retval STATUS_INSUFFICIENT_RESOURCES the list is full (a list made by PcNewResourceList
   *         is always full; a sublist holds MaximumEntries).
   * @retval STATUS_INVALID_PARAMETER a NULL descriptor, or two of different types.
   */
  virtual NTSTATUS AddEntry(PCM_PARTIAL_RESOURCE_DESCRIPTOR Translated, PCM_PARTIAL_RESOURCE_DESCRIPTOR Untranslated) = 0;
  /**
   * @brief Appends a copy of Parent's Index-th entry of type Type.
   * @retval STATUS_INVALID_PARAMETER Parent has no such entry (or is NULL).
   * @retval STATUS_INSUFFICIENT_RESOURCES the list is full.
   */
  virtual NTSTATUS AddEntryFromParent(IResourceList *Parent, CM_RESOURCE_TYPE Type, ULONG Index) = 0;
  /** @brief The whole translated list: one full descriptor holding every entry. */
  virtual PCM_RESOURCE_LIST TranslatedList() = 0;
  /** @brief The whole untranslated list, likewise. */
  virtual PCM_RESOURCE_LIST UntranslatedList() = 0;
};
/** @brief Pointer to IResourceList. */
typedef IResourceList *PRESOURCELIST;

/**
 * @brief How an interrupt sync object calls its service routines when the interrupt comes. It
 * has an `int` base (the WDK's has none, which limits its values to 0..3) so that any value a
 * miniport passes, valid or not, is well-defined and can be rejected.
 */
typedef enum : int {
  /** @brief In list order until one returns STATUS_SUCCESS. */
  InterruptSyncModeNormal = 1,
  /** @brief Every routine once, whatever they return. */
  InterruptSyncModeAll,
  /** @brief Whole passes over the list until a pass in which none returns STATUS_SUCCESS. */
  InterruptSyncModeRepeat
} INTERRUPTSYNCMODE;

struct IInterruptSync;
/**
 * @brief A service routine registered with an interrupt sync object, or a routine run by
 * CallSynchronizedRoutine. A service routine returns STATUS_SUCCESS when its device needed
 * service.
 */
typedef NTSTATUS (*PINTERRUPTSYNCROUTINE)(IInterruptSync *InterruptSync, PVOID DynamicContext);

/**
 * @brief An interrupt sync object: a list of service routines connected as one ISR to one
 * interrupt of a resource list, and a critical section shared with them.
 */
struct IInterruptSync : IUnknown {
  /**
   * @brief Runs Routine in the interrupt's critical section (its IRQL and spin lock), connected
   * or not, and returns what Routine returned. Callable at IRQL <= the interrupt's level (bug
   * check 0x9 above it) and from several threads at once; routines never overlap each other or
   * the service routines.
   * @retval STATUS_INVALID_PARAMETER Routine is NULL.
   */
  virtual NTSTATUS CallSynchronizedRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext) = 0;
  /** @brief The interrupt object while connected, NULL otherwise. Any IRQL. */
  virtual PKINTERRUPT GetKInterrupt() = 0;
  /**
   * @brief Connects the service routines to the interrupt (IoConnectInterrupt). PASSIVE_LEVEL.
   * @retval STATUS_SUCCESS connected; a routine may run before this returns.
   * @retval STATUS_UNSUCCESSFUL no service routine is registered.
   * @retval STATUS_INVALID_DEVICE_STATE already connected.
   * @retval other what IoConnectInterrupt returned.
   */
  virtual NTSTATUS Connect() = 0;
  /** @brief Disconnects (IoDisconnectInterrupt); nothing if not connected. PASSIVE_LEVEL. */
  virtual void Disconnect() = 0;
  /**
   * @brief Adds a service routine at the head of the list (First) or at its tail. PASSIVE_LEVEL.
   * Allowed while connected: the list changes inside the critical section.
   * @retval STATUS_INVALID_PARAMETER Routine is NULL.
   */
  virtual NTSTATUS RegisterServiceRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext, BOOLEAN First) = 0;
};
/** @brief Pointer to IInterruptSync. */
typedef IInterruptSync *PINTERRUPTSYNC;
/** @} */

/** @name IResourceList helpers (use as `list->NumberOfInterrupts()`) */
/** @{ */
/** @brief Number of I/O port entries. */
#define NumberOfPorts() NumberOfEntriesOfType(CmResourceTypePort)
/** @brief The n-th translated I/O port entry. */
#define FindTranslatedPort(n) FindTranslatedEntry(CmResourceTypePort, (n))
/** @brief The n-th untranslated I/O port entry. */
#define FindUntranslatedPort(n) FindUntranslatedEntry(CmResourceTypePort, (n))
/** @brief Appends the parent's n-th I/O port entry. */
#define AddPortFromParent(p, n) AddEntryFromParent((p), CmResourceTypePort, (n))
/** @brief Number of interrupt entries. */
#define NumberOfInterrupts() NumberOfEntriesOfType(CmResourceTypeInterrupt)
/** @brief The n-th translated interrupt entry. */
#define FindTranslatedInterrupt(n) FindTranslatedEntry(CmResourceTypeInterrupt, (n))
/** @brief The n-th untranslated interrupt entry. */
#define FindUntranslatedInterrupt(n) FindUntranslatedEntry(CmResourceTypeInterrupt, (n))
/** @brief Appends the parent's n-th interrupt entry. */
#define AddInterruptFromParent(p, n) AddEntryFromParent((p), CmResourceTypeInterrupt, (n))
/** @brief Number of memory entries. */
#define NumberOfMemories() NumberOfEntriesOfType(CmResourceTypeMemory)
/** @brief The n-th translated memory entry. */
#define FindTranslatedMemory(n) FindTranslatedEntry(CmResourceTypeMemory, (n))
/** @brief The n-th untranslated memory entry. */
#define FindUntranslatedMemory(n) FindUntranslatedEntry(CmResourceTypeMemory, (n))
/** @brief Appends the parent's n-th memory entry. */
#define AddMemoryFromParent(p, n) AddEntryFromParent((p), CmResourceTypeMemory, (n))
/** @brief Number of DMA entries. */
#define NumberOfDmas() NumberOfEntriesOfType(CmResourceTypeDma)
/** @brief The n-th translated DMA entry. */
#define FindTranslatedDma(n) FindTranslatedEntry(CmResourceTypeDma, (n))
/** @brief The n-th untranslated DMA entry. */
#define FindUntranslatedDma(n) FindUntranslatedEntry(CmResourceTypeDma, (n))
/** @brief Appends the parent's n-th DMA entry. */
#define AddDmaFromParent(p, n) AddEntryFromParent((p), CmResourceTypeDma, (n))
/** @brief Number of device-specific entries. */
#define NumberOfDeviceSpecifics() NumberOfEntriesOfType(CmResourceTypeDeviceSpecific)
/** @brief The n-th translated device-specific entry. */
#define FindTranslatedDeviceSpecific(n) FindTranslatedEntry(CmResourceTypeDeviceSpecific, (n))
/** @brief The n-th untranslated device-specific entry. */
#define FindUntranslatedDeviceSpecific(n) FindUntranslatedEntry(CmResourceTypeDeviceSpecific, (n))
/** @brief Appends the parent's n-th device-specific entry. */
#define AddDeviceSpecificFromParent(p, n) AddEntryFromParent((p), CmResourceTypeDeviceSpecific, (n))
/** @brief Number of bus-number entries. */
#define NumberOfBusNumbers() NumberOfEntriesOfType(CmResourceTypeBusNumber)
/** @brief The n-th translated bus-number entry. */
#define FindTranslatedBusNumber(n) FindTranslatedEntry(CmResourceTypeBusNumber, (n))
/** @brief The n-th untranslated bus-number entry. */
#define FindUntranslatedBusNumber(n) FindUntranslatedEntry(CmResourceTypeBusNumber, (n))
/** @brief Appends the parent's n-th bus-number entry. */
#define AddBusNumberFromParent(p, n) AddEntryFromParent((p), CmResourceTypeBusNumber, (n))
/** @brief Number of device-private entries. */
#define NumberOfDevicePrivates() NumberOfEntriesOfType(CmResourceTypeDevicePrivate)
/** @brief The n-th translated device-private entry. */
#define FindTranslatedDevicePrivate(n) FindTranslatedEntry(CmResourceTypeDevicePrivate, (n))
/** @brief The n-th untranslated device-private entry. */
#define FindUntranslatedDevicePrivate(n) FindUntranslatedEntry(CmResourceTypeDevicePrivate, (n))
/** @brief Appends the parent's n-th device-private entry. */
#define AddDevicePrivateFromParent(p, n) AddEntryFromParent((p), CmResourceTypeDevicePrivate, (n))
/** @} */

/** @name Factories (PASSIVE_LEVEL) */
/** @{ */
extern "C" {
/**
 * @brief Makes a resource list holding copies of the translated and untranslated lists (every
 * partial descriptor of every full descriptor, in order, each side under its first full
 * descriptor's bus), with one reference for the caller. Device-specific data is not copied: a
 * copied CmResourceTypeDeviceSpecific descriptor has DataSize 0. OuterUnknown is not supported
 * (COM aggregation) and must be NULL; PoolType is ignored.
 * @retval STATUS_INVALID_PARAMETER a NULL OutResourceList or list, lists of different entry
 *         counts or types, or a non-NULL OuterUnknown.
 * @retval STATUS_INSUFFICIENT_RESOURCES more than 1024 entries.
 */
NTSTATUS PcNewResourceList(PRESOURCELIST *OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                           PCM_RESOURCE_LIST TranslatedResources, PCM_RESOURCE_LIST UntranslatedResources);
/**
 * @brief Makes an empty resource list of at most MaximumEntries entries, filled with
 * AddEntryFromParent from ParentList.
 * @retval STATUS_INVALID_PARAMETER a NULL OutResourceList or ParentList, MaximumEntries of 0, or
 *         a non-NULL OuterUnknown.
 */
NTSTATUS PcNewResourceSublist(PRESOURCELIST *OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                              PRESOURCELIST ParentList, ULONG MaximumEntries);
/**
 * @brief Makes an interrupt sync object for the ResourceIndex-th interrupt entry of
 * ResourceList (counting interrupt entries only), with one reference for the caller. The
 * object holds a reference to ResourceList until it is destroyed. It is not connected: register
 * service routines, then Connect.
 * @retval STATUS_INVALID_PARAMETER a NULL OutInterruptSync or ResourceList, ResourceIndex not
 *         below ResourceList->NumberOfInterrupts(), a Mode outside INTERRUPTSYNCMODE, or a
 *         non-NULL OuterUnknown.
 */
NTSTATUS PcNewInterruptSync(PINTERRUPTSYNC *OutInterruptSync, PUNKNOWN OuterUnknown, PRESOURCELIST ResourceList,
                            ULONG ResourceIndex, INTERRUPTSYNCMODE Mode);
}
/** @} */

#endif /* IRQSIM_WDK_PORTCLS_H */
