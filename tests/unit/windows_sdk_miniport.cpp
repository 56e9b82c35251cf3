// Audio miniport code as a Windows developer writes it for a user-mode test: <windows.h> first
// (with COM: no WIN32_LEAN_AND_MEAN), then irqsim's <wdm.h> and <portcls.h>. GUID, IsEqualIID
// and IUnknown are then the SDK's, and port class's interfaces, derived from COM's IUnknown,
// still reach the library's objects. windows_sdk_test.cpp drives it.
#define WIN32_NO_STATUS
#include <windows.h>
#undef WIN32_NO_STATUS

#ifndef __IUnknown_INTERFACE_DEFINED__
#error "<windows.h> was to declare COM's IUnknown, which portcls.h's interfaces then derive from"
#endif

#include <wdm.h>
#include <portcls.h>

#include "windows_sdk_driver.h"

long windows_sdk_miniport_interrupts(CM_RESOURCE_LIST* translated, CM_RESOURCE_LIST* raw) {
  PRESOURCELIST list = nullptr;
  if (!NT_SUCCESS(PcNewResourceList(&list, nullptr, NonPagedPool, translated, raw))) return -1;
  // Through COM's IUnknown, whose three methods take the vtable slots of port class's.
  IUnknown* unknown = list;
  PVOID found = nullptr;
  long interrupts = -1;
  if (NT_SUCCESS(unknown->QueryInterface(IID_IResourceList, &found)) && found == list) {
    interrupts = static_cast<long>(list->NumberOfInterrupts());
    list->Release();
  }
  unknown->Release();
  return interrupts;
}
