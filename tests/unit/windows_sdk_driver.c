/*
 * Driver code as a Windows developer writes it for a user-mode test: <windows.h> first, with
 * WIN32_NO_STATUS so that its DWORD STATUS_XXX codes stay out of the way of the NTSTATUS ones,
 * then irqsim's WDK shims. The types both declare are the SDK's own (the ISR counts with the SDK's
 * InterlockedIncrement on a LONG, which a 32-bit int would not be), and wdm.h's inline routines
 * work as anywhere else. windows_sdk_test.cpp drives it.
 */
#define WIN32_NO_STATUS
#include <windows.h>
#undef WIN32_NO_STATUS

#include <wdm.h>
#include <ntddk.h>
#include <iointex.h>

#include "windows_sdk_driver.h"

static volatile LONG Interrupts;
static PKINTERRUPT Interrupt;

static KSERVICE_ROUTINE CountInterrupt;

_Use_decl_annotations_ static BOOLEAN CountInterrupt(PKINTERRUPT InterruptObject, PVOID ServiceContext) {
  UNREFERENCED_PARAMETER(InterruptObject);
  UNREFERENCED_PARAMETER(ServiceContext);
  InterlockedIncrement(&Interrupts);
  return TRUE;
}

windows_sdk_irqls windows_sdk_driver_raise_and_lock(void) {
  windows_sdk_irqls seen;
  KSPIN_LOCK lock;
  KIRQL old;
  KeInitializeSpinLock(&lock);
  seen.before = KeGetCurrentIrql();
  KeRaiseIrql(DISPATCH_LEVEL, &old);
  KeAcquireSpinLockAtDpcLevel(&lock);
  seen.raised = KeGetCurrentIrql();
  KeReleaseSpinLockFromDpcLevel(&lock);
  KeLowerIrql(old);
  seen.lowered = KeGetCurrentIrql();
  KeAcquireSpinLock(&lock, &old);
  seen.locked = KeGetCurrentIrql();
  KeReleaseSpinLock(&lock, old);
  seen.after = KeGetCurrentIrql();
  return seen;
}

long windows_sdk_driver_connect(unsigned vector, unsigned char irql) {
  InterlockedExchange(&Interrupts, 0);
  return IoConnectInterrupt(&Interrupt, CountInterrupt, NULL, NULL, vector, irql, irql, Latched, FALSE,
                            (KAFFINITY)-1, FALSE);
}

unsigned long windows_sdk_driver_interrupts(void) {
  return (unsigned long)InterlockedCompareExchange(&Interrupts, 0, 0);
}

void windows_sdk_driver_disconnect(void) { IoDisconnectInterrupt(Interrupt); }
