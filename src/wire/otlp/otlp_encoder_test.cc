#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "volley/wire/otlp_metrics.h"

namespace volley::wire {
namespace {

namespace pb = opentelemetry::proto::metrics::v1;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

ExportMetricsServiceRequest Decode(const std::string& bytes) {
  ExportMetricsServiceRequest r;
  EXPECT_TRUE(r.ParseFromString(bytes));
  return r;
}

const pb::Metric* FindMetric(const ExportMetricsServiceRequest& r, const std::string& name) {
  for (const auto& m : r.resource_metrics(0).scope_metrics(0).metrics()) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

template <class Point>
std::map<std::string, std::string> Attrs(const Point& p) {
  std::map<std::string, std::string> out;
  for (const auto& kv : p.attributes()) out[kv.key()] = kv.value().string_value();
  return out;
}

OtlpEncodeOptions Options() {
  OtlpEncodeOptions o;
  o.start_unix_nanos = 1'700'000'000'000'000'000ULL;
  o.time_unix_nanos = 1'700'000'010'000'000'000ULL;
  o.histogram_bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};
  return o;
}

TEST(OtlpEncoder, CountersAreExactCumulativeMonotonicSums) {
  metrics::Snapshot s;
  s.Put({"requests_total", {{"status_code", "200"}}}, metrics::Counter{9007199254740991.0});
  s.Put({"requests_total", {{"status_code", "503"}}}, metrics::Counter{17});
  const auto r = Decode(EncodeOtlpMetrics(s, Options()));
  const pb::Metric* m = FindMetric(r, "volley_requests_total");
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->has_sum());
  EXPECT_TRUE(m->sum().is_monotonic());
  EXPECT_EQ(m->sum().aggregation_temporality(), pb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(m->sum().data_points_size(), 2);
  EXPECT_EQ(m->sum().data_points(0).as_double(), 9007199254740991.0);
  EXPECT_EQ(m->sum().data_points(1).as_double(), 17.0);
  EXPECT_EQ(m->sum().data_points(0).start_time_unix_nano(), 1'700'000'000'000'000'000ULL);
  EXPECT_EQ(m->sum().data_points(0).time_unix_nano(), 1'700'000'010'000'000'000ULL);
  EXPECT_EQ(Attrs(m->sum().data_points(1)).at("status_code"), "503");
}

TEST(OtlpEncoder, GaugeIsLastValueWithoutStartTime) {
  metrics::Snapshot s;
  metrics::Gauge g;
  g.Set(7);
  g.Set(3);
  s.Put({"concurrent_requests"}, g);
  const auto r = Decode(EncodeOtlpMetrics(s, Options()));
  const pb::Metric* m = FindMetric(r, "volley_concurrent_requests");
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->has_gauge());
  ASSERT_EQ(m->gauge().data_points_size(), 1);
  EXPECT_EQ(m->gauge().data_points(0).as_double(), 3.0);
  EXPECT_EQ(m->gauge().data_points(0).start_time_unix_nano(), 0u);
}

TEST(OtlpEncoder, RateBecomesTwoSums) {
  metrics::Snapshot s;
  s.Put({"checks_total"}, metrics::Rate{.nonzero = 4, .total = 10});
  const auto r = Decode(EncodeOtlpMetrics(s, Options()));
  const pb::Metric* total = FindMetric(r, "volley_checks_total");
  const pb::Metric* nonzero = FindMetric(r, "volley_checks_nonzero_total");
  ASSERT_NE(total, nullptr);
  ASSERT_NE(nonzero, nullptr);
  EXPECT_EQ(total->sum().data_points(0).as_double(), 10.0);
  EXPECT_EQ(nonzero->sum().data_points(0).as_double(), 4.0);
  EXPECT_TRUE(nonzero->sum().is_monotonic());
}

TEST(OtlpEncoder, HistogramCountSumMinMaxExactAndBucketsAddUp) {
  metrics::Histogram h;
  uint64_t n = 0;
  uint64_t sum_us = 0;
  // 1 µs .. 2 s, spread over every bound, including values right at and next to bounds.
  for (uint64_t us = 1; us <= 2'000'000; us = us * 3 / 2 + 1) {
    h.RecordUnits(us);
    ++n;
    sum_us += us;
  }
  for (uint64_t us : {1000u, 1001u, 2500u, 5000u, 4999u, 100000u}) {
    h.RecordUnits(us);
    ++n;
    sum_us += us;
  }
  metrics::Snapshot s;
  s.Put({"request_duration_seconds"}, h);
  const auto r = Decode(EncodeOtlpMetrics(s, Options()));
  const pb::Metric* m = FindMetric(r, "volley_request_duration_seconds");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->unit(), "s");
  ASSERT_TRUE(m->has_histogram());
  EXPECT_EQ(m->histogram().aggregation_temporality(), pb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  const pb::HistogramDataPoint& p = m->histogram().data_points(0);
  EXPECT_EQ(p.count(), n);
  EXPECT_EQ(p.sum(), h.sum());
  EXPECT_DOUBLE_EQ(p.sum(), static_cast<double>(sum_us) * 1e-6);
  EXPECT_EQ(p.min(), 1e-6);
  EXPECT_EQ(p.max(), h.max());
  ASSERT_EQ(p.explicit_bounds_size(), 10);
  ASSERT_EQ(p.bucket_counts_size(), 11);
  const uint64_t total =
      std::accumulate(p.bucket_counts().begin(), p.bucket_counts().end(), uint64_t{0});
  EXPECT_EQ(total, n);
  // 1 ms = 1000 µs lies in the fine bucket [1000, 1003] µs, which straddles the bound
  // 0.001 (it ends above it), so 1000 µs is counted above the bound: the first bucket holds
  // exactly the samples below 1000 µs.
  uint64_t below_1ms = 0;
  for (uint64_t us = 1; us <= 2'000'000; us = us * 3 / 2 + 1) below_1ms += us < 1000 ? 1 : 0;
  EXPECT_EQ(p.bucket_counts(0), below_1ms);
  // The last bucket (> 1 s) holds the values above 1 s, plus those of the fine bucket
  // straddling 1 s ([999424, 1003519] µs), and nothing else.
  uint64_t above_1s = 0, straddling = 0;
  for (uint64_t us = 1; us <= 2'000'000; us = us * 3 / 2 + 1) {
    above_1s += us > 1'000'000 ? 1 : 0;
    straddling += us >= 999'424 && us <= 1'000'000 ? 1 : 0;
  }
  EXPECT_EQ(p.bucket_counts(10), above_1s + straddling);
}

TEST(OtlpEncoder, BucketCountsMatchCountAtOrBelowDifferences) {
  metrics::Histogram h;
  for (uint64_t us = 1; us < 300'000; us += 37) h.RecordUnits(us);
  const std::vector<double> bounds = {0.001, 0.01, 0.1};
  const auto counts = OtlpBucketCounts(h, bounds);
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_EQ(counts[0], h.CountAtOrBelow(0.001));
  EXPECT_EQ(counts[1], h.CountAtOrBelow(0.01) - h.CountAtOrBelow(0.001));
  EXPECT_EQ(counts[2], h.CountAtOrBelow(0.1) - h.CountAtOrBelow(0.01));
  EXPECT_EQ(counts[3], h.count() - h.CountAtOrBelow(0.1));
  EXPECT_EQ(counts[0] + counts[1] + counts[2] + counts[3], h.count());
}

TEST(OtlpEncoder, NegativeSamplesLeaveSumUnsetAndEmptyHistogramIsValid) {
  metrics::Histogram neg;
  neg.Record(-1.5);
  neg.Record(0.5);
  metrics::Snapshot s;
  s.Put({"a_seconds"}, neg);
  s.Put({"b_seconds"}, metrics::Histogram());
  const auto r = Decode(EncodeOtlpMetrics(s, Options()));
  const auto& a = FindMetric(r, "volley_a_seconds")->histogram().data_points(0);
  EXPECT_FALSE(a.has_sum());
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.min(), -1.5);
  const auto& b = FindMetric(r, "volley_b_seconds")->histogram().data_points(0);
  EXPECT_EQ(b.count(), 0u);
  EXPECT_FALSE(b.has_min());
  EXPECT_EQ(std::accumulate(b.bucket_counts().begin(), b.bucket_counts().end(), uint64_t{0}), 0u);
}

TEST(OtlpEncoder, AttributesResourceAndScope) {
  metrics::Snapshot s;
  s.Put({"requests_total", {{"region", "series-own"}, {"status_code", "200"}}},
        metrics::Counter{1});
  OtlpEncodeOptions o = Options();
  o.resource_attributes = {
      {"service.name", "volley"}, {"service.instance.id", "n1"}, {"service.name", "dup"}};
  o.point_attributes = {{"run_id", "r1"}, {"node_id", "n1"}, {"region", "eu"}};
  const auto r = Decode(EncodeOtlpMetrics(s, o));
  const auto& res = r.resource_metrics(0).resource();
  ASSERT_EQ(res.attributes_size(), 2);
  EXPECT_EQ(res.attributes(0).key(), "service.name");
  EXPECT_EQ(res.attributes(0).value().string_value(), "volley");
  EXPECT_EQ(r.resource_metrics(0).scope_metrics(0).scope().name(), "volley");
  const auto attrs = Attrs(FindMetric(r, "volley_requests_total")->sum().data_points(0));
  EXPECT_EQ(attrs.size(), 4u);
  EXPECT_EQ(attrs.at("region"), "series-own");  // the series' own label wins
  EXPECT_EQ(attrs.at("run_id"), "r1");
  EXPECT_EQ(attrs.at("node_id"), "n1");
  EXPECT_EQ(attrs.at("status_code"), "200");
}

TEST(OtlpEncoder, TypeClashKeepsFirstKindAndEmptyNamespace) {
  metrics::Snapshot s;
  s.Put({"x", {{"a", "1"}}}, metrics::Counter{1});
  s.Put({"x", {{"a", "2"}}}, metrics::Gauge{});
  OtlpEncodeOptions o = Options();
  o.ns = "";
  const auto r = Decode(EncodeOtlpMetrics(s, o));
  ASSERT_EQ(r.resource_metrics(0).scope_metrics(0).metrics_size(), 1);
  const pb::Metric* m = FindMetric(r, "x");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->sum().data_points_size(), 1);
}

TEST(OtlpEncoder, EmptySnapshotIsAValidRequest) {
  const auto r = Decode(EncodeOtlpMetrics(metrics::Snapshot(), Options()));
  ASSERT_EQ(r.resource_metrics_size(), 1);
  EXPECT_EQ(r.resource_metrics(0).scope_metrics(0).metrics_size(), 0);
}

TEST(OtlpEncoder, NormalizeBounds) {
  EXPECT_EQ(NormalizeBounds({5, 1, NAN, 1, INFINITY, -2}), (std::vector<double>{-2, 1, 5}));
}

}  // namespace
}  // namespace volley::wire
