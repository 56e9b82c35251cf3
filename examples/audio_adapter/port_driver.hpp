// The port driver's part of IRP_MN_START_DEVICE (test-side code standing in for portcls.sys):
// wrap the device's translated and raw resource lists in an IResourceList and start the miniport
// with it.
#pragma once

#include <irqsim/device.hpp>

#include "audio_miniport.hpp"

// Returns PcNewResourceList's status if it fails, otherwise the miniport's. The interrupt sync
// object the miniport makes holds its own reference on the list, so this one is released here.
// PASSIVE_LEVEL.
NTSTATUS start_miniport(AudioMiniport& miniport, const irqsim::Device& device);
