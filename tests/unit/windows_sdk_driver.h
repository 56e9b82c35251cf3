/* The driver code of windows_sdk_driver.c and windows_sdk_miniport.cpp, which include <windows.h>
 * before irqsim's WDK shims, as windows_sdk_test.cpp calls it. Plain C types only: the test's
 * source includes <windows.h> and irqsim's control headers, not the shims. */
#ifndef IRQSIM_TESTS_WINDOWS_SDK_DRIVER_H
#define IRQSIM_TESTS_WINDOWS_SDK_DRIVER_H

struct _CM_RESOURCE_LIST;

#ifdef __cplusplus
extern "C" {
#endif

/* The IRQLs KeGetCurrentIrql reported along windows_sdk_driver_raise_and_lock. */
typedef struct windows_sdk_irqls {
  unsigned char before;  /* on entry */
  unsigned char raised;  /* after KeRaiseIrql to DISPATCH_LEVEL, holding a lock taken at that level */
  unsigned char lowered; /* after KeLowerIrql back */
  unsigned char locked;  /* holding a lock taken with KeAcquireSpinLock */
  unsigned char after;   /* after KeReleaseSpinLock */
} windows_sdk_irqls;

/* Walks through the inline IRQL and spin-lock routines of wdm.h on the calling thread. */
windows_sdk_irqls windows_sdk_driver_raise_and_lock(void);
/* Connects an ISR that counts its calls to a latched vector with IoConnectInterrupt on every
 * processor; returns the NTSTATUS. */
long windows_sdk_driver_connect(unsigned vector, unsigned char irql);
/* Calls of the ISR so far. */
unsigned long windows_sdk_driver_interrupts(void);
/* Disconnects the ISR. */
void windows_sdk_driver_disconnect(void);

/* Makes a port-class resource list of a device's resources (PcNewResourceList), looks it up
 * through IUnknown::QueryInterface and returns its number of interrupts; -1 if a call failed. */
long windows_sdk_miniport_interrupts(struct _CM_RESOURCE_LIST *translated, struct _CM_RESOURCE_LIST *raw);

#ifdef __cplusplus
}
#endif

#endif
