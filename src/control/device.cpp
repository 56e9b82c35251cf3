#include "irqsim/device.hpp"

#include "core/device.hpp"
#include "core/machine.hpp"
#include "wdk/pnp_devices.hpp"
#include "irqsim/machine.hpp"

namespace irqsim {

namespace {

core::TriggerMode engine_mode(Trigger trigger) {
  return trigger == Trigger::Level ? core::TriggerMode::Level : core::TriggerMode::Edge;
}

core::MessageKind engine_kind(MessageKind kind) {
  switch (kind) {
    case MessageKind::Msi: return core::MessageKind::Msi;
    case MessageKind::MsiX: return core::MessageKind::MsiX;
    case MessageKind::None: break;
  }
  return core::MessageKind::None;
}

core::DeviceWiring wiring_of(const DeviceConfig& config) {
  core::DeviceWiring wiring;
  wiring.name = config.name;
  for (const LineInterruptConfig& line : config.lines) {
    wiring.lines.push_back(
        {line.vector, line.irql, engine_mode(line.trigger), line.shareable, line.group, line.affinity});
  }
  wiring.message_kind = engine_kind(config.message_kind);
  for (const MessageConfig& message : config.messages) {
    wiring.messages.push_back({message.vector, message.irql, message.group, message.affinity});
  }
  wiring.register_bytes = config.register_bytes;
  return wiring;
}

}  // namespace

Device Machine::plug(const DeviceConfig& config) { return Device(*engine_, engine_->plug(wiring_of(config))); }

const std::string& Device::name() const { return device_->wiring().name; }
void Device::assert_line(std::size_t line) { device_->assert_line(line); }
void Device::deassert_line(std::size_t line) { device_->deassert_line(line); }
void Device::pulse_line(std::size_t line) { device_->pulse_line(line); }
void Device::signal_message(std::uint32_t message_id) { device_->signal_message(message_id); }
VectorStats Device::message_stats(std::uint32_t message_id) const {
  return machine_->controller().stats(device_->message(message_id).vector);
}
std::uint64_t Device::register_address() const { return device_->register_base(); }
void Device::on_read(std::uint64_t offset, ReadHandler handler) { device_->on_read(offset, std::move(handler)); }
void Device::on_write(std::uint64_t offset, WriteHandler handler) { device_->on_write(offset, std::move(handler)); }

PDEVICE_OBJECT Device::pdo() const { return &machine_->extension<wdk::PnpDevices>().of(*device_).pdo; }

PCM_RESOURCE_LIST Device::raw_resources() const {
  return reinterpret_cast<PCM_RESOURCE_LIST>(machine_->extension<wdk::PnpDevices>().of(*device_).raw.data());
}

PCM_RESOURCE_LIST Device::translated_resources() const {
  return reinterpret_cast<PCM_RESOURCE_LIST>(machine_->extension<wdk::PnpDevices>().of(*device_).translated.data());
}

std::uint64_t Device::stored_register(std::uint64_t offset, unsigned width) const {
  return device_->stored_value(offset, width);
}

void Device::store_register(std::uint64_t offset, std::uint64_t value, unsigned width) {
  device_->store_value(offset, width, value);
}

}  // namespace irqsim
