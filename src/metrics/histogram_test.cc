#include "volley/metrics/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

namespace volley::metrics {
namespace {

using Buckets = std::vector<std::pair<uint32_t, uint64_t>>;

Buckets BucketsOf(const Histogram& h) {
  Buckets out;
  h.ForEachBucket([&out](uint32_t i, uint64_t n) { out.emplace_back(i, n); });
  return out;
}

// The spec's definition written the slow way: shift until the top part fits in 8 bits.
uint32_t ReferenceIndex(uint64_t u) {
  if (u < 256) return static_cast<uint32_t>(u);
  uint32_t n = 0;
  while ((u >> n) >= 256) ++n;
  return (n << 7) + static_cast<uint32_t>(u >> n);
}

TEST(HistogramBuckets, SpecExamples) {
  Histogram ms(0.001);  // k6 records milliseconds with 1 µs resolution
  ms.Record(6);
  ms.Record(7);
  EXPECT_EQ(BucketsOf(ms), (Buckets{{827, 1}, {858, 1}}));
  EXPECT_EQ(Histogram::BucketIndex(6000), 827u);
  EXPECT_EQ(Histogram::BucketIndex(7000), 858u);

  Histogram one(1.0);
  one.Record(2275);
  EXPECT_EQ(BucketsOf(one), (Buckets{{654, 1}}));
  EXPECT_EQ(Histogram::BucketLowerUnits(654), 2272u);
  EXPECT_EQ(Histogram::BucketUpperUnits(654), 2287u);
}

TEST(HistogramBuckets, SpecEncodingExampleRoundsUp) {
  Histogram h(1.0);
  for (double v : {7.0, 8.0, 9.0, 11.0, 12.0, 11.5, 10.5}) h.Record(v);
  EXPECT_EQ(BucketsOf(h), (Buckets{{7, 1}, {8, 1}, {9, 1}, {11, 2}, {12, 2}}));
}

TEST(HistogramBuckets, LinearPartAndFirstSplit) {
  EXPECT_EQ(Histogram::BucketIndex(0), 0u);
  EXPECT_EQ(Histogram::BucketIndex(1), 1u);
  EXPECT_EQ(Histogram::BucketIndex(255), 255u);
  EXPECT_EQ(Histogram::BucketIndex(256), 256u);
  EXPECT_EQ(Histogram::BucketIndex(257), 256u);  // [256, 257] is the first 2-wide bucket
  EXPECT_EQ(Histogram::BucketIndex(258), 257u);
  EXPECT_EQ(Histogram::BucketIndex(511), 383u);
  EXPECT_EQ(Histogram::BucketIndex(512), 384u);
  EXPECT_EQ(Histogram::BucketLowerUnits(255), 255u);
  EXPECT_EQ(Histogram::BucketUpperUnits(255), 255u);
  EXPECT_EQ(Histogram::BucketLowerUnits(256), 256u);
  EXPECT_EQ(Histogram::BucketUpperUnits(256), 257u);
  EXPECT_EQ(Histogram::BucketIndex((uint64_t{1} << 63) - 1), 7295u);
  EXPECT_EQ(Histogram::BucketIndex(uint64_t{1} << 63), 7296u);
  EXPECT_EQ(Histogram::BucketIndex(UINT64_MAX), 7423u);
  EXPECT_EQ(Histogram::kMaxIndex, 7423u);
  EXPECT_EQ(Histogram::BucketLowerUnits(7423), uint64_t{255} << 56);
  EXPECT_EQ(Histogram::BucketUpperUnits(7423), UINT64_MAX);
}

TEST(HistogramBuckets, PowerOfTwoBoundariesUpTo63) {
  for (int k = 1; k <= 63; ++k) {
    const uint64_t p = uint64_t{1} << k;
    for (uint64_t u : {p - 1, p, p + 1}) {
      SCOPED_TRACE(testing::Message() << "k=" << k << " u=" << u);
      const uint32_t i = Histogram::BucketIndex(u);
      EXPECT_EQ(i, ReferenceIndex(u));
      EXPECT_LE(Histogram::BucketLowerUnits(i), u);
      EXPECT_GE(Histogram::BucketUpperUnits(i), u);
      if (u >= 256) {
        const uint64_t width = Histogram::BucketUpperUnits(i) - Histogram::BucketLowerUnits(i) + 1;
        EXPECT_LE(static_cast<double>(width) / static_cast<double>(Histogram::BucketLowerUnits(i)),
                  1.0 / 128);
      }
    }
    if (k >= 8) {  // a power of two >= 256 starts a bucket; the value before ends one
      EXPECT_EQ(Histogram::BucketLowerUnits(Histogram::BucketIndex(p)), p);
      EXPECT_EQ(Histogram::BucketUpperUnits(Histogram::BucketIndex(p - 1)), p - 1);
      EXPECT_EQ(Histogram::BucketIndex(p), Histogram::BucketIndex(p - 1) + 1);
    }
  }
}

TEST(HistogramBuckets, EveryIndexIsContiguousAndInvertible) {
  uint64_t expected_lower = 0;
  for (uint32_t i = 0; i <= Histogram::kMaxIndex; ++i) {
    const uint64_t lo = Histogram::BucketLowerUnits(i);
    const uint64_t hi = Histogram::BucketUpperUnits(i);
    ASSERT_EQ(lo, expected_lower) << i;
    ASSERT_LE(lo, hi) << i;
    ASSERT_EQ(Histogram::BucketIndex(lo), i);
    ASSERT_EQ(Histogram::BucketIndex(hi), i);
    expected_lower = hi + 1;  // wraps to 0 after the last bucket
  }
  EXPECT_EQ(expected_lower, 0u);
}

TEST(HistogramBuckets, IndexIsMonotonic) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  for (int i = 0; i < 100000; ++i) values.push_back(rng() >> (rng() % 64));
  std::sort(values.begin(), values.end());
  for (size_t i = 1; i < values.size(); ++i) {
    ASSERT_LE(Histogram::BucketIndex(values[i - 1]), Histogram::BucketIndex(values[i]));
    ASSERT_EQ(Histogram::BucketIndex(values[i]), ReferenceIndex(values[i]));
  }
}

TEST(Histogram, KeepsExactStatsAcrossBothPaths) {
  Histogram h(1e-6);
  h.RecordUnits(1500);
  h.RecordUnits(20);
  h.Record(0.25);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.min(), 20e-6);
  EXPECT_DOUBLE_EQ(h.max(), 0.25);
  EXPECT_DOUBLE_EQ(h.sum(), 0.25 + 1520e-6);
  EXPECT_DOUBLE_EQ(h.mean(), (0.25 + 1520e-6) / 3);
  EXPECT_EQ(h.BucketCount(20), 1u);
  EXPECT_EQ(h.BucketCount(Histogram::BucketIndex(1500)), 1u);
  EXPECT_EQ(h.BucketCount(Histogram::BucketIndex(250000)), 1u);
}

TEST(Histogram, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.Percentile(99), 0);
  EXPECT_EQ(h.CountAtOrBelow(1.0), 0u);
  EXPECT_DOUBLE_EQ(h.min_resolution(), 1e-6);
}

TEST(Histogram, NegativeHugeAndNanValues) {
  Histogram h(1e-6);
  h.Record(-0.5);
  h.Record(1e30);  // 1e36 units: beyond uint64
  h.Record(std::numeric_limits<double>::infinity());
  h.Record(std::nan(""));
  h.Record(0.001);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.extra_low(), 1u);
  EXPECT_EQ(h.extra_high(), 2u);
  EXPECT_EQ(h.min(), -0.5);
  EXPECT_EQ(h.max(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(BucketsOf(h), (Buckets{{Histogram::BucketIndex(1000), 1}}));
  EXPECT_EQ(h.Percentile(10), -0.5);              // rank 1: the extra-low sample
  EXPECT_DOUBLE_EQ(h.Percentile(30), 1001.5e-6);  // rank 2: midpoint of bucket [1000, 1003]
  EXPECT_EQ(h.Percentile(60), std::numeric_limits<double>::infinity());
}

TEST(Histogram, UnitsBeyondUint64AreCountedHighNotWrapped) {
  Histogram h(1.0);
  h.Record(18446744073709549568.0);  // the largest double below 2^64: still a bucket
  h.Record(18446744073709551616.0);  // 2^64: extra high
  EXPECT_EQ(h.extra_high(), 1u);
  EXPECT_EQ(h.BucketCount(Histogram::kMaxIndex), 1u);
}

TEST(HistogramPercentile, ExactForSmallIntegerUnits) {
  Histogram h(1.0);
  for (uint64_t u = 1; u <= 200; ++u) h.RecordUnits(u);
  EXPECT_EQ(h.Percentile(0), 1.0);
  EXPECT_EQ(h.Percentile(0.5), 1.0);
  EXPECT_EQ(h.Percentile(50), 100.0);
  EXPECT_EQ(h.Percentile(90), 180.0);
  EXPECT_EQ(h.Percentile(99), 198.0);
  EXPECT_EQ(h.Percentile(99.9), 200.0);  // rank ceil(199.8) = 200
  EXPECT_EQ(h.Percentile(100), 200.0);
  EXPECT_EQ(h.Percentile(150), 200.0);  // clamped q
}

TEST(HistogramPercentile, ReturnsTheBucketMidpointClampedToMinMax) {
  Histogram h(1.0);
  for (int i = 0; i < 3; ++i) h.RecordUnits(1001);  // bucket [1000, 1003]
  h.RecordUnits(5000);
  EXPECT_EQ(h.Percentile(50), 1001.5);
  EXPECT_EQ(h.Percentile(75), 1001.5);
  EXPECT_EQ(h.Percentile(100), 5000.0);
  Histogram one(1.0);
  one.RecordUnits(1001);
  one.RecordUnits(1001);
  EXPECT_EQ(one.Percentile(50), 1001.0);  // midpoint 1001.5 clamped to max
}

TEST(HistogramPercentile, RankIsNotPushedUpByFloatingPointNoise) {
  // 99.9% of 1000 is rank 999 exactly; a naive ceil(99.9 / 100 * 1000) gives 1000.
  Histogram h(1.0);
  for (uint64_t u = 1; u <= 1000; ++u) h.RecordUnits(u < 1000 ? 100 : 200);
  EXPECT_EQ(h.Percentile(99.9), 100.0);
}

TEST(HistogramCountAtOrBelow, CountsWholeBucketsUpToTheValue) {
  Histogram h(1e-6);
  for (uint64_t u : {100, 255, 256, 5000, 5001, 10000}) h.RecordUnits(u);
  EXPECT_EQ(h.CountAtOrBelow(-1), 0u);
  EXPECT_EQ(h.CountAtOrBelow(0.0001), 1u);
  EXPECT_EQ(h.CountAtOrBelow(0.000255), 2u);  // 255.00000000000003 units: snapped
  EXPECT_EQ(h.CountAtOrBelow(0.000256), 2u);  // bucket [256, 257] not entirely below
  EXPECT_EQ(h.CountAtOrBelow(0.000257), 3u);
  EXPECT_EQ(h.CountAtOrBelow(0.005), 3u);  // 5000 and 5001 sit in [4992, 5023]
  EXPECT_EQ(h.CountAtOrBelow(0.005023), 5u);
  EXPECT_EQ(h.CountAtOrBelow(0.009999), 5u);
  EXPECT_EQ(h.CountAtOrBelow(0.01), 6u);  // >= max: everything
  EXPECT_EQ(h.CountAtOrBelow(1e300), 6u);
}

TEST(HistogramCountAtOrBelow, ExtraLowCountsFromZero) {
  Histogram h(1.0);
  h.Record(-3);
  h.Record(10);
  EXPECT_EQ(h.CountAtOrBelow(-5), 0u);
  EXPECT_EQ(h.CountAtOrBelow(0), 1u);
  EXPECT_EQ(h.CountAtOrBelow(10), 2u);
}

TEST(HistogramMerge, EqualsHistogramOfConcatenatedSamples) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(-4, 2);
  Histogram a, b, all;
  std::vector<uint64_t> units;
  for (int i = 0; i < 200000; ++i) {
    const double v = dist(rng) * (i % 1000 == 0 ? -1 : 1);  // a few extra-low too
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  ASSERT_TRUE(a.Merge(b));
  EXPECT_EQ(BucketsOf(a), BucketsOf(all));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.extra_low(), all.extra_low());
  EXPECT_EQ(a.extra_low(), 200u);
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_NEAR(a.sum(), all.sum(), 1e-9 * std::fabs(all.sum()));
  for (double q : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(q), all.Percentile(q)) << q;
}

TEST(HistogramMerge, UnitsPathIsExactlyEqualInAnyOrder) {
  Histogram a, b, c, all;
  for (uint64_t u = 0; u < 300000; u += 7) {
    (u % 3 == 0 ? a : u % 3 == 1 ? b : c).RecordUnits(u * u);
    all.RecordUnits(u * u);
  }
  Histogram cba = c;
  ASSERT_TRUE(cba.Merge(b));
  ASSERT_TRUE(cba.Merge(a));
  ASSERT_TRUE(a.Merge(b));
  ASSERT_TRUE(a.Merge(c));
  EXPECT_EQ(a, all);
  EXPECT_EQ(cba, all);
  all.RecordUnits(1);
  EXPECT_FALSE(a == all);
}

TEST(HistogramMerge, RefusesAnotherResolution) {
  Histogram us(1e-6), ms(1e-3);
  us.RecordUnits(5);
  ms.RecordUnits(5);
  const Histogram before = us;
  EXPECT_FALSE(us.Merge(ms));
  EXPECT_EQ(us, before);
}

TEST(Histogram, ResetForgetsSamplesButStaysUsable) {
  Histogram h;
  h.RecordUnits(123456789);
  h.Record(-1);
  h.Reset();
  EXPECT_EQ(h, Histogram());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_TRUE(BucketsOf(h).empty());
  h.RecordUnits(3);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_DOUBLE_EQ(h.max(), 3e-6);
}

TEST(Histogram, CopyDropsTheEmptyTopOfTheStorage) {
  Histogram h;
  h.RecordUnits(60'000'000);  // one 60 s outlier grows the storage past index 2500
  h.Reset();
  h.RecordUnits(1500);
  EXPECT_GE(h.storage_buckets(), 2500u);
  const Histogram copy = h;
  EXPECT_EQ(copy.storage_buckets(), Histogram::BucketIndex(1500) + 1u);
  EXPECT_EQ(copy, h);
  Histogram assigned(1.0);
  assigned = h;
  EXPECT_EQ(assigned, h);
  EXPECT_EQ(assigned.min_resolution(), 1e-6);
  const size_t grown = h.storage_buckets();
  h.Reset();
  EXPECT_EQ(h.storage_buckets(), grown);  // Reset keeps it: no reallocation in a shard
}

TEST(Histogram, FromPartsRoundTrips) {
  Histogram h(0.001);
  for (double v : {0.5, 6.0, 7.0, 7.0, 2275.0, -1.0}) h.Record(v);
  Histogram back;
  ASSERT_TRUE(Histogram::FromParts(0.001, BucketsOf(h), h.extra_low(), h.extra_high(), h.min(),
                                   h.max(), h.sum(), &back));
  EXPECT_EQ(BucketsOf(back), BucketsOf(h));
  EXPECT_EQ(back.count(), 6u);
  EXPECT_EQ(back.min(), -1.0);
  EXPECT_EQ(back.max(), 2275.0);
  EXPECT_DOUBLE_EQ(back.sum(), h.sum());
  EXPECT_EQ(back.Percentile(50), h.Percentile(50));
  EXPECT_FALSE(Histogram::FromParts(0.001, {{7424, 1}}, 0, 0, 0, 0, 0, &back));
  EXPECT_FALSE(Histogram::FromParts(0, {}, 0, 0, 0, 0, 0, &back));
  EXPECT_FALSE(Histogram::FromParts(1, {{1, UINT64_MAX}, {2, 1}}, 0, 0, 0, 0, 0, &back));
  EXPECT_EQ(back.count(), 6u);  // untouched by the failures
}

}  // namespace
}  // namespace volley::metrics
