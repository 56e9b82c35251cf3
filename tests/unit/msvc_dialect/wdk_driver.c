/*
 * Driver code that uses every part of irqsim's C headers with a compiler-specific branch: the
 * inline IRQL and spin-lock routines (compiler_c.h's atomics and the thread-local processor
 * state), the anonymous members of LARGE_INTEGER and of the resource descriptors, the noreturn
 * bug-check routines, and, in C++, port class. CTest compiles it as C11 and as C++20 in MSVC's
 * dialect, where MSVC itself is not at hand.
 */
#include <wdm.h>
#include <ntddk.h>
#include <iointex.h>
#ifdef __cplusplus
#include <portcls.h>
#endif

KIRQL RaiseLockAndLower(PKSPIN_LOCK Lock) {
  KIRQL old;
  KIRQL seen;
  KeRaiseIrql(DISPATCH_LEVEL, &old);
  KeAcquireSpinLockAtDpcLevel(Lock);
  seen = KeGetCurrentIrql();
  KeReleaseSpinLockFromDpcLevel(Lock);
  KeLowerIrql(old);
  KeAcquireSpinLock(Lock, &old);
  KeReleaseSpinLock(Lock, old);
  old = KeRaiseIrqlToDpcLevel();
  KeLowerIrql(old);
  return seen;
}

LONGLONG Halves(ULONG Low, LONG High) {
  LARGE_INTEGER value;
  RtlZeroMemory(&value, sizeof(value));
  value.LowPart = Low;
  value.u.HighPart = High;
  return value.QuadPart;
}

ULONG TranslatedVector(const CM_PARTIAL_RESOURCE_DESCRIPTOR *Descriptor) {
  if ((Descriptor->Flags & CM_RESOURCE_INTERRUPT_MESSAGE) != 0) return Descriptor->u.MessageInterrupt.Translated.Vector;
  return Descriptor->u.Interrupt.Vector;
}

NTSTATUS Connect(PIO_CONNECT_INTERRUPT_PARAMETERS Parameters, PDEVICE_OBJECT Pdo) {
  Parameters->Version = CONNECT_LINE_BASED;
  Parameters->LineBased.PhysicalDeviceObject = Pdo;
  return WdmlibIoConnectInterruptEx(Parameters);
}

DECLSPEC_NORETURN VOID Fail(ULONG Code) { KeBugCheck(Code); }

#ifdef __cplusplus
bool IsResourceList(REFIID Id) { return IsEqualIID(Id, IID_IResourceList); }

ULONG Interrupts(PRESOURCELIST List) {
  PVOID same = NULL;
  ULONG count = 0;
  if (NT_SUCCESS(List->QueryInterface(IID_IResourceList, &same))) {
    count = static_cast<PRESOURCELIST>(same)->NumberOfInterrupts();
    static_cast<PRESOURCELIST>(same)->Release();
  }
  return count;
}
#endif
