/* The plain-C driver in c_driver_compiles.c, as the C++ tests in wdk_types_test.cpp call it. */
#ifndef IRQSIM_TESTS_C_DRIVER_H
#define IRQSIM_TESTS_C_DRIVER_H

#include <iointex.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

int c_driver_find_interrupt(const CM_RESOURCE_LIST *Resources);
size_t c_driver_extension_size(void);
NTSTATUS c_driver_prepare_connect(PDEVICE_OBJECT DeviceObject, PDEVICE_OBJECT PhysicalDeviceObject,
                                  const CM_RESOURCE_LIST *TranslatedResources,
                                  PIO_CONNECT_INTERRUPT_PARAMETERS Parameters);
void c_driver_prepare_disconnect(PDEVICE_OBJECT DeviceObject, const IO_CONNECT_INTERRUPT_PARAMETERS *Connected,
                                 PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters);
LONGLONG c_driver_registers(PDEVICE_OBJECT DeviceObject, PULONG Length, PULONG Protect);
ULONG c_driver_interrupt_count(PDEVICE_OBJECT DeviceObject);
ULONG c_driver_last_message(PDEVICE_OBJECT DeviceObject);
void c_driver_initialize_dpc(PDEVICE_OBJECT DeviceObject);
void c_driver_request_dpc(PDEVICE_OBJECT DeviceObject, PVOID Context);
ULONG c_driver_dpc_count(PDEVICE_OBJECT DeviceObject, PVOID *LastContext, KIRQL *Irql);
LONGLONG c_driver_physical_address(ULONG LowPart, LONG HighPart);
ULONG c_driver_message_vector(const IO_INTERRUPT_MESSAGE_INFO *MessageTable, ULONG MessageId);

#ifdef __cplusplus
}
#endif

#endif
