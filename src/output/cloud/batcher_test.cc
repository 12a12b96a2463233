#include "batcher.h"

#include <gtest/gtest.h>

#include "volley/metrics/names.h"

namespace volley::output::cloud {
namespace {

namespace names = metrics::names;

CloudConfig Config(size_t max_series, MetricNames naming = MetricNames::kVolley) {
  CloudConfig c;
  c.run_id = "run-7";
  c.aggregation_period = std::chrono::seconds(3);
  c.max_series_in_batch = max_series;
  c.metric_names = naming;
  return c;
}

// `n` counter series "requests_total{i=...}" in one bucket at `start`.
Bucket Counters(int n, int64_t start, double value = 1) {
  Bucket b;
  b.start_unix_seconds = start;
  for (int i = 0; i < n; ++i) {
    b.values.Put(metrics::SeriesKey(names::kRequests, {{"i", std::to_string(100 + i)}}),
                 metrics::Counter{value});
  }
  return b;
}

TEST(Batcher, CutsAtMaxSeriesAndCountsSamples) {
  Batcher batcher(Config(4));
  // 10 series in two buckets: 10 distinct series, 20 values.
  auto batches = batcher.Cut({Counters(10, 1000), Counters(10, 1003)});
  ASSERT_EQ(batches.size(), 3u);  // 4 + 4 + 2 series
  EXPECT_EQ(batches[0].data.series.size(), 4u);
  EXPECT_EQ(batches[1].data.series.size(), 4u);
  EXPECT_EQ(batches[2].data.series.size(), 2u);
  uint64_t samples = 0;
  for (const Batch& b : batches) {
    samples += b.samples;
    EXPECT_EQ(b.data.test_run_id, "run-7");
    EXPECT_EQ(b.data.aggregation_period_seconds, 3u);
    for (const auto& s : b.data.series) {
      ASSERT_EQ(s.values.size(), 2u);  // one value per bucket
      EXPECT_EQ(s.values[0].time_unix_seconds, 1000);
      EXPECT_EQ(s.values[1].time_unix_seconds, 1003);
    }
  }
  EXPECT_EQ(samples, 20u);
  EXPECT_EQ(batches[0].data.series[0].metric, "volley_requests_total");
  EXPECT_EQ(batches[0].data.series[0].labels, (metrics::Labels{{"i", "100"}}));
}

TEST(Batcher, ExactlyNSeriesMakeOneBatch) {
  Batcher batcher(Config(5));
  EXPECT_EQ(batcher.Cut({Counters(5, 1)}).size(), 1u);
  EXPECT_EQ(batcher.Cut({Counters(6, 1)}).size(), 2u);
  EXPECT_TRUE(batcher.Cut({}).empty());
}

TEST(Batcher, SkipsValuesWithoutData) {
  Batcher batcher(Config(100));
  Bucket b;
  b.start_unix_seconds = 9;
  b.values.Put(metrics::SeriesKey("zero"), metrics::Counter{0});
  b.values.Put(metrics::SeriesKey("idle_gauge"), metrics::Gauge{.last = 3});
  b.values.Put(metrics::SeriesKey("no_rate"), metrics::Rate{});
  b.values.Put(metrics::SeriesKey("no_trend"), metrics::Histogram());
  metrics::Gauge g;
  g.Set(1);
  b.values.Put(metrics::SeriesKey("gauge"), g);
  auto batches = batcher.Cut({b});
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].data.series.size(), 1u);
  EXPECT_EQ(batches[0].data.series[0].metric, "volley_gauge");
  EXPECT_EQ(batches[0].samples, 1u);
}

TEST(Batcher, DropsReservedLabelsWithOneWarningPerKey) {
  Batcher batcher(Config(100));
  Bucket b;
  b.values.Put(metrics::SeriesKey("c", {{"__name__", "x"}, {"test_run_id", "r"}, {"k", "v"}}),
               metrics::Counter{1});
  auto batches = batcher.Cut({b, b});
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].data.series[0].labels, (metrics::Labels{{"k", "v"}}));
  auto warnings = batcher.TakeWarnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("'__name__'"), std::string::npos);
  EXPECT_NE(warnings[1].find("'test_run_id'"), std::string::npos);
  batcher.Cut({b});
  EXPECT_TRUE(batcher.TakeWarnings().empty());
}

TEST(Batcher, EmptyNamespaceMeansNoPrefix) {
  CloudConfig c = Config(10);
  c.metric_namespace = "";
  Batcher batcher(c);
  auto batches = batcher.Cut({Counters(1, 5)});
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].data.series[0].metric, "requests_total");
}

TEST(Batcher, K6NamesConvertDurationsToMillisecondsExactly) {
  Batcher batcher(Config(10, MetricNames::kK6));
  metrics::Histogram h;  // seconds at 1e-6
  h.RecordUnits(6000);   // 6 ms
  h.RecordUnits(7000);   // 7 ms
  Bucket b;
  b.start_unix_seconds = 30;
  b.values.Put(metrics::SeriesKey(names::kDuration, {{"status_code", "200"}}), h);
  b.values.Put(metrics::SeriesKey(names::kRequests, {{"status_code", "200"}}), metrics::Counter{2});
  b.values.Put(metrics::SeriesKey(names::kConcurrentRequests), [] {
    metrics::Gauge g;
    g.Set(3);
    return g;
  }());
  auto batches = batcher.Cut({b});
  ASSERT_EQ(batches.size(), 1u);
  const auto& series = batches[0].data.series;
  ASSERT_EQ(series.size(), 3u);
  // Ordered by wire name.
  EXPECT_EQ(series[0].metric, "http_req_duration");
  EXPECT_EQ(series[0].labels, (metrics::Labels{{"status", "200"}}));
  EXPECT_EQ(series[1].metric, "http_reqs");
  EXPECT_EQ(series[2].metric, "volley_concurrent_requests");
  const auto& ms = std::get<metrics::Histogram>(series[0].values[0].value);
  EXPECT_DOUBLE_EQ(ms.min_resolution(), 1e-3);
  EXPECT_EQ(ms.count(), 2u);
  EXPECT_DOUBLE_EQ(ms.min(), 6.0);
  EXPECT_DOUBLE_EQ(ms.max(), 7.0);
  EXPECT_DOUBLE_EQ(ms.sum(), 13.0);
  // The spec's examples: 6 ms -> index 827, 7 ms -> 858 at resolution 0.001.
  EXPECT_EQ(ms.BucketCount(827), 1u);
  EXPECT_EQ(ms.BucketCount(858), 1u);
}

TEST(Batcher, K6NameTable) {
  EXPECT_STREQ(MapK6Name(names::kRequests), "http_reqs");
  EXPECT_STREQ(MapK6Name(names::kWaiting), "http_req_waiting");
  EXPECT_STREQ(MapK6Name(names::kDataSent), "data_sent");
  EXPECT_EQ(MapK6Name(names::kErrors), nullptr);
}

TEST(Batcher, ATypeChangeBetweenBucketsIsSkippedAndCounted) {
  Batcher batcher(Config(10));
  Bucket a, b;
  a.start_unix_seconds = 0;
  a.values.Put(metrics::SeriesKey("x"), metrics::Counter{1});
  b.start_unix_seconds = 3;
  b.values.Put(metrics::SeriesKey("x"), metrics::Rate{1, 1});
  auto batches = batcher.Cut({a, b});
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].samples, 1u);
  EXPECT_EQ(batcher.type_conflicts(), 1u);
}

}  // namespace
}  // namespace volley::output::cloud
