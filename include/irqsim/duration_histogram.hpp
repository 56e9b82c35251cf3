#pragma once
/// @file
/// @brief DurationHistogram: how long something took, in power-of-two buckets.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace irqsim {

/// @brief A distribution of durations (interrupt latencies, ISR and DPC run times) in
/// power-of-two nanosecond buckets, with the exact count, sum, minimum and maximum.
///
/// Adding a sample is a few instructions and no allocation, so the simulator keeps these always.
/// Bucket 0 holds durations below 1 ns (zero or negative ones, from a host clock that does not
/// advance between two reads); bucket i (1 <= i < kBuckets - 1) holds [2^(i-1), 2^i) ns; the last
/// bucket holds everything from 2^(kBuckets-2) ns (about 19.5 hours) on.
class DurationHistogram {
 public:
  /// @brief Number of buckets.
  static constexpr std::size_t kBuckets = 48;

  /// @brief Adds one sample.
  void add(std::chrono::nanoseconds duration) noexcept;
  /// @brief Adds every sample of `other`, as if they had been added here.
  void merge(const DurationHistogram& other) noexcept;

  /// @brief Number of samples.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// @brief Sum of all samples.
  [[nodiscard]] std::chrono::nanoseconds total() const noexcept { return total_; }
  /// @brief Smallest sample; zero when there is none.
  [[nodiscard]] std::chrono::nanoseconds min() const noexcept { return min_; }
  /// @brief Largest sample; zero when there is none.
  [[nodiscard]] std::chrono::nanoseconds max() const noexcept { return max_; }
  /// @brief total() / count(); zero when there is no sample.
  [[nodiscard]] std::chrono::nanoseconds mean() const noexcept;
  /// @brief An upper bound of the `fraction` quantile (0.5 for the median, 0.99 for the 99th
  /// percentile): the (exclusive) upper edge 2^i ns of the bucket i holding it, never more than
  /// max(), so percentile(1.0) == max(). 0 for bucket 0 and when there is no sample.
  /// `fraction` is clamped to [0, 1].
  [[nodiscard]] std::chrono::nanoseconds percentile(double fraction) const noexcept;

  /// @brief Samples in bucket `index` (0 for an index past the last bucket).
  [[nodiscard]] std::uint64_t bucket(std::size_t index) const noexcept;
  /// @brief The bucket a duration falls in.
  [[nodiscard]] static std::size_t bucket_of(std::chrono::nanoseconds duration) noexcept;
  /// @brief The smallest duration of bucket `index` (its lower edge, inclusive):
  /// nanoseconds::min() for bucket 0, which takes every duration below 1 ns, and
  /// nanoseconds::max() for an index past the last bucket.
  [[nodiscard]] static std::chrono::nanoseconds bucket_floor(std::size_t index) noexcept;

  /// @brief One line: count, mean, median, 99th percentile and maximum ("no samples" if none).
  [[nodiscard]] std::string to_string() const;

  /// @brief Same samples in the same buckets, with the same count, sum, minimum and maximum.
  friend bool operator==(const DurationHistogram&, const DurationHistogram&) = default;

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::chrono::nanoseconds total_{0};
  std::chrono::nanoseconds min_{0};
  std::chrono::nanoseconds max_{0};
};

}  // namespace irqsim
