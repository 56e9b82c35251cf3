#include "dpc_race_scenario.hpp"

#include <fmt/format.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <utility>

std::uint64_t ReceiveRun::frames_lost() const {
  return device.frames_arrived - device.frames_dropped - device.frames_released;
}

bool ReceiveRun::every_frame_passed_up_once() const {
  return NT_SUCCESS(start_status) && device.frames_dropped == 0 && device.frames_in_ring == 0 &&
         device.empty_releases == 0 && device.frames_released == device.frames_arrived &&
         driver.FramesAnnounced == device.frames_arrived && driver.FramesPassedUp == device.frames_arrived &&
         driver.BytesPassedUp == device.bytes_arrived && driver.PendingFrames == 0 && driver.EmptyRingReads == 0;
}

std::string ReceiveRun::summary() const {
  if (!NT_SUCCESS(start_status)) {
    return fmt::format("the driver did not start: {:#010x}", static_cast<std::uint32_t>(start_status));
  }
  return fmt::format(
      "{} frames arrived, {} passed up, {} lost ({} left in the receive ring, {} dropped by a full ring); "
      "the ISR announced {} in {} interrupts, {} DPC runs, {} still pending",
      device.frames_arrived, driver.FramesPassedUp, frames_lost(), device.frames_in_ring, device.frames_dropped,
      driver.FramesAnnounced, driver.InterruptsClaimed, driver.DpcRuns, driver.PendingFrames);
}

std::uint32_t frame_length(std::uint32_t frame) {
  // One burst's worth: mostly full-size data, one minimum-size frame (a pure acknowledgement)
  // right behind a full-size one, a mid-size and a small one.
  static constexpr std::array<std::uint32_t, 8> kMix{1518, 1518, 64, 1518, 590, 1518, 128, 1518};
  return kMix[frame % kMix.size()];
}

std::chrono::nanoseconds wire_time(std::uint32_t length) {
  // 8 bytes of preamble and 12 of inter-frame gap around every frame, 8 ns a byte.
  return std::chrono::nanoseconds((length + 20) * 8);
}

namespace {

// The wire: every burst period it starts a burst, whose frames each arrive by a one-shot device
// timer when their last bit is in, the arrival of one starting the timer of the next. Its calls
// run on the machine's device-clock thread, one at a time; the timers own it.
class Wire : public std::enable_shared_from_this<Wire> {
 public:
  Wire(irqsim::Machine& machine, RxDevice receiver, const WireTraffic& traffic)
      : machine_(machine), receiver_(std::move(receiver)), traffic_(traffic) {}

  void start() {
    machine_.every(traffic_.burst_period, [self = shared_from_this()] { self->start_burst(); }, traffic_.bursts);
  }

 private:
  void start_burst() {
    const std::uint32_t first = next_frame_;
    next_frame_ += traffic_.frames_per_burst;
    deliver_from(first, next_frame_);
  }

  // Frames [frame, end): `frame` arrives one wire time from now, and its arrival starts the next.
  void deliver_from(std::uint32_t frame, std::uint32_t end) {
    if (frame == end) return;
    machine_.every(
        wire_time(frame_length(frame)),
        [self = shared_from_this(), frame, end] {
          self->receiver_.receive_frame(frame_length(frame));
          self->deliver_from(frame + 1, end);
        },
        1);
  }

  irqsim::Machine& machine_;
  RxDevice receiver_;
  const WireTraffic traffic_;
  std::uint32_t next_frame_ = 0;
};

}  // namespace

ReceiveRun run_receive_traffic(irqsim::Machine& machine, const RX_CONFIG& config, const WireTraffic& traffic) {
  ReceiveRun run;
  run.config = config;
  RxDevice receiver(machine, kReceiverLine, "rx");
  RX_EXTENSION rx{};
  run.start_status = RxStartDevice(&rx, &config, receiver.device().translated_resources());
  if (!NT_SUCCESS(run.start_status)) return run;

  std::make_shared<Wire>(machine, receiver, traffic)->start();
  try {
    machine.wait_until_quiescent();
  } catch (...) {
    // A machine that did not settle in time still runs: the ISR must not outlive `rx`.
    if (!machine.halted()) RxStopDevice(&rx);
    throw;
  }
  run.device = receiver.counts();
  RxQueryStatistics(&rx, &run.driver);
  RxStopDevice(&rx);
  return run;
}

void receive_and_check(const RX_CONFIG& config, const WireTraffic& traffic, irqsim::Trace* trace) {
  irqsim::Machine machine({.processors = 2,
                           .trace = irqsim::TraceRecording::On,
                           .mode = irqsim::ExecutionMode::Deterministic});
  const ReceiveRun run = run_receive_traffic(machine, config, traffic);
  if (trace != nullptr) *trace = machine.trace();
  if (!run.every_frame_passed_up_once()) throw std::runtime_error(run.summary());
}
