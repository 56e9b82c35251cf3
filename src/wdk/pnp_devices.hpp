#pragma once
// The PnP view of a simulated device: the physical device object (PDO) the bus driver would
// have created for it, and the raw and translated resource lists IRP_MN_START_DEVICE would
// carry. Made on first use, kept per machine, found again from the PDO.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "wdm.h"

namespace irqsim::core {
class Device;
class Machine;
}  // namespace irqsim::core

namespace irqsim::wdk {

class PnpDevices {
 public:
  struct View {
    DEVICE_OBJECT pdo{};
    std::vector<std::byte> raw;
    std::vector<std::byte> translated;
    core::Device* device = nullptr;
  };

  explicit PnpDevices(core::Machine& machine);

  View& of(core::Device& device);
  // The device whose PDO `pdo` is, or nullptr when it is no PDO of this machine.
  [[nodiscard]] core::Device* device_of(const DEVICE_OBJECT* pdo) const;

 private:
  mutable std::mutex mutex_;
  std::map<const core::Device*, std::unique_ptr<View>> views_;
};

}  // namespace irqsim::wdk
