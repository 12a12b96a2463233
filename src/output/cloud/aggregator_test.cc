#include "aggregator.h"

#include <gtest/gtest.h>

namespace volley::output::cloud {
namespace {

using std::chrono::seconds;
constexpr int64_t kSec = 1'000'000'000;
// 1'700'000'001 = 3 * 566'666'667: kT0 starts a 3 s bucket.
constexpr int64_t kT0 = 1'700'000'001 * kSec;

metrics::Snapshot Count(double n, const char* name = "requests_total") {
  metrics::Snapshot s;
  s.Put(metrics::SeriesKey(name), metrics::Counter{n});
  return s;
}

double CounterIn(const Bucket& b, const char* name = "requests_total") {
  const metrics::Counter* c = b.values.FindCounter(name);
  return c ? c->value : -1;
}

TEST(BucketAggregator, GroupsIntervalsByPeriodKeyedByUnixTime) {
  BucketAggregator agg(seconds(3));
  for (int i = 0; i < 7; ++i) agg.Add(kT0 + i * kSec, Count(i + 1));  // 1..7 at t0+0..6
  EXPECT_EQ(agg.pending_buckets(), 3u);
  auto buckets = agg.TakeAll();
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].start_unix_seconds, kT0 / kSec);
  EXPECT_EQ(CounterIn(buckets[0]), 1 + 2 + 3);
  EXPECT_EQ(buckets[1].start_unix_seconds, kT0 / kSec + 3);
  EXPECT_EQ(CounterIn(buckets[1]), 4 + 5 + 6);
  EXPECT_EQ(buckets[2].start_unix_seconds, kT0 / kSec + 6);
  EXPECT_EQ(CounterIn(buckets[2]), 7);
  EXPECT_FALSE(buckets[0].late);
}

TEST(BucketAggregator, AnIntervalCountsInTheBucketOfItsStart) {
  BucketAggregator agg(seconds(3));
  agg.Add(kT0 + 3 * kSec - 1, Count(5));  // starts 1 ns before the next bucket
  auto b = agg.TakeAll();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].start_unix_seconds, kT0 / kSec);
}

TEST(BucketAggregator, ABucketIsDueOnceItsEndIsAWaitPeriodOld) {
  BucketAggregator agg(seconds(3));
  agg.Add(kT0, Count(1));             // bucket [t0, t0+3)
  agg.Add(kT0 + 3 * kSec, Count(2));  // bucket [t0+3, t0+6)
  const Nanos wait = seconds(8);
  // The first bucket's end is t0+3: due at t0+11.
  EXPECT_TRUE(agg.TakeDue(kT0 + 11 * kSec - 1, wait).empty());
  auto due = agg.TakeDue(kT0 + 11 * kSec, wait);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(CounterIn(due[0]), 1);
  EXPECT_TRUE(agg.TakeDue(kT0 + 14 * kSec - 1, wait).empty());
  due = agg.TakeDue(kT0 + 14 * kSec, wait);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(CounterIn(due[0]), 2);
  EXPECT_EQ(agg.pending_buckets(), 0u);
}

TEST(BucketAggregator, WaitZeroSendsCompletedBucketsOnly) {
  BucketAggregator agg(seconds(3));
  agg.Add(kT0, Count(1));
  agg.Add(kT0 + 4 * kSec, Count(2));
  auto due = agg.TakeDue(kT0 + 5 * kSec, Nanos(0));  // the second bucket is still open
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(CounterIn(due[0]), 1);
  EXPECT_EQ(agg.pending_buckets(), 1u);
}

TEST(BucketAggregator, ALateDeltaReopensItsBucketWithOnlyTheNewPart) {
  BucketAggregator agg(seconds(3));
  agg.Add(kT0, Count(10));
  agg.Add(kT0 + kSec, Count(5));
  auto first = agg.TakeDue(kT0 + 20 * kSec, seconds(8));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(CounterIn(first[0]), 15);
  EXPECT_FALSE(first[0].late);

  agg.Add(kT0 + 2 * kSec, Count(7));  // late: its bucket was sent
  auto again = agg.TakeDue(kT0 + 20 * kSec, seconds(8));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].start_unix_seconds, first[0].start_unix_seconds);  // same timestamp
  EXPECT_EQ(CounterIn(again[0]), 7);                                    // only the new part
  EXPECT_TRUE(again[0].late);
  EXPECT_EQ(agg.late_buckets(), 1u);
  // The receiver's merge of both is the exact total.
  EXPECT_EQ(CounterIn(first[0]) + CounterIn(again[0]), 22);
}

TEST(BucketAggregator, MergesEveryTypeWithinABucket) {
  BucketAggregator agg(seconds(3));
  metrics::Snapshot a, b;
  metrics::Gauge g1;
  g1.Set(4);
  g1.Set(8);
  metrics::Gauge g2;
  g2.Set(2);
  metrics::Histogram h1, h2;
  h1.RecordUnits(1000);
  h2.RecordUnits(2000);
  h2.RecordUnits(3000);
  a.Put(metrics::SeriesKey("g"), g1);
  a.Put(metrics::SeriesKey("r"), metrics::Rate{1, 3});
  a.Put(metrics::SeriesKey("t"), h1);
  b.Put(metrics::SeriesKey("g"), g2);
  b.Put(metrics::SeriesKey("r"), metrics::Rate{2, 2});
  b.Put(metrics::SeriesKey("t"), h2);
  agg.Add(kT0, a);
  agg.Add(kT0 + kSec, b);
  auto out = agg.TakeAll();
  ASSERT_EQ(out.size(), 1u);
  const metrics::Gauge* g = out[0].values.FindGauge("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->last, 2);
  EXPECT_EQ(g->count, 3u);
  EXPECT_EQ(g->min, 2);
  EXPECT_EQ(g->max, 8);
  EXPECT_EQ(g->sum, 14);
  EXPECT_EQ(*out[0].values.FindRate("r"), (metrics::Rate{3, 5}));
  const metrics::Histogram* h = out[0].values.FindTrend("t");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count(), 3u);
  EXPECT_EQ(h->BucketCount(metrics::Histogram::BucketIndex(2000)), 1u);
}

TEST(BucketAggregator, EmptyDeltasMakeNoBucket) {
  BucketAggregator agg(seconds(3));
  agg.Add(kT0, metrics::Snapshot());
  EXPECT_EQ(agg.pending_buckets(), 0u);
  EXPECT_TRUE(agg.TakeAll().empty());
}

}  // namespace
}  // namespace volley::output::cloud
