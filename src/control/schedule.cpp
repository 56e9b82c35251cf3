#include "irqsim/schedule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "control/duration_text.hpp"
#include "wdk/kernel_call.hpp"

namespace irqsim {

namespace {

constexpr std::size_t kMaxLine = 120;

std::uint64_t parse_seed(std::string_view text) {
  std::uint64_t seed = 0;
  const char* const end = text.data() + text.size();
  // from_chars takes no sign, space or base prefix for an unsigned type: only plain digits pass.
  if (const auto [stop, error] = std::from_chars(text.data(), end, seed); error != std::errc{} || stop != end) {
    throw std::invalid_argument(fmt::format("irqsim: IRQSIM_SEED must be a decimal number from 0 to {}, not \"{}\"",
                                            std::numeric_limits<std::uint64_t>::max(), text));
  }
  return seed;
}

std::uint64_t parse_pct_steps(std::string_view text) {
  std::uint64_t steps = 0;
  const char* const end = text.data() + text.size();
  if (const auto [stop, error] = std::from_chars(text.data(), end, steps);
      error != std::errc{} || stop != end || steps == 0) {
    throw std::invalid_argument(fmt::format(
        "irqsim: IRQSIM_PCT_STEPS must be a decimal number from 1 to {}, not \"{}\"",
        std::numeric_limits<std::uint64_t>::max(), text));
  }
  return steps;
}

ScheduleStrategy parse_strategy(std::string_view text) {
  for (const ScheduleStrategy strategy : {ScheduleStrategy::Random, ScheduleStrategy::Pct}) {
    if (text == to_string(strategy)) return strategy;
  }
  throw std::invalid_argument(
      fmt::format("irqsim: IRQSIM_STRATEGY must be \"{}\" or \"{}\", not \"{}\"", to_string(ScheduleStrategy::Random),
                  to_string(ScheduleStrategy::Pct), text));
}

void trim_end(std::string& text) { text.erase(text.find_last_not_of(' ') + 1); }

// `words` one space apart after `indent` spaces, the padding a word carries kept only when another
// follows it on its line. A word that would pass kMaxLine starts a new line `continuation` columns
// in, so that a processor holding many locks still fits a terminal.
std::string wrapped(const std::vector<std::string>& words, std::size_t indent, std::size_t continuation) {
  std::string text(indent, ' ');
  std::size_t line_start = 0;
  bool line_empty = true;
  for (const std::string& word : words) {
    const std::size_t shown = word.find_last_not_of(' ') + 1;
    if (!line_empty && text.size() - line_start + 1 + shown > kMaxLine) {
      trim_end(text);
      text += '\n';
      line_start = text.size();
      text.append(continuation, ' ');
    } else if (!line_empty) {
      text += ' ';
    }
    text += word;
    line_empty = false;
  }
  trim_end(text);
  return text;
}

// One line per processor (more if it holds many locks), the columns aligned across processors so
// that the processors read as a table. The held locks come last: theirs is the one column whose
// length has no bound.
std::string processor_lines(const std::vector<HungProcessor>& processors) {
  std::vector<std::array<std::string, 4>> rows;
  std::array<std::size_t, 4> width{};
  for (const HungProcessor& processor : processors) {
    std::array<std::string, 4> row{
        fmt::format("CPU {}", processor.processor),
        fmt::format("IRQL {}", wdk::irql_name(processor.irql)),
        processor.routine_kind.empty() ? std::string()
                                       : fmt::format("{} {:#x}", processor.routine_kind, processor.routine),
        fmt::format("waits for: {}", processor.waiting_for),
    };
    for (std::size_t column = 0; column < row.size(); ++column) {
      width[column] = std::max(width[column], row[column].size());
    }
    rows.push_back(std::move(row));
  }

  std::string text;
  for (std::size_t index = 0; index < processors.size(); ++index) {
    std::vector<std::string> words;
    for (std::size_t column = 0; column < width.size(); ++column) {
      // A column no processor fills (no routine running anywhere) would only widen the gap.
      if (width[column] > 0) words.push_back(fmt::format("{:<{}} ", rows[index][column], width[column]));
    }
    // "holds" stays with the first lock: alone at the end of a line it would say nothing.
    const std::vector<std::uint64_t>& locks = processors[index].held_locks;
    for (std::size_t lock = 0; lock < locks.size(); ++lock) {
      const char* const lead = lock > 0 ? "" : locks.size() == 1 ? "holds spin lock " : "holds spin locks ";
      words.push_back(fmt::format("{}{:#x}{}", lead, locks[lock], lock + 1 < locks.size() ? "," : ""));
    }
    // Continuations start under the IRQL, clear of the processor's number.
    text += '\n' + wrapped(words, 2, 4 + width[0]);
  }
  return text;
}

}  // namespace

const char* to_string(ScheduleStrategy strategy) noexcept {
  switch (strategy) {
    case ScheduleStrategy::Random: return "random";
    case ScheduleStrategy::Pct: return "pct";
  }
  return "unknown";
}

std::string Schedule::to_string() const {
  if (strategy == ScheduleStrategy::Pct) {
    return fmt::format("seed {}, pct depth {} over {} steps", seed, pct_depth, pct_steps);
  }
  return fmt::format("seed {}, {}", seed, irqsim::to_string(strategy));
}

std::optional<Schedule> schedule_from_environment() {
  // The strategy is checked even without a seed: a mistake in the environment should not pass
  // unnoticed just because the other variable is missing.
  const char* const strategy = std::getenv("IRQSIM_STRATEGY");
  const ScheduleStrategy chosen = strategy != nullptr ? parse_strategy(strategy) : ScheduleStrategy::Random;
  const char* const seed = std::getenv("IRQSIM_SEED");
  if (seed == nullptr) return std::nullopt;
  Schedule schedule;
  schedule.seed = parse_seed(seed);
  schedule.strategy = chosen;
  if (const char* const steps = std::getenv("IRQSIM_PCT_STEPS")) schedule.pct_steps = parse_pct_steps(steps);
  return schedule;
}

std::string HangReport::to_string() const {
  std::string text =
      kind == Kind::Deadlock
          ? std::string("irqsim: deadlock: no processor can run and no timer is due")
          : fmt::format("irqsim: livelock: {} decisions without {}", schedule.step_limit, test_waits_for);
  const std::string when = fmt::format("({}; {} decisions, at {})", schedule.to_string(), decisions,
                                       control::duration_text(std::chrono::nanoseconds(time_ns)));
  // A long seed or wait pushes where the run stopped onto a line of its own.
  text += (text.size() + 1 + when.size() <= kMaxLine ? " " : "\n") + when;
  // A livelock's first line already names what the test waits for.
  if (kind == Kind::Deadlock) text += fmt::format("\nthe test waits for: {}", test_waits_for);
  return text + processor_lines(processors);
}

HangError::HangError(HangReport report) : std::runtime_error(report.to_string()), report_(std::move(report)) {}

}  // namespace irqsim
