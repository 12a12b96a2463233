#include "volley/ingest/request.h"

#include <gtest/gtest.h>

namespace volley::ingest {
namespace {

using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::MetricType;
using metrics::Rate;
using wire::k6::MetricSetData;

TEST(IngestRequestTest, NormalizeDropsReservedLabelsAndMergesDuplicates) {
  MetricSetData d;
  d.series.push_back({"",
                      MetricType::kCounter,
                      {{"__name__", "http_reqs"}, {"test_run_id", "r"}, {"method", "GET"}},
                      {{9, Counter{2}}, {6, Counter{1}}}});
  d.series.push_back(
      {"http_reqs", MetricType::kCounter, {{"method", "GET"}, {"__x", "y"}}, {{6, Counter{4}}}});
  Gauge a, b;
  a.Set(5);
  b.Set(1);
  b.Set(2);
  d.series.push_back({"vus", MetricType::kGauge, {}, {{3, a}, {3, b}}});
  auto n = Normalize(d);
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_EQ(n->series.size(), 2u);
  const auto& reqs = n->series[0];
  EXPECT_EQ(reqs.metric, "http_reqs");
  EXPECT_EQ(reqs.labels, (metrics::Labels{{"method", "GET"}}));
  ASSERT_EQ(reqs.values.size(), 2u);
  EXPECT_EQ(reqs.values[0].time_unix_seconds, 6);
  EXPECT_EQ(std::get<Counter>(reqs.values[0].value).value, 5);  // 1 + 4
  EXPECT_EQ(std::get<Counter>(reqs.values[1].value).value, 2);
  const auto& g = std::get<Gauge>(n->series[1].values[0].value);
  EXPECT_EQ(g, (Gauge{2, 1, 5, 8, 3}));  // later value's last, combined min/max/sum/count
}

TEST(IngestRequestTest, NormalizeRejectsConflicts) {
  MetricSetData d;
  d.series.push_back({"m", MetricType::kCounter, {{"a", "1"}}, {}});
  d.series.push_back({"m", MetricType::kRate, {{"a", "2"}}, {}});
  EXPECT_EQ(Normalize(d).error().message, "metric \"m\" is sent as both counter and rate");
  MetricSetData t;
  t.series.push_back({"t", MetricType::kTrend, {}, {{1, Histogram(1e-6)}, {2, Histogram(0.001)}}});
  EXPECT_EQ(Normalize(t).error().message, "trend \"t\" is sent with two histogram resolutions");
  t.series[0].values[1].time_unix_seconds = 1;
  EXPECT_EQ(Normalize(t).error().message, "trend \"t\" is sent with two histogram resolutions");
  MetricSetData unnamed;
  unnamed.series.push_back({"", MetricType::kCounter, {{"a", "1"}}, {}});
  EXPECT_EQ(Normalize(unnamed).error().message, "a time series has no metric name");
}

TEST(IngestRequestTest, V1PointsFollowK6Semantics) {
  const char* body = R"([
    {"type":"Points","metric":"iter_li_all","data":{"time":"3000001","type":"counter",
      "tags":{"s":"1"},"values":{"data_sent":10,"iteration_duration":250,"iterations":1}}},
    {"type":"Points","metric":"iter_li_all","data":{"time":"3999999","type":"counter",
      "tags":{"s":"1"},"values":{"data_sent":5,"iteration_duration":150,"iterations":1}}},
    {"type":"Point","metric":"checks","data":{"time":"3000000","type":"rate","value":1}},
    {"type":"Point","metric":"checks","data":{"time":"3000000","type":"rate","value":0}},
    {"type":"Point","metric":"request_duration_seconds","data":{"time":"4000000","type":"trend","value":0.25}}
  ])";
  auto d = DecodeV1Body(body, {});
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->series.size(), 5u);
  EXPECT_EQ(d->series[0].metric, "checks");
  EXPECT_EQ(std::get<Rate>(d->series[0].values[0].value), (Rate{1, 2}));
  EXPECT_EQ(d->series[1].metric, "data_sent");
  ASSERT_EQ(d->series[1].values.size(), 1u);  // both samples are in second 3
  EXPECT_EQ(d->series[1].values[0].time_unix_seconds, 3);
  EXPECT_EQ(std::get<Counter>(d->series[1].values[0].value).value, 15);
  EXPECT_EQ(d->series[2].metric, "iteration_duration");  // a trend although data.type is counter
  const auto& it = std::get<Histogram>(d->series[2].values[0].value);
  EXPECT_EQ(it.count(), 2u);
  EXPECT_EQ(it.min_resolution(), 0.001);  // k6's milliseconds
  EXPECT_EQ(it.sum(), 400);
  EXPECT_EQ(std::get<Counter>(d->series[3].values[0].value).value, 2);  // iterations
  EXPECT_EQ(std::get<Histogram>(d->series[4].values[0].value).min_resolution(), 1e-6);
}

TEST(IngestRequestTest, V1AggregatesKeepCountMinMaxSum) {
  const char* body = R"([
    {"type":"AggregatedPoints","metric":"http_req_li_all","data":{"time":"5000000",
      "type":"aggregated_trend","count":10,"tags":{},
      "values":{"http_req_duration":{"min":2,"max":50,"avg":11}}}},
    {"type":"AggregatedPoints","metric":"r","data":{"time":"5000000",
      "type":"aggregated_rate","count":7,"values":{"checks":{"min":0,"max":1,"avg":0.42857142857142855}}}}
  ])";
  auto d = DecodeV1Body(body, {});
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->series.size(), 2u);
  EXPECT_EQ(std::get<Rate>(d->series[0].values[0].value), (Rate{3, 7}));
  const auto& h = std::get<Histogram>(d->series[1].values[0].value);
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.min(), 2);
  EXPECT_EQ(h.max(), 50);
  EXPECT_EQ(h.sum(), 110);
  EXPECT_EQ(h.Percentile(0), 2);
  EXPECT_EQ(h.Percentile(100), 50);
}

TEST(IngestRequestTest, V2BodyErrorsComeFromEachLayer) {
  EXPECT_EQ(DecodeV2Body("not snappy at all", {}).error().message,
            "snappy: the body is corrupt (block does not decode)");
  const std::string garbage = wire::k6::SnappyCompress("\x1a\x05\x0a\x03");
  EXPECT_EQ(DecodeV2Body(garbage, {}).error().message,
            "protobuf: the body is not a valid metrics.MetricSet (broken wire format)");
  BodyLimits small;
  small.max_decompressed = 10;
  EXPECT_EQ(DecodeV2Body(wire::k6::SnappyCompress(std::string(11, 'x')), small).error().message,
            "snappy: the body would uncompress to 11 bytes, over the limit of 10");
}

}  // namespace
}  // namespace volley::ingest
