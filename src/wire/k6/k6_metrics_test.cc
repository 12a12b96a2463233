#include "volley/wire/k6_metrics.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

#include "metrics.pb.h"

namespace volley::wire::k6 {
namespace {

using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::MetricType;
using metrics::Rate;

Histogram Trend(std::initializer_list<double> values, double res = 1e-6) {
  Histogram h(res);
  for (double v : values) h.Record(v);
  return h;
}

MetricSetData Sample() {
  MetricSetData d;
  d.test_run_id = "run-1";
  d.aggregation_period_seconds = 3;
  d.series.push_back({"requests_total",
                      MetricType::kCounter,
                      {{"status_code", "200"}},
                      {{1700000000, Counter{42}}, {1700000003, Counter{7.5}}}});
  Gauge g;
  g.Set(4);
  g.Set(1);
  g.Set(10);
  d.series.push_back({"concurrent_requests",
                      MetricType::kGauge,
                      {},
                      {{1700000000, g}, {1700000003, Gauge{.last = 10}}}});
  d.series.push_back({"checks", MetricType::kRate, {{"check", "ok"}}, {{1700000000, Rate{3, 10}}}});
  d.series.push_back(
      {"request_duration_seconds",
       MetricType::kTrend,
       {{"a", "1"}, {"b", "2"}},
       {{1700000000, Trend({0.001, 0.002, 0.5, -1, 3e40})}, {1700000003, Histogram(1e-6)}}});
  // A second series of a metric name already seen shares its Metric message.
  d.series.push_back({"requests_total",
                      MetricType::kCounter,
                      {{"status_code", "503"}},
                      {{1700000000, Counter{1}}}});
  return d;
}

TEST(K6MetricsTest, RoundTripsEveryMetricType) {
  const MetricSetData d = Sample();
  const std::string bytes = EncodeMetricSet(d);
  auto back = DecodeMetricSet(bytes);
  ASSERT_TRUE(back) << back.error().message;
  // Series come back grouped by metric: requests_total's two series first.
  ASSERT_EQ(back->series.size(), 5u);
  EXPECT_EQ(back->test_run_id, "run-1");
  EXPECT_EQ(back->aggregation_period_seconds, 3u);
  EXPECT_EQ(back->series[0], d.series[0]);
  EXPECT_EQ(back->series[1], d.series[4]);
  EXPECT_EQ(back->series[2], d.series[1]);  // gauge: avg 5 * count 3 = sum 15 exactly
  EXPECT_EQ(back->series[3], d.series[2]);
  EXPECT_EQ(back->series[4], d.series[3]);  // Record()ed histograms compare exactly
  const auto& h = std::get<Histogram>(back->series[4].values[0].value);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.extra_low(), 1u);
  EXPECT_EQ(h.extra_high(), 1u);
  EXPECT_EQ(h.min(), -1);
  EXPECT_EQ(h.max(), 3e40);
  EXPECT_EQ(std::get<Histogram>(back->series[4].values[1].value).count(), 0u);
}

TEST(K6MetricsTest, EncodesEmptyHistogramAsK6DoesAndSkipsMismatchedValues) {
  MetricSetData d;
  d.series.push_back({"t", MetricType::kTrend, {}, {{5, Histogram(1e-6)}, {6, Counter{1}}}});
  ::metrics::MetricSet set;
  ASSERT_TRUE(set.ParseFromString(EncodeMetricSet(d)));
  const auto& values = set.metrics(0).time_series(0).trend_hdr_samples().values();
  ASSERT_EQ(values.size(), 1);  // the counter value was skipped
  EXPECT_EQ(values[0].min_value(), DBL_MAX);
  EXPECT_EQ(values[0].max_value(), -DBL_MAX);
  EXPECT_EQ(values[0].count(), 0u);
  EXPECT_EQ(values[0].min_resolution(), 1e-6);
  EXPECT_EQ(values[0].time().seconds(), 5);
  EXPECT_EQ(set.metrics(0).type(), ::metrics::METRIC_TYPE_TREND);
}

// volley's engine records with RecordUnits; the wire rebuilds the double form, so compare
// what a reader sees: buckets, count, min, max, sum and percentiles.
void ExpectSameDistribution(const Histogram& a, const Histogram& b) {
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  EXPECT_DOUBLE_EQ(a.sum(), b.sum());
  for (uint32_t i = 0; i <= Histogram::kMaxIndex; ++i)
    ASSERT_EQ(a.BucketCount(i), b.BucketCount(i));
  for (double q : {50.0, 90.0, 95.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(q), b.Percentile(q));
}

TEST(K6MetricsTest, RandomHistogramsMergeEqualAfterRoundTrip) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(10, 1.5);
  Histogram merged_local(1e-6), merged_remote(1e-6);
  MetricSetData d;
  d.series.push_back({"request_duration_seconds", MetricType::kTrend, {}, {}});
  for (int b = 0; b < 20; ++b) {
    Histogram h(1e-6);
    for (int i = 0; i < 500; ++i) h.RecordUnits(static_cast<uint64_t>(dist(rng)));
    merged_local.Merge(h);
    d.series[0].values.push_back({1700000000 + 3 * b, std::move(h)});
  }
  auto back =
      DecodeMetricSet(SnappyUncompress(SnappyCompress(EncodeMetricSet(d)), 1 << 24).value());
  ASSERT_TRUE(back) << back.error().message;
  for (const auto& v : back->series[0].values) {
    ASSERT_TRUE(merged_remote.Merge(std::get<Histogram>(v.value)));
  }
  ExpectSameDistribution(merged_local, merged_remote);
  EXPECT_EQ(merged_remote.count(), 10000u);
}

// Encodes a hand-made message and returns the decode error ("ok" if it decodes).
std::string DecodeError(const ::metrics::MetricSet& set, const DecodeLimits& limits = {}) {
  auto r = DecodeMetricSet(set.SerializeAsString(), limits);
  return r ? "ok" : r.error().message;
}

::metrics::TrendHdrValue* AddTrend(::metrics::MetricSet* set) {
  auto* m = set->add_metrics();
  m->set_name("lat");
  m->set_type(::metrics::METRIC_TYPE_TREND);
  auto* v = m->add_time_series()->mutable_trend_hdr_samples()->add_values();
  v->mutable_time()->set_seconds(100);
  v->set_min_resolution(1.0);
  v->add_counters(2);
  auto* span = v->add_spans();
  span->set_offset(7);
  span->set_length(1);
  v->set_count(2);
  v->set_min_value(7);
  v->set_max_value(7);
  v->set_sum(14);
  return v;
}

TEST(K6MetricsTest, RejectsInvalidMessagesNamingTheField) {
  ::metrics::MetricSet ok;
  AddTrend(&ok);
  EXPECT_EQ(DecodeError(ok), "ok");

  ::metrics::MetricSet s = ok;
  s.mutable_metrics(0)->set_type(::metrics::METRIC_TYPE_UNSPECIFIED);
  EXPECT_EQ(
      DecodeError(s),
      "metrics[0] \"lat\": type 0 is not a metric type (1 counter, 2 gauge, 3 rate, 4 trend)");
  s.mutable_metrics(0)->set_type(static_cast<::metrics::MetricType>(9));
  EXPECT_NE(DecodeError(s).find("type 9 is not a metric type"), std::string::npos);

  s = ok;
  s.mutable_metrics(0)->set_type(::metrics::METRIC_TYPE_COUNTER);
  EXPECT_EQ(
      DecodeError(s),
      "metrics[0] \"lat\" time_series[0]: carries trend samples, but the metric is a counter");
  s = ok;
  s.mutable_metrics(0)->add_time_series();
  EXPECT_EQ(DecodeError(s),
            "metrics[0] \"lat\" time_series[1]: carries none samples, but the metric is a trend");

  auto with = [&](auto change) {
    ::metrics::MetricSet m = ok;
    change(
        m.mutable_metrics(0)->mutable_time_series(0)->mutable_trend_hdr_samples()->mutable_values(
            0));
    return DecodeError(m);
  };
  const std::string at = "metrics[0] \"lat\" time_series[0] values[0]: ";
  EXPECT_EQ(with([](auto* v) { v->set_count(3); }),
            at + "trend count 3 does not match its buckets (2 samples)");
  EXPECT_EQ(with([](auto* v) { v->add_counters(1); }),
            at + "trend spans: the spans cover 1 buckets but there are 2 counters");
  EXPECT_EQ(with([](auto* v) { v->mutable_spans(0)->set_offset(9000); }),
            at + "trend spans[0]: bucket index 9000 is beyond the largest (7423)");
  EXPECT_EQ(with([](auto* v) { v->set_min_resolution(0); }),
            at + "trend min_resolution must be finite and > 0, got 0");
  EXPECT_EQ(with([](auto* v) { v->set_min_value(8); }),
            at + "trend min_value 8 is above max_value 7");
  EXPECT_EQ(with([](auto* v) { v->set_sum(NAN); }), at + "trend sum/min/max holds NaN");
  EXPECT_EQ(with([](auto* v) { v->clear_time(); }), at + "time is missing");
  EXPECT_EQ(with([](auto* v) { v->mutable_time()->set_nanos(-1); }),
            at + "time is not a valid Timestamp (seconds 100, nanos -1)");
  EXPECT_EQ(with([](auto* v) { v->set_extra_low_values_counter(1); }),
            at + "trend count 2 does not match its buckets (3 samples)");
  // k6's empty histogram: count 0, min +DBL_MAX, max -DBL_MAX, and volley's 0/0 too.
  EXPECT_EQ(with([](auto* v) {
              v->clear_counters();
              v->clear_spans();
              v->set_count(0);
              v->set_min_value(DBL_MAX);
              v->set_max_value(-DBL_MAX);
            }),
            "ok");

  ::metrics::MetricSet r;
  auto* rm = r.add_metrics();
  rm->set_name("checks");
  rm->set_type(::metrics::METRIC_TYPE_RATE);
  auto* rv = rm->add_time_series()->mutable_rate_samples()->add_values();
  rv->mutable_time()->set_seconds(1);
  rv->set_nonzero_count(5);
  rv->set_total_count(4);
  EXPECT_EQ(DecodeError(r),
            "metrics[0] \"checks\" time_series[0] values[0]: rate nonzero_count 5 is above "
            "total_count 4");

  ::metrics::MetricSet c;
  auto* cm = c.add_metrics();
  cm->set_name("n");
  cm->set_type(::metrics::METRIC_TYPE_COUNTER);
  auto* cv = cm->add_time_series()->mutable_counter_samples()->add_values();
  cv->mutable_time()->set_seconds(1);
  cv->set_value(INFINITY);
  EXPECT_EQ(DecodeError(c), "metrics[0] \"n\" time_series[0] values[0]: counter value is inf");

  ::metrics::MetricSet g;
  auto* gm = g.add_metrics();
  gm->set_name("vus");
  gm->set_type(::metrics::METRIC_TYPE_GAUGE);
  auto* gv = gm->add_time_series()->mutable_gauge_samples()->add_values();
  gv->mutable_time()->set_seconds(1);
  gv->set_count(2);
  gv->set_min(3);
  gv->set_max(1);
  EXPECT_EQ(DecodeError(g),
            "metrics[0] \"vus\" time_series[0] values[0]: gauge min 3 is above max 1");
}

TEST(K6MetricsTest, RejectsGarbageAndEnforcesLimits) {
  auto garbage = DecodeMetricSet(std::string("\x1a\x05\x0a\x03", 4));
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::kProtocol);
  EXPECT_EQ(garbage.error().message,
            "protobuf: the body is not a valid metrics.MetricSet (broken wire format)");

  ::metrics::MetricSet many;
  for (int i = 0; i < 3; ++i) AddTrend(&many);
  EXPECT_EQ(DecodeError(many, {.max_series = 2}),
            "metrics[2] \"lat\": more than 2 time series in the body (limit max_series)");
  EXPECT_EQ(DecodeError(many, {.max_values = 2}),
            "metrics[2] \"lat\" time_series[0]: more than 2 values in the body (limit max_values)");
  // Each AddTrend builds 5 messages (Metric, TimeSeries, samples, value, Timestamp) + span.
  EXPECT_EQ(DecodeError(many, {.max_messages = 17}),
            "protobuf: more than 17 messages in the body (limit max_messages)");
  EXPECT_EQ(DecodeError(many, {.max_messages = 18}), "ok");
  // Buckets 0..7 of three histograms: 8 dense buckets each.
  EXPECT_EQ(DecodeError(many, {.max_histogram_buckets = 23}),
            "metrics[2] \"lat\" time_series[0] values[0]: histograms need more than 23 buckets in "
            "all (limit max_histogram_buckets)");
  ::metrics::MetricSet labels;
  AddTrend(&labels);
  for (int i = 0; i < 3; ++i) labels.mutable_metrics(0)->mutable_time_series(0)->add_labels();
  EXPECT_EQ(DecodeError(labels, {.max_labels_per_series = 2}),
            "metrics[0] \"lat\" time_series[0]: 3 labels, more than the limit of 2");
}

TEST(K6MetricsTest, UnknownFieldsAreIgnoredAndEmptyBodyIsEmptySet) {
  ::metrics::MetricSet ok;
  AddTrend(&ok);
  std::string bytes = ok.SerializeAsString() + std::string("\xa0\x06\x01", 3);  // field 100
  auto r = DecodeMetricSet(bytes);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->series.size(), 1u);
  auto empty = DecodeMetricSet("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->series.empty());
}

}  // namespace
}  // namespace volley::wire::k6
