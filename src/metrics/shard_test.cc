#include "volley/metrics/shard.h"

#include <gtest/gtest.h>

#include <string>

namespace volley::metrics {
namespace {

TEST(Shard, SameKeySamePointerAndPointersSurviveGrowth) {
  Shard shard;
  Counter* reqs = shard.GetCounter(SeriesKey("reqs", {{"code", "200"}}));
  Histogram* lat = shard.GetTrend(SeriesKey("lat"));
  ASSERT_NE(reqs, nullptr);
  ASSERT_NE(lat, nullptr);
  for (int i = 0; i < 2000; ++i) {
    shard.GetCounter(SeriesKey("reqs", {{"code", std::to_string(i)}}));
  }
  EXPECT_EQ(shard.GetCounter(SeriesKey("reqs", {{"code", "200"}})), reqs);
  EXPECT_EQ(shard.GetTrend(SeriesKey("lat")), lat);
  reqs->Add(3);
  lat->RecordUnits(42);
  const Snapshot delta = shard.TakeDelta();
  EXPECT_EQ(delta.FindCounter("reqs", {{"code", "200"}})->value, 3);
  EXPECT_EQ(delta.FindTrend("lat")->count(), 1u);
  EXPECT_EQ(shard.series_count(), 2001u);
}

TEST(Shard, TakeDeltaResetsValuesInPlace) {
  Shard shard;
  Counter* c = shard.GetCounter(SeriesKey("c"));
  Gauge* g = shard.GetGauge(SeriesKey("g"));
  Rate* r = shard.GetRate(SeriesKey("r"));
  Histogram* h = shard.GetTrend(SeriesKey("h"), 1e-3);
  c->Add(2);
  g->Set(7);
  g->Set(3);
  r->Add(true);
  r->Add(false);
  h->Record(0.5);

  const Snapshot first = shard.TakeDelta();
  EXPECT_EQ(first.FindCounter("c")->value, 2);
  EXPECT_EQ(*first.FindGauge("g"), (Gauge{.last = 3, .min = 3, .max = 7, .sum = 10, .count = 2}));
  EXPECT_EQ(*first.FindRate("r"), (Rate{1, 2}));
  EXPECT_EQ(first.FindTrend("h")->count(), 1u);
  EXPECT_EQ(first.FindTrend("h")->min_resolution(), 1e-3);

  EXPECT_EQ(c->value, 0);
  EXPECT_EQ(g->last, 3);
  EXPECT_EQ(g->count, 0u);
  EXPECT_EQ(*r, Rate{});
  EXPECT_EQ(h->count(), 0u);
  EXPECT_EQ(h->min_resolution(), 1e-3);

  // Same pointers keep recording after the delta.
  c->Add(1);
  h->RecordUnits(9);
  const Snapshot second = shard.TakeDelta();
  EXPECT_EQ(second.FindCounter("c")->value, 1);
  EXPECT_EQ(second.FindTrend("h")->BucketCount(9), 1u);
  EXPECT_EQ(second.FindRate("r"), nullptr);   // idle: omitted
  ASSERT_NE(second.FindGauge("g"), nullptr);  // gauges always: the last value stands
  EXPECT_EQ(*second.FindGauge("g"), Gauge{.last = 3});
}

TEST(Shard, NewSeriesAppearOnceEvenIfIdle) {
  Shard shard;
  shard.GetCounter(SeriesKey("errors", {{"category", "timeout"}}));
  shard.GetTrend(SeriesKey("lat"));
  const Snapshot first = shard.TakeDelta();
  ASSERT_NE(first.FindCounter("errors", {{"category", "timeout"}}), nullptr);
  EXPECT_EQ(first.FindCounter("errors", {{"category", "timeout"}})->value, 0);
  ASSERT_NE(first.FindTrend("lat"), nullptr);
  EXPECT_TRUE(shard.TakeDelta().empty());
}

TEST(Shard, TypeOrResolutionClashIsNull) {
  Shard shard;
  ASSERT_NE(shard.GetCounter(SeriesKey("x")), nullptr);
  EXPECT_EQ(shard.GetGauge(SeriesKey("x")), nullptr);
  EXPECT_EQ(shard.GetTrend(SeriesKey("x")), nullptr);
  ASSERT_NE(shard.GetTrend(SeriesKey("t"), 1e-6), nullptr);
  EXPECT_EQ(shard.GetTrend(SeriesKey("t"), 1e-3), nullptr);
  EXPECT_EQ(shard.series_count(), 2u);
}

TEST(Shard, CardinalityBoundFoldsNewKeysIntoOverflowSeries) {
  Shard shard(3);
  Counter* a = shard.GetCounter(SeriesKey("req", {{"url", "/a"}}));
  Counter* b = shard.GetCounter(SeriesKey("req", {{"url", "/b"}}));
  Histogram* lat = shard.GetTrend(SeriesKey("lat", {{"url", "/a"}}));
  ASSERT_NE(lat, nullptr);
  Counter* c = shard.GetCounter(SeriesKey("req", {{"url", "/c"}}));
  Counter* d = shard.GetCounter(SeriesKey("req", {{"url", "/d"}, {"m", "GET"}}));
  Histogram* lat_b = shard.GetTrend(SeriesKey("lat", {{"url", "/b"}}));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c, d);
  EXPECT_NE(c, a);
  ASSERT_NE(lat_b, nullptr);
  EXPECT_NE(lat_b, lat);
  EXPECT_EQ(shard.folded_series(), 3u);
  EXPECT_EQ(shard.series_count(), 5u);  // 3 + one overflow series per name
  // Known keys still get their own series after the bound is reached.
  EXPECT_EQ(shard.GetCounter(SeriesKey("req", {{"url", "/b"}})), b);
  EXPECT_EQ(shard.folded_series(), 3u);

  a->Add(1);
  c->Add(2);
  d->Add(5);
  const Snapshot delta = shard.TakeDelta();
  EXPECT_EQ(delta.FindCounter("req", {{"volley_overflow", "true"}})->value, 7);
  EXPECT_EQ(delta.SumCounter("req"), 8);
  EXPECT_EQ(SeriesKey("req", {{kOverflowLabelKey, kOverflowLabelValue}}).ToString(),
            R"(req{volley_overflow="true"})");
}

TEST(Shard, ZeroBoundFoldsEverything) {
  Shard shard(0);
  Rate* r1 = shard.GetRate(SeriesKey("checks", {{"name", "a"}}));
  Rate* r2 = shard.GetRate(SeriesKey("checks", {{"name", "b"}}));
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1, r2);
  EXPECT_EQ(shard.folded_series(), 2u);
  EXPECT_EQ(shard.series_count(), 1u);
}

}  // namespace
}  // namespace volley::metrics
