// A packet receiver whose DPC races with its ISR (rx_driver.c, the planted bug), and the traffic
// that exposes it: bursts of frames at gigabit spacing, in which a minimum-size frame arrives
// 672 ns behind a full-size one, while the DPC of that one is still passing it up. The same
// scenario runs the racy driver and the fixed one, free-running or under a deterministic schedule.
//
// How a frame is lost, on a deterministic machine (every WDK call a scheduling point, 100 ns of
// virtual time each):
//   1. Frame A arrives; processor 0 takes the interrupt. Its ISR acknowledges, reads
//      RX_ARRIVED = 1 (which clears it), makes PendingFrames 1 and queues the DPC.
//   2. The DPC runs on processor 0 and reads PendingFrames = 1.
//   3. Frame B arrives 672 ns after A. The scheduler picks where its interrupt lands:
//      a. on processor 0: at the DPC's next register access (READ_REGISTER_ULONG of
//         RX_HEAD_LENGTH) the ISR preempts it, reads RX_ARRIVED = 1 and makes PendingFrames 2;
//      b. on processor 1: its ISR runs while processor 0's DPC does, and the scheduler's choices
//         at each WDK call decide whether it makes PendingFrames 2 before the DPC's write-back.
//   4. The DPC passes up A and writes back 1 - 1 = 0, erasing B's count. RX_ARRIVED no longer
//      holds it either: B stays in the ring, and no DPC ever passes it up.
// About 60 % of schedules lose a frame this way (3a more often than 3b). With frames 1 us or
// more apart, no schedule does: one processor alone is runnable then, and the scheduler cannot
// stretch the DPC in virtual time until the next frame comes, so the traffic must bring frames
// this close for the schedules to matter.
#pragma once

#include <irqsim/machine.hpp>
#include <irqsim/trace.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "rx_device.hpp"
#include "rx_driver.h"

// The receiver's line: vector 0x52 at IRQL 6, level-triggered, not shared.
inline const irqsim::LineInterruptConfig kReceiverLine{.vector = 0x52, .irql = 6, .shareable = false};

// The driver with the planted race, and the driver with the fix.
inline constexpr RX_CONFIG kRacyDriver{.UseSynchronizeExecution = FALSE};
inline constexpr RX_CONFIG kFixedDriver{.UseSynchronizeExecution = TRUE};

// What the wire brings: `bursts` bursts, one every `burst_period` of the machine's clock, each of
// `frames_per_burst` frames back to back on a gigabit link. A frame arrives once its last bit
// is in: a full-size frame 12.3 us after the one before it, a minimum-size one (a TCP
// acknowledgement) 672 ns after. The lengths follow a fixed mix (frame_length), so on a
// deterministic machine the frames arrive at the same virtual times in every run and only the
// schedule differs.
struct WireTraffic {
  unsigned bursts = 2;
  unsigned frames_per_burst = 8;
  std::chrono::nanoseconds burst_period = std::chrono::milliseconds(1);

  [[nodiscard]] unsigned frames() const { return bursts * frames_per_burst; }
};

// The length in bytes of the wire's `frame`th frame (from 0): full-size data frames mixed with
// minimum-size acknowledgements and a few mid-size frames, as a TCP receive burst looks.
std::uint32_t frame_length(std::uint32_t frame);

// How long `length` bytes take on a gigabit link, with the preamble and the inter-frame gap.
std::chrono::nanoseconds wire_time(std::uint32_t length);

// What one run of the traffic left behind, from the hardware's side and from the driver's.
struct ReceiveRun {
  RX_CONFIG config{};
  NTSTATUS start_status = STATUS_UNSUCCESSFUL;
  RxDeviceCounts device;
  RX_STATISTICS driver{};

  // Frames that arrived and found room in the ring but were never passed up.
  [[nodiscard]] std::uint64_t frames_lost() const;
  // Every frame the wire delivered went into the ring and was passed up exactly once, and the
  // driver's counts agree with the device's.
  [[nodiscard]] bool every_frame_passed_up_once() const;
  // "100 frames arrived, 99 passed up, 1 lost (...)": one line.
  [[nodiscard]] std::string summary() const;
};

// Plugs a receiver into `machine`, starts the driver with `config` as IRP_MN_START_DEVICE would,
// lets the wire deliver `traffic`, waits until the machine is quiescent, and stops the driver.
ReceiveRun run_receive_traffic(irqsim::Machine& machine, const RX_CONFIG& config, const WireTraffic& traffic);

// One run of the race hunt, the body irqsim::explore runs: a fresh two-processor machine that
// records a trace and is deterministic (under the exploration's schedule, or IRQSIM_SEED's),
// the traffic, and a std::runtime_error saying what was lost if a frame was. `trace`, if not
// null, receives the machine's trace before anything is thrown.
void receive_and_check(const RX_CONFIG& config, const WireTraffic& traffic, irqsim::Trace* trace = nullptr);
