// Machine::statistics: the counters the core keeps, gathered into one MachineStats.

#include <chrono>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>

#include "core/machine.hpp"
#include "core/processor.hpp"
#include "irqsim/machine.hpp"

namespace irqsim {

namespace {

// "nic message 2, uart line 0": what the plugged-in devices wired to each vector.
std::map<std::uint32_t, std::string> sources_by_vector(const core::Machine& engine) {
  std::map<std::uint32_t, std::string> sources;
  auto add = [&](std::uint32_t vector, std::string source) {
    std::string& text = sources[vector];
    text += text.empty() ? source : ", " + source;
  };
  for (const core::Device* device : engine.devices()) {
    const core::DeviceWiring& wiring = device->wiring();
    for (std::size_t line = 0; line < wiring.lines.size(); ++line) {
      add(wiring.lines[line].vector, fmt::format("{} line {}", wiring.name, line));
    }
    for (std::size_t message = 0; message < wiring.messages.size(); ++message) {
      add(wiring.messages[message].vector, fmt::format("{} message {}", wiring.name, message));
    }
  }
  return sources;
}

}  // namespace

MachineStats Machine::statistics() const {
  core::Machine& engine = *engine_;
  core::InterruptController& controller = engine.controller();
  MachineStats stats;
  const std::int64_t now = engine.uptime_ns();
  stats.uptime = std::chrono::nanoseconds(now);

  std::set<std::uint32_t> connected;
  for (const core::InterruptObject* object : engine.interrupt_objects().connected()) connected.insert(object->vector);
  const auto sources = sources_by_vector(engine);
  for (std::uint32_t vector = 0; vector < kVectorCount; ++vector) {
    VectorStats counters = controller.stats(vector);
    const bool active = counters.raised != 0 || counters.deliveries != 0 || counters.dropped != 0 ||
                        connected.contains(vector) || controller.line_asserted(vector);
    if (!active) continue;
    const auto source = sources.find(vector);
    stats.vectors.push_back({vector, source != sources.end() ? source->second : "test", std::move(counters)});
  }

  for (unsigned p = 0; p < engine.processor_count(); ++p) {
    ProcessorStats& processor = stats.processors.emplace_back(engine.processor(p).times().read(now));
    processor.interrupts = controller.interrupts_taken(p);
    processor.exact_irql_changes = engine.tracer() != nullptr;
  }
  stats.dpc_routines = engine.dpcs().routine_stats();
  return stats;
}

}  // namespace irqsim
