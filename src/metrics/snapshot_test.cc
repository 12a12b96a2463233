#include "volley/metrics/snapshot.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "volley/metrics/series.h"

namespace volley::metrics {
namespace {

TEST(SeriesKey, SortsLabelsAndLastDuplicateWins) {
  SeriesKey key("http_reqs", {{"status", "200"}, {"method", "GET"}, {"status", "503"}});
  EXPECT_EQ(key.labels, (Labels{{"method", "GET"}, {"status", "503"}}));
  EXPECT_EQ(key.ToString(), R"(http_reqs{method="GET",status="503"})");
  EXPECT_EQ(SeriesKey("up").ToString(), "up");
  EXPECT_EQ(SeriesKey("m", {{"a", "x\"y\\z\nw"}}).ToString(), R"(m{a="x\"y\\z\nw"})");
}

TEST(SeriesKey, OrdersByNameThenLabels) {
  const SeriesKey a("req", {{"code", "200"}});
  const SeriesKey b("req", {{"code", "200"}, {"method", "GET"}});
  const SeriesKey c("req", {{"code", "500"}});
  const SeriesKey d("req_total");
  EXPECT_LT(SeriesKey("req"), a);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  EXPECT_EQ(a, SeriesKey("req", {{"code", "200"}}));
  EXPECT_NE(a, c);
}

TEST(MetricType, MatchesVariantIndex) {
  EXPECT_EQ(TypeOf(Counter{}), MetricType::kCounter);
  EXPECT_EQ(TypeOf(Gauge{}), MetricType::kGauge);
  EXPECT_EQ(TypeOf(Rate{}), MetricType::kRate);
  EXPECT_EQ(TypeOf(Histogram{}), MetricType::kTrend);
  EXPECT_STREQ(MetricTypeName(MetricType::kTrend), "trend");
}

TEST(Gauge, TracksThePeriodAndKeepsLast) {
  Gauge g;
  EXPECT_EQ(g.mean(), 0);
  g.Set(5);
  g.Set(-1);
  g.Set(2);
  EXPECT_EQ(g, (Gauge{.last = 2, .min = -1, .max = 5, .sum = 6, .count = 3}));
  EXPECT_EQ(g.mean(), 2);
  g.ResetPeriod();
  EXPECT_EQ(g.last, 2);
  EXPECT_EQ(g.count, 0u);
  EXPECT_EQ(g.min, std::numeric_limits<double>::infinity());
  EXPECT_EQ(g.mean(), 2);  // no calls: the last value
}

Snapshot Older() {
  Snapshot s;
  s.Put(SeriesKey("reqs", {{"code", "200"}}), Counter{10});
  s.Put(SeriesKey("vus"), Gauge{.last = 4, .min = 1, .max = 4, .sum = 9, .count = 4});
  s.Put(SeriesKey("failed"), Rate{.nonzero = 1, .total = 10});
  Histogram h;
  h.RecordUnits(100);
  h.RecordUnits(5000);
  s.Put(SeriesKey("latency"), h);
  return s;
}

TEST(SnapshotMerge, CombinesEachTypeAsDocumented) {
  Snapshot older = Older();
  Snapshot newer;
  newer.Put(SeriesKey("reqs", {{"code", "200"}}), Counter{5});
  newer.Put(SeriesKey("reqs", {{"code", "500"}}), Counter{2});
  newer.Put(SeriesKey("vus"), Gauge{.last = 2, .min = 0, .max = 3, .sum = 3, .count = 2});
  newer.Put(SeriesKey("failed"), Rate{.nonzero = 2, .total = 5});
  Histogram h;
  h.RecordUnits(7);
  newer.Put(SeriesKey("latency"), h);

  EXPECT_EQ(older.Merge(newer), 0u);
  EXPECT_EQ(older.size(), 5u);
  EXPECT_EQ(older.FindCounter("reqs", {{"code", "200"}})->value, 15);
  EXPECT_EQ(older.FindCounter("reqs", {{"code", "500"}})->value, 2);
  EXPECT_EQ(*older.FindGauge("vus"), (Gauge{.last = 2, .min = 0, .max = 4, .sum = 12, .count = 6}));
  EXPECT_EQ(*older.FindRate("failed"), (Rate{.nonzero = 3, .total = 15}));
  const Histogram* merged = older.FindTrend("latency");
  ASSERT_NE(merged, nullptr);
  EXPECT_EQ(merged->count(), 3u);
  EXPECT_DOUBLE_EQ(merged->min(), 7e-6);
  EXPECT_DOUBLE_EQ(merged->max(), 5000e-6);
  EXPECT_EQ(merged->BucketCount(7), 1u);
}

TEST(SnapshotMerge, IntoEmptyCopiesAndTypeClashKeepsOlder) {
  Snapshot merged;
  EXPECT_TRUE(merged.empty());
  EXPECT_EQ(merged.Merge(Older()), 0u);
  EXPECT_EQ(merged, Older());

  Snapshot clash;
  clash.Put(SeriesKey("vus"), Counter{1});        // was a gauge
  clash.Put(SeriesKey("latency"), Histogram(1));  // other resolution
  EXPECT_EQ(merged.Merge(clash), 2u);
  EXPECT_EQ(merged, Older());
}

TEST(SnapshotFind, WrongTypeOrMissingIsNull) {
  const Snapshot s = Older();
  EXPECT_EQ(s.FindGauge("reqs", {{"code", "200"}}), nullptr);
  EXPECT_EQ(s.FindCounter("reqs"), nullptr);
  EXPECT_EQ(s.FindTrend("nope"), nullptr);
  EXPECT_NE(s.Find(SeriesKey("failed")), nullptr);
  EXPECT_EQ(TypeOf(*s.Find(SeriesKey("failed"))), MetricType::kRate);
}

TEST(SnapshotFind, LabelsNeedNotBeSorted) {
  Snapshot s;
  s.Put(SeriesKey("x", {{"b", "2"}, {"a", "1"}}), Counter{3});
  ASSERT_NE(s.FindCounter("x", {{"b", "2"}, {"a", "1"}}), nullptr);
  EXPECT_EQ(s.FindCounter("x", {{"a", "1"}, {"b", "2"}})->value, 3);
}

TEST(SnapshotAggregates, SumCounterOnlyOverThatName) {
  Snapshot s;
  s.Put(SeriesKey("re"), Counter{1000});
  s.Put(SeriesKey("req"), Counter{1});
  s.Put(SeriesKey("req", {{"code", "200"}}), Counter{10});
  s.Put(SeriesKey("req", {{"code", "500"}}), Counter{100});
  s.Put(SeriesKey("req_total"), Counter{10000});
  s.Put(SeriesKey("rate"), Rate{1, 4});
  s.Put(SeriesKey("rate", {{"k", "v"}}), Rate{2, 4});
  EXPECT_EQ(s.SumCounter("req"), 111);
  EXPECT_EQ(s.SumCounter("re"), 1000);
  EXPECT_EQ(s.SumCounter("missing"), 0);
  EXPECT_EQ(s.SumRate("rate"), (Rate{3, 8}));
  std::vector<std::string> seen;
  s.ForEachOfName(
      "req", [&seen](const SeriesKey& k, const MetricValue&) { seen.push_back(k.ToString()); });
  EXPECT_EQ(seen, (std::vector<std::string>{"req", R"(req{code="200"})", R"(req{code="500"})"}));
}

TEST(SnapshotAggregates, MergedTrendIsTheUnionOfSamples) {
  Snapshot s;
  Histogram a, b, all;
  for (uint64_t u = 1; u <= 1000; ++u) {
    (u % 2 == 0 ? a : b).RecordUnits(u * 37);
    all.RecordUnits(u * 37);
  }
  s.Put(SeriesKey("lat", {{"url", "/a"}}), a);
  s.Put(SeriesKey("lat", {{"url", "/b"}}), b);
  s.Put(SeriesKey("lat", {{"url", "/c"}}), Histogram(1.0));  // other resolution: skipped
  s.Put(SeriesKey("lat_other"), all);
  EXPECT_EQ(s.MergedTrend("lat"), all);
  EXPECT_EQ(s.MergedTrend("lat").Percentile(50), all.Percentile(50));
  EXPECT_EQ(s.MergedTrend("none"), Histogram());
}

}  // namespace
}  // namespace volley::metrics
