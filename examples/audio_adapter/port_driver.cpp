#include "port_driver.hpp"

NTSTATUS start_miniport(AudioMiniport& miniport, const irqsim::Device& device) {
  PRESOURCELIST resources = nullptr;
  NTSTATUS status =
      PcNewResourceList(&resources, nullptr, NonPagedPool, device.translated_resources(), device.raw_resources());
  if (!NT_SUCCESS(status)) return status;
  status = miniport.Start(resources);
  resources->Release();
  return status;
}
