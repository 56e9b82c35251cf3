#include "irqsim/duration_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "control/duration_text.hpp"

namespace irqsim {

using std::chrono::nanoseconds;

void DurationHistogram::add(nanoseconds duration) noexcept {
  ++buckets_[bucket_of(duration)];
  // min_ and max_ start at zero, which must not pass for a sample.
  min_ = count_ == 0 ? duration : std::min(min_, duration);
  max_ = count_ == 0 ? duration : std::max(max_, duration);
  total_ += duration;
  ++count_;
}

void DurationHistogram::merge(const DurationHistogram& other) noexcept {
  if (other.count_ == 0) return;
  for (std::size_t index = 0; index < kBuckets; ++index) buckets_[index] += other.buckets_[index];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  total_ += other.total_;
  count_ += other.count_;
}

nanoseconds DurationHistogram::mean() const noexcept {
  return count_ == 0 ? nanoseconds{0} : total_ / static_cast<std::int64_t>(count_);
}

nanoseconds DurationHistogram::percentile(double fraction) const noexcept {
  if (count_ == 0) return nanoseconds{0};
  // NaN fails `> 0` too, and so asks for the smallest sample, as 0 does.
  const double exact = (fraction > 0 ? std::min(fraction, 1.0) : 0.0) * static_cast<double>(count_);
  // 0.07 is stored a little above 0.07, and 0.07 * 100 comes out above 7: without forgiving a
  // few units of rounding, the 7th of 100 samples would become the 8th.
  const double rank = std::ceil(exact - exact * 4 * std::numeric_limits<double>::epsilon());
  const std::uint64_t wanted =
      rank >= static_cast<double>(count_) ? count_ : std::max(static_cast<std::uint64_t>(rank), std::uint64_t{1});
  std::size_t index = 0;
  for (std::uint64_t seen = buckets_[0]; seen < wanted; seen += buckets_[index]) ++index;
  // Bucket 0 holds whole nanoseconds below 1, so 0 bounds them; the last bucket has no upper
  // edge, and max() bounds it.
  const nanoseconds edge = index == 0 ? nanoseconds{0} : index == kBuckets - 1 ? max_ : bucket_floor(index + 1);
  return std::min(edge, max_);
}

std::uint64_t DurationHistogram::bucket(std::size_t index) const noexcept {
  return index < kBuckets ? buckets_[index] : 0;
}

std::size_t DurationHistogram::bucket_of(nanoseconds duration) noexcept {
  if (duration.count() < 1) return 0;
  const auto width = static_cast<std::size_t>(std::bit_width(static_cast<std::uint64_t>(duration.count())));
  return std::min(width, kBuckets - 1);
}

nanoseconds DurationHistogram::bucket_floor(std::size_t index) noexcept {
  if (index == 0) return nanoseconds::min();
  if (index >= kBuckets) return nanoseconds::max();
  return nanoseconds{std::int64_t{1} << (index - 1)};
}

std::string DurationHistogram::to_string() const {
  if (count_ == 0) return "no samples";
  return fmt::format("{} sample{}, mean {}, p50 <= {}, p99 <= {}, max {}", count_, count_ == 1 ? "" : "s",
                     control::duration_text(mean()), control::duration_text(percentile(0.5)),
                     control::duration_text(percentile(0.99)), control::duration_text(max_));
}

}  // namespace irqsim
