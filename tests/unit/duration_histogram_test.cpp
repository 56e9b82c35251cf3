// DurationHistogram (include/irqsim/duration_histogram.hpp): its power-of-two buckets, the exact
// count, sum, minimum and maximum beside them, percentiles as bucket edges, merging, and the
// one-line text with its human-readable durations.

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include <irqsim/duration_histogram.hpp>

namespace {

using irqsim::DurationHistogram;
using std::chrono::hours;
using std::chrono::nanoseconds;

constexpr std::size_t kLast = DurationHistogram::kBuckets - 1;

DurationHistogram Of(std::initializer_list<std::int64_t> samples) {
  DurationHistogram histogram;
  for (std::int64_t sample : samples) histogram.add(nanoseconds{sample});
  return histogram;
}

// `count` samples of `duration` each.
void AddMany(DurationHistogram& histogram, int count, nanoseconds duration) {
  for (int i = 0; i < count; ++i) histogram.add(duration);
}

std::string TextOfOneSample(nanoseconds duration) {
  DurationHistogram histogram;
  histogram.add(duration);
  return histogram.to_string();
}

TEST(DurationHistogram, PutsZeroAndNegativeDurationsInBucketZero) {
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{0}), 0u);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{-1}), 0u);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds::min()), 0u);
}

TEST(DurationHistogram, PutsAPowerOfTwoAtTheStartOfItsBucket) {
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{1}), 1u);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{2}), 2u);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{4}), 3u);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{1024}), 11u);
}

TEST(DurationHistogram, PutsTheNanosecondBelowAPowerOfTwoAtTheEndOfTheBucketBefore) {
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{3}), 2u);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{1023}), 10u);
}

TEST(DurationHistogram, PutsEverythingFromTwoToTheFortySixthNanosecondsInTheLastBucket) {
  constexpr std::int64_t kLastFloor = std::int64_t{1} << (DurationHistogram::kBuckets - 2);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{kLastFloor - 1}), kLast - 1);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds{kLastFloor}), kLast);
  EXPECT_EQ(DurationHistogram::bucket_of(hours{1000}), kLast);
  EXPECT_EQ(DurationHistogram::bucket_of(nanoseconds::max()), kLast);
}

TEST(DurationHistogram, BucketFloorIsTheSmallestDurationOfEachBucket) {
  EXPECT_EQ(DurationHistogram::bucket_floor(0), nanoseconds::min());
  EXPECT_EQ(DurationHistogram::bucket_floor(1), nanoseconds{1});
  EXPECT_EQ(DurationHistogram::bucket_floor(11), nanoseconds{1024});
  for (std::size_t index = 1; index < DurationHistogram::kBuckets; ++index) {
    const nanoseconds floor = DurationHistogram::bucket_floor(index);
    EXPECT_EQ(DurationHistogram::bucket_of(floor), index) << "bucket " << index;
    EXPECT_EQ(DurationHistogram::bucket_of(floor - nanoseconds{1}), index - 1) << "bucket " << index;
  }
  EXPECT_EQ(DurationHistogram::bucket_floor(DurationHistogram::kBuckets), nanoseconds::max());
}

TEST(DurationHistogram, CountsEachSampleInItsBucket) {
  const DurationHistogram histogram = Of({0, -7, 1, 3, 2, 1024, 1 << 20});
  EXPECT_EQ(histogram.bucket(0), 2u);
  EXPECT_EQ(histogram.bucket(1), 1u);
  EXPECT_EQ(histogram.bucket(2), 2u);
  EXPECT_EQ(histogram.bucket(3), 0u);
  EXPECT_EQ(histogram.bucket(11), 1u);
  EXPECT_EQ(histogram.bucket(21), 1u);
  EXPECT_EQ(histogram.bucket(DurationHistogram::kBuckets), 0u);
}

TEST(DurationHistogram, IsAllZeroBeforeTheFirstSample) {
  const DurationHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.total(), nanoseconds{0});
  EXPECT_EQ(histogram.min(), nanoseconds{0});
  EXPECT_EQ(histogram.max(), nanoseconds{0});
  EXPECT_EQ(histogram.mean(), nanoseconds{0});
  EXPECT_EQ(histogram.percentile(0.5), nanoseconds{0});
  EXPECT_EQ(histogram.percentile(1.0), nanoseconds{0});
  EXPECT_EQ(histogram.to_string(), "no samples");
}

TEST(DurationHistogram, KeepsTheExactCountSumMinimumMaximumAndMean) {
  const DurationHistogram histogram = Of({300, 100, 200, 400});
  EXPECT_EQ(histogram.count(), 4u);
  EXPECT_EQ(histogram.total(), nanoseconds{1000});
  EXPECT_EQ(histogram.min(), nanoseconds{100});
  EXPECT_EQ(histogram.max(), nanoseconds{400});
  EXPECT_EQ(histogram.mean(), nanoseconds{250});
}

TEST(DurationHistogram, MinimumOfSamplesAboveZeroIsNotTheInitialZero) {
  EXPECT_EQ(Of({500}).min(), nanoseconds{500});
  EXPECT_EQ(Of({500, 700}).min(), nanoseconds{500});
}

TEST(DurationHistogram, MaximumOfNegativeSamplesIsNotTheInitialZero) {
  const DurationHistogram histogram = Of({-5, -3});
  EXPECT_EQ(histogram.max(), nanoseconds{-3});
  EXPECT_EQ(histogram.min(), nanoseconds{-5});
  EXPECT_EQ(histogram.total(), nanoseconds{-8});
}

TEST(DurationHistogram, PercentileIsTheUpperEdgeOfTheBucketHoldingThatSample) {
  // Buckets: 1 in [1, 2), 2 and 3 in [2, 4), 4 to 7 in [4, 8), 100 in [64, 128).
  const DurationHistogram histogram = Of({1, 2, 3, 4, 5, 6, 7, 100});
  EXPECT_EQ(histogram.percentile(0.125), nanoseconds{2});
  EXPECT_EQ(histogram.percentile(0.25), nanoseconds{4});
  EXPECT_EQ(histogram.percentile(0.375), nanoseconds{4});
  EXPECT_EQ(histogram.percentile(0.5), nanoseconds{8});
  EXPECT_EQ(histogram.percentile(0.875), nanoseconds{8});
}

TEST(DurationHistogram, PercentileNeverExceedsTheMaximum) {
  DurationHistogram histogram;
  AddMany(histogram, 90, nanoseconds{100});
  AddMany(histogram, 10, nanoseconds{5000});
  EXPECT_EQ(histogram.percentile(0.5), nanoseconds{128});
  EXPECT_EQ(histogram.percentile(0.9), nanoseconds{128});
  // The 5000 ns samples are in [4096, 8192): the edge 8192 is more than any sample.
  EXPECT_EQ(histogram.percentile(0.91), nanoseconds{5000});
  EXPECT_EQ(histogram.percentile(0.99), nanoseconds{5000});
}

TEST(DurationHistogram, FractionZeroBoundsTheSmallestSampleAndOneIsTheMaximum) {
  const DurationHistogram histogram = Of({100, 3000, 70000});
  EXPECT_EQ(histogram.percentile(0.0), nanoseconds{128});
  EXPECT_EQ(histogram.percentile(1.0), nanoseconds{70000});
}

TEST(DurationHistogram, FractionOutsideZeroToOneIsClamped) {
  const DurationHistogram histogram = Of({100, 3000, 70000});
  EXPECT_EQ(histogram.percentile(-1.0), histogram.percentile(0.0));
  EXPECT_EQ(histogram.percentile(2.0), histogram.max());
}

TEST(DurationHistogram, FractionStoredJustAboveItsDecimalValueDoesNotSkipASample) {
  // 0.07 * 100 is 7.000000000000001 in doubles; the 7th sample is still the one asked for.
  DurationHistogram histogram;
  AddMany(histogram, 7, nanoseconds{10});
  AddMany(histogram, 93, nanoseconds{1000});
  EXPECT_EQ(histogram.percentile(0.07), nanoseconds{16});
  EXPECT_EQ(histogram.percentile(0.08), nanoseconds{1000});
}

TEST(DurationHistogram, PercentileOfSamplesBelowOneNanosecondIsZero) {
  DurationHistogram histogram;
  AddMany(histogram, 3, nanoseconds{0});
  histogram.add(nanoseconds{1000});
  EXPECT_EQ(histogram.percentile(0.5), nanoseconds{0});
  EXPECT_EQ(Of({-5}).percentile(0.5), nanoseconds{-5});
}

TEST(DurationHistogram, PercentileInTheOpenEndedLastBucketIsTheMaximum) {
  const DurationHistogram histogram = Of({hours{30} / nanoseconds{1}, hours{40} / nanoseconds{1}});
  EXPECT_EQ(histogram.percentile(0.5), hours{40});
}

TEST(DurationHistogram, MergeEqualsAddingTheSamplesHere) {
  DurationHistogram merged = Of({7, 1500, 90000});
  merged.merge(Of({3, 2000000, -1}));
  EXPECT_EQ(merged, Of({7, 1500, 90000, 3, 2000000, -1}));
  EXPECT_EQ(merged.min(), nanoseconds{-1});
  EXPECT_EQ(merged.max(), nanoseconds{2000000});
}

TEST(DurationHistogram, MergeIntoAnEmptyHistogramTakesTheOthersMinimum) {
  DurationHistogram merged;
  merged.merge(Of({500, 900}));
  EXPECT_EQ(merged, Of({500, 900}));
  EXPECT_EQ(merged.min(), nanoseconds{500});
}

TEST(DurationHistogram, MergingAnEmptyHistogramChangesNothing) {
  DurationHistogram merged = Of({500, 900});
  merged.merge(DurationHistogram{});
  EXPECT_EQ(merged, Of({500, 900}));
}

TEST(DurationHistogram, EqualWhenTheSameSamplesWereAddedInAnyOrder) {
  EXPECT_EQ(Of({1, 50, 3000}), Of({3000, 1, 50}));
  // Same buckets, but a different sum and maximum.
  EXPECT_NE(Of({1, 50, 3000}), Of({1, 50, 3001}));
  EXPECT_NE(Of({}), Of({0}));
}

TEST(DurationHistogram, TextGivesCountMeanMedianNinetyNinthPercentileAndMaximum) {
  // p50: 2000 ns is in [1024, 2048); p99: 4000 ns is in [2048, 4096), clamped to the maximum.
  EXPECT_EQ(Of({1000, 2000, 3000, 4000}).to_string(),
            "4 samples, mean 2.50 us, p50 <= 2.05 us, p99 <= 4.00 us, max 4.00 us");
  EXPECT_EQ(TextOfOneSample(nanoseconds{850}), "1 sample, mean 850 ns, p50 <= 850 ns, p99 <= 850 ns, max 850 ns");
}

TEST(DurationHistogram, TextPrintsThreeSignificantDigitsInTheLargestUnitAboveOne) {
  EXPECT_EQ(TextOfOneSample(nanoseconds{0}), "1 sample, mean 0 ns, p50 <= 0 ns, p99 <= 0 ns, max 0 ns");
  EXPECT_NE(TextOfOneSample(nanoseconds{999}).find("max 999 ns"), std::string::npos);
  EXPECT_NE(TextOfOneSample(nanoseconds{1000}).find("max 1.00 us"), std::string::npos);
  EXPECT_NE(TextOfOneSample(nanoseconds{12'400}).find("max 12.4 us"), std::string::npos);
  EXPECT_NE(TextOfOneSample(nanoseconds{123'456}).find("max 123 us"), std::string::npos);
  EXPECT_NE(TextOfOneSample(nanoseconds{3'020'000}).find("max 3.02 ms"), std::string::npos);
  EXPECT_NE(TextOfOneSample(nanoseconds{1'500'000'000}).find("max 1.50 s"), std::string::npos);
  EXPECT_NE(TextOfOneSample(nanoseconds{-5}).find("max -5 ns"), std::string::npos);
}

TEST(DurationHistogram, TextMovesToTheNextUnitWhenRoundingReachesAThousand) {
  EXPECT_NE(TextOfOneSample(nanoseconds{999'700}).find("max 1.00 ms"), std::string::npos);
}

}  // namespace
