#include "figures.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

namespace {

enum class Reading { Time, Rate, PerEvent };
enum class Compare { AtMost, AtLeast };

// irqsim / baseline, both read the same way: Time is the time per iteration, Rate the rate
// counter `counter`, PerEvent the time per event of that counter (for loops whose iterations
// are not the events that matter). For Time and PerEvent the ratio is a slowdown (lower is
// better); for Rate it is a share of the baseline's throughput (higher is better). A figure
// without a target is context for the others: it is printed, never counted as missed.
struct RatioFigure {
  std::string_view label;
  std::string_view irqsim;
  std::string_view baseline;
  Reading reading;
  Compare compare;
  std::optional<double> target;
  std::string_view counter = "items_per_second";
};

// A counter of one benchmark against an absolute limit.
struct LimitFigure {
  std::string_view label;
  std::string_view benchmark;
  std::string_view counter;
  std::string_view unit;
  double limit;
};

constexpr std::array kRatioFigures{
    RatioFigure{"raise -> ISR -> ack seen, target polling", "BM_Irqsim_RaiseToIsr_Polling", "BM_Raw_AtomicPingPong",
                Reading::Time, Compare::AtMost, 1.5},
    RatioFigure{"  the same while recording a trace", "BM_Irqsim_RaiseToIsr_Recording", "BM_Raw_AtomicPingPong",
                Reading::Time, Compare::AtMost, std::nullopt},
    RatioFigure{"  floor: raised and taken on the same processor", "BM_Irqsim_SelfInterrupt", "BM_Raw_AtomicPingPong",
                Reading::Time, Compare::AtMost, std::nullopt},
    RatioFigure{"raise -> ISR -> ack seen, target parked", "BM_Irqsim_RaiseToIsr_Parked", "BM_Raw_WaitNotifyPingPong",
                Reading::Time, Compare::AtMost, 1.3},
    RatioFigure{"KeSynchronizeExecution, empty routine", "BM_Irqsim_KeSynchronizeExecution", "BM_Raw_SpinLockedCall",
                Reading::Time, Compare::AtMost, 2.0},
    RatioFigure{"KeAcquireSpinLock + KeReleaseSpinLock", "BM_Irqsim_KeAcquireReleaseSpinLock", "BM_Raw_SpinLockPair",
                Reading::Time, Compare::AtMost, 1.5},
    RatioFigure{"KeRaiseIrql + KeLowerIrql, nothing pending", "BM_Irqsim_KeRaiseLowerIrql", "BM_Raw_SpinLockPair",
                Reading::Time, Compare::AtMost, 1.0},
    RatioFigure{"message interrupts per second, 1 processor", "BM_Irqsim_MessageInterrupts", "BM_Raw_SpscHandoff",
                Reading::Rate, Compare::AtLeast, 0.5},
    RatioFigure{"Machine of 4 processors: create + destroy", "BM_Irqsim_MachineCreateDestroy/4",
                "BM_Raw_StartJoinThreads/4", Reading::Time, Compare::AtMost, 1.5},
    RatioFigure{"100,000 interrupts/s spread: 64 processors vs 2", "BM_Irqsim_SpreadInterrupts/64",
                "BM_Irqsim_SpreadInterrupts/2", Reading::Rate, Compare::AtLeast, 0.5},
    // The deterministic mode has no targets: what it costs against running free.
    RatioFigure{"deterministic: a decision that keeps the processor", "BM_Irqsim_DeterministicDecision",
                "BM_Irqsim_KeQueryInterruptTime", Reading::Time, Compare::AtMost, std::nullopt},
    RatioFigure{"deterministic: a decision that passes the turn", "BM_Irqsim_DeterministicSwitch",
                "BM_Raw_TurnHandoff", Reading::PerEvent, Compare::AtMost, std::nullopt, "switches_per_second"},
    RatioFigure{"deterministic test: 1,000 pulses, vs free-running", "BM_Irqsim_PulseTest_Deterministic",
                "BM_Irqsim_PulseTest_FreeRunning", Reading::Time, Compare::AtMost, std::nullopt},
    RatioFigure{"deterministic test: timer 20 us x 1,000, vs free", "BM_Irqsim_TimerTest_Deterministic/20",
                "BM_Irqsim_TimerTest_FreeRunning/20", Reading::Time, Compare::AtMost, std::nullopt},
    RatioFigure{"  at 1 ms (a simulated second), vs free at 20 us", "BM_Irqsim_TimerTest_Deterministic/1000",
                "BM_Irqsim_TimerTest_FreeRunning/20", Reading::Time, Compare::AtMost, std::nullopt},
};

constexpr std::array kLimitFigures{
    LimitFigure{"idle Machine of 64 processors, CPU per second", "BM_Irqsim_IdleMachineCpu/64", "cpu_ms_per_s", "ms",
                10.0},
    LimitFigure{"64 processors, 100,000 interrupts: RSS growth", "BM_Irqsim_SpreadInterrupts/64", "rss_growth_MiB",
                "MiB", 16.0},
};

const Measurement* find(const Measurements& measured, std::string_view name) {
  const auto found = measured.find(std::string(name));
  return found == measured.end() ? nullptr : &found->second;
}

std::string time_text(double ns) {
  if (ns >= 1e6) return fmt::format("{:.2f} ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.2f} us", ns / 1e3);
  return fmt::format("{:.1f} ns", ns);
}

std::string rate_text(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.2f} M/s", per_second / 1e6);
  return fmt::format("{:.1f} k/s", per_second / 1e3);
}

std::optional<double> value(const Measurement& measurement, Reading reading, std::string_view counter) {
  if (reading == Reading::Time) return measurement.real_time_ns;
  const auto rate = measurement.counters.find(std::string(counter));
  if (rate == measurement.counters.end()) return std::nullopt;
  if (reading == Reading::Rate) return rate->second;
  if (rate->second == 0) return std::nullopt;
  return 1e9 / rate->second;
}

std::string text(double value, Reading reading) {
  return reading == Reading::Rate ? rate_text(value) : time_text(value);
}

bool meets(double value, Compare compare, double target) {
  return compare == Compare::AtMost ? value <= target : value >= target;
}

std::string_view sign(Compare compare) { return compare == Compare::AtMost ? "<=" : ">="; }

}  // namespace

int print_figures(const Measurements& measured) {
  int missed = 0;
  fmt::print("\n{:<50} {:>12} {:>12} {:>8} {:>8}  {}\n", "figure (medians)", "irqsim", "baseline", "ratio", "target",
             "met");
  for (const RatioFigure& figure : kRatioFigures) {
    const Measurement* irqsim = find(measured, figure.irqsim);
    const Measurement* baseline = find(measured, figure.baseline);
    if (irqsim == nullptr || baseline == nullptr) continue;
    const auto ours = value(*irqsim, figure.reading, figure.counter);
    const auto raw = value(*baseline, figure.reading, figure.counter);
    if (!ours || !raw || *raw == 0) continue;
    const double ratio = *ours / *raw;
    std::string target = "-";
    std::string_view verdict = "-";
    if (figure.target) {
      const bool met = meets(ratio, figure.compare, *figure.target);
      missed += met ? 0 : 1;
      target = fmt::format("{}{:.1f}", sign(figure.compare), *figure.target);
      verdict = met ? "yes" : "NO";
    }
    fmt::print("{:<50} {:>12} {:>12} {:>8.2f} {:>8}  {}\n", figure.label, text(*ours, figure.reading),
               text(*raw, figure.reading), ratio, target, verdict);
  }
  for (const LimitFigure& figure : kLimitFigures) {
    const Measurement* measurement = find(measured, figure.benchmark);
    if (measurement == nullptr) continue;
    const auto counter = measurement->counters.find(std::string(figure.counter));
    if (counter == measurement->counters.end()) continue;
    const bool met = counter->second <= figure.limit;
    missed += met ? 0 : 1;
    fmt::print("{:<50} {:>12} {:>12} {:>8} {:>5}{:<3} {}\n", figure.label,
               fmt::format("{:.2f} {}", counter->second, figure.unit), "-", "-", "<=",
               fmt::format("{:g}", figure.limit), met ? " yes" : " NO");
  }
  return missed;
}

}  // namespace bench
