#include "volley/wire/volley_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "volley/metrics/names.h"
#include "volley/v1/metrics.pb.h"

namespace volley::wire::node {
namespace {

using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::Rate;
using metrics::SeriesKey;
using metrics::Snapshot;

BatchIdentity Id(uint64_t seq = 7) {
  return BatchIdentity{.node_id = "n1",
                       .region = "eu",
                       .run_id = "r1",
                       .seq = seq,
                       .sent_unix_nanos = 1'700'000'000'123'456'789,
                       .final = false};
}

// A snapshot drawn from `rng`: every metric type, labels, histograms recorded both ways
// (units and doubles, with extra-low and extra-high samples), empty values too.
Snapshot RandomSnapshot(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> small(0, 4);
  Snapshot s;
  const int series = std::uniform_int_distribution<int>(0, 40)(rng);
  for (int i = 0; i < series; ++i) {
    metrics::Labels labels;
    for (int l = small(rng); l > 0; --l) {
      labels.emplace_back("k" + std::to_string(small(rng)), "v\"\n" + std::to_string(rng() % 100));
    }
    SeriesKey key("m" + std::to_string(rng() % 8), std::move(labels));
    switch (rng() % 4) {
      case 0:
        s.Put(key, Counter{static_cast<double>(rng() % 1'000'000) / (1 + rng() % 3)});
        break;
      case 1: {
        Gauge g;
        for (int k = small(rng); k > 0; --k) g.Set(static_cast<double>(rng() % 2001) - 1000.5);
        if (rng() % 4 == 0) g.ResetPeriod();
        s.Put(key, g);
        break;
      }
      case 2: {
        const uint64_t total = rng() % 100'000;
        s.Put(key, Rate{total == 0 ? 0 : rng() % (total + 1), total});
        break;
      }
      default: {
        Histogram h(rng() % 2 == 0 ? 1e-6 : 0.001);
        const int n = std::uniform_int_distribution<int>(0, 3000)(rng);
        std::lognormal_distribution<double> latency(8, 2);
        for (int k = 0; k < n; ++k) {
          const double units = latency(rng);
          if (rng() % 3 == 0) {
            h.Record(units * h.min_resolution());
          } else {
            h.RecordUnits(units < 1.8e19 ? static_cast<uint64_t>(units) : UINT64_MAX);
          }
        }
        if (rng() % 5 == 0) h.Record(-0.25);
        if (rng() % 5 == 0) h.Record(1e300);
        if (rng() % 7 == 0) h.RecordUnits(UINT64_MAX);
        s.Put(key, h);
      }
    }
  }
  return s;
}

TEST(VolleyMetricsWire, RoundTripIsExactForRandomSnapshots) {
  std::mt19937_64 rng(20261203);
  for (int iteration = 0; iteration < 300; ++iteration) {
    MetricsBatch batch{Id(static_cast<uint64_t>(iteration)), RandomSnapshot(rng)};
    batch.id.final = iteration % 2 == 1;
    auto bytes = EncodeMetricsBatch(batch);
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto decoded = DecodeMetricsBatch(*bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    ASSERT_EQ(decoded->id, batch.id);
    ASSERT_EQ(decoded->snapshot, batch.snapshot) << "iteration " << iteration;
    // And it encodes to the same bytes again (canonical form).
    auto again = EncodeMetricsBatch(*decoded);
    ASSERT_TRUE(again);
    ASSERT_EQ(*again, *bytes);
  }
}

TEST(VolleyMetricsWire, HistogramBucketsTravelWithTheirOwnIndexes) {
  Histogram h;
  for (uint64_t u : std::vector<uint64_t>{0, 1, 2, 255, 256, 257, 100'000, UINT64_MAX})
    h.RecordUnits(u);
  Snapshot s;
  s.Put(SeriesKey(metrics::names::kDuration), h);
  auto bytes = EncodeMetricsBatch({Id(), s});
  ASSERT_TRUE(bytes);
  ::volley::v1::MetricsBatch pb;
  ASSERT_TRUE(pb.ParseFromString(*bytes));
  const auto& t = pb.series(0).trend();
  // Runs: [0,3) then gap 252 -> [255,257) (256 and 257 share bucket 256), then 100000's
  // bucket, then the last bucket.
  const uint32_t i100k = Histogram::BucketIndex(100'000);
  const std::vector<uint32_t> spans(t.spans().begin(), t.spans().end());
  EXPECT_EQ(spans, (std::vector<uint32_t>{0, 3, 252, 2, i100k - 257, 1,
                                          Histogram::kMaxIndex - i100k - 1, 1}));
  EXPECT_EQ(t.counts_size(), 7);
  EXPECT_EQ(t.min_units(), 0u);
  EXPECT_EQ(t.max_units(), UINT64_MAX);
  EXPECT_FALSE(t.has_min_double());
  auto back = DecodeMetricsBatch(*bytes);
  ASSERT_TRUE(back) << back.error().message;
  const Histogram* got = back->snapshot.FindTrend(metrics::names::kDuration);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, h);
  EXPECT_EQ(got->Percentile(50), h.Percentile(50));
}

TEST(VolleyMetricsWire, EmptyValuesRoundTrip) {
  Snapshot s;
  s.Put(SeriesKey("c"), Counter{});
  s.Put(SeriesKey("g"), Gauge{});
  s.Put(SeriesKey("g2"), Gauge{.last = -3});
  s.Put(SeriesKey("r"), Rate{});
  s.Put(SeriesKey("t"), Histogram(0.5));
  MetricsBatch b{Id(0), s};
  auto bytes = EncodeMetricsBatch(b);
  ASSERT_TRUE(bytes);
  auto back = DecodeMetricsBatch(*bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, b);
}

TEST(VolleyMetricsWire, EncoderRefusesWhatCannotTravelNamingTheSeries) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  auto refuse = [](metrics::MetricValue v) {
    Snapshot s;
    s.Put(SeriesKey("requests_total", {{"url", "/a"}}), std::move(v));
    auto r = EncodeMetricsBatch({Id(), s});
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(refuse(Counter{nan}),
            "metrics batch: cannot encode series[0] \"requests_total\": counter value nan is not "
            "finite and >= 0 (fix the value at its source; the leader would refuse the batch)");
  EXPECT_NE(refuse(Counter{-1}).find("counter value -1 is not finite and >= 0"), std::string::npos);
  EXPECT_NE(refuse(Counter{inf}).find("counter value inf"), std::string::npos);
  Gauge g;
  g.Set(inf);
  EXPECT_NE(refuse(g).find("gauge last value inf is not finite"), std::string::npos);
  EXPECT_NE(refuse(Rate{3, 2}).find("rate nonzero 3 is above total 2"), std::string::npos);
  Histogram h;
  h.Record(inf);
  EXPECT_NE(refuse(h).find("trend min/max/sum must be finite"), std::string::npos);
  Histogram hn;
  hn.Record(1);
  hn.Record(-inf);
  EXPECT_NE(refuse(hn).find("must be finite"), std::string::npos);

  auto bad_id =
      EncodeMetricsBatch({BatchIdentity{.node_id = "n", .region = "", .run_id = "r"}, {}});
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_id.error().message.find("region is empty"), std::string::npos);
}

// --- Hostile input ----------------------------------------------------------------------

::volley::v1::MetricsBatch GoodMessage() {
  ::volley::v1::MetricsBatch m;
  m.set_node_id("n1");
  m.set_region("eu");
  m.set_run_id("r1");
  m.set_seq(3);
  auto* s = m.add_series();
  s->set_name("request_duration_seconds");
  auto* t = s->mutable_trend();
  t->set_resolution(1e-6);
  for (uint32_t x : {300u, 2u}) t->add_spans(x);
  for (uint64_t c : {5u, 6u}) t->add_counts(c);
  t->set_min_double(0.0003);
  t->set_max_double(0.000302);
  t->set_sum_double(0.0033);
  return m;
}

std::string Refusal(const ::volley::v1::MetricsBatch& m, const Limits& limits = {}) {
  auto r = DecodeMetricsBatch(m.SerializeAsString(), limits);
  if (r) return "accepted";
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  return r.error().message;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(VolleyMetricsWireHostile, TheGoodMessageIsAccepted) {
  auto r = DecodeMetricsBatch(GoodMessage().SerializeAsString());
  ASSERT_TRUE(r) << r.error().message;
  const Histogram* h = r->snapshot.FindTrend("request_duration_seconds");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count(), 11u);
  EXPECT_EQ(h->BucketCount(300), 5u);
  EXPECT_EQ(h->BucketCount(301), 6u);
}

TEST(VolleyMetricsWireHostile, BucketsOutsideTheIndexSpaceOrMalformedAreRefused) {
  auto m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_spans(0, Histogram::kMaxIndex);
  EXPECT_EQ(Refusal(m),
            "metrics batch refused: series[0] \"request_duration_seconds\": trend bucket index "
            "7424 is above 7423 (Histogram::kMaxIndex)");
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_spans(0, 4'000'000'000u);
  EXPECT_TRUE(Contains(Refusal(m), "trend bucket index 4000000001 is above 7423"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->add_spans(5);
  EXPECT_TRUE(Contains(Refusal(m), "not (gap, length) pairs"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->add_counts(1);
  EXPECT_TRUE(Contains(Refusal(m), "trend has 3 counts for 2 buckets"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_spans(1, 3);
  EXPECT_TRUE(Contains(Refusal(m), "more buckets than the 2 counts"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_counts(1, 0);
  EXPECT_TRUE(Contains(Refusal(m), "trend bucket 301 has count 0"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_counts(0, UINT64_MAX);
  EXPECT_TRUE(Contains(Refusal(m), "overflows 64 bits"));
  m = GoodMessage();
  for (uint32_t x : {0u, 1u}) m.mutable_series(0)->mutable_trend()->add_spans(x);
  m.mutable_series(0)->mutable_trend()->add_counts(1);
  EXPECT_TRUE(Contains(Refusal(m), "touches the previous one"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_resolution(-1);
  EXPECT_TRUE(Contains(Refusal(m), "resolution must be finite and > 0, got -1"));
  m = GoodMessage();
  Limits small;
  small.max_histogram_buckets = 301;
  EXPECT_TRUE(Contains(Refusal(m, small), "limit max_histogram_buckets"));
}

TEST(VolleyMetricsWireHostile, NanInfinitiesAndImpossibleCountsAreRefused) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  auto m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_sum_double(nan);
  EXPECT_TRUE(Contains(Refusal(m), "trend min/max/sum must be finite"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_max_double(inf);
  EXPECT_TRUE(Contains(Refusal(m), "must be finite"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_min_double(1);
  EXPECT_TRUE(Contains(Refusal(m), "trend min 1 is above max"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->clear_max_double();
  EXPECT_TRUE(Contains(Refusal(m), "a min without its max"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_min_units(10);
  m.mutable_series(0)->mutable_trend()->set_max_units(9);
  EXPECT_TRUE(Contains(Refusal(m), "min_units 10 is above max_units 9"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->set_min_units(300);
  m.mutable_series(0)->mutable_trend()->set_max_units(301);
  m.mutable_series(0)->mutable_trend()->set_sum_units_hi(1);
  EXPECT_TRUE(Contains(Refusal(m), "units sum is outside"));
  m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->clear_spans();
  m.mutable_series(0)->mutable_trend()->clear_counts();
  EXPECT_TRUE(Contains(Refusal(m), "trend count 0 disagrees with its accumulators"));

  auto* c = m.add_series();
  m = GoodMessage();
  c = m.add_series();
  c->set_name("requests_total");
  c->mutable_counter()->set_value(nan);
  EXPECT_EQ(Refusal(m),
            "metrics batch refused: series[1] \"requests_total\": counter value nan is not finite "
            "and >= 0");
  c->mutable_counter()->set_value(-5);
  EXPECT_TRUE(Contains(Refusal(m), "counter value -5 is not finite and >= 0"));
  c->mutable_gauge()->set_last(1);
  c->mutable_gauge()->set_min(2);
  EXPECT_TRUE(Contains(Refusal(m), "gauge without Set() calls (count 0) carries min/max/sum"));
  c->mutable_gauge()->set_count(2);
  c->mutable_gauge()->set_max(1);
  EXPECT_TRUE(Contains(Refusal(m), "gauge min 2 is above max 1"));
  c->mutable_gauge()->set_max(inf);
  EXPECT_TRUE(Contains(Refusal(m), "are not finite"));
  c->mutable_rate()->set_nonzero(4);
  c->mutable_rate()->set_total(3);
  EXPECT_TRUE(Contains(Refusal(m), "rate nonzero 4 is above total 3"));
  c->clear_value();
  EXPECT_TRUE(Contains(Refusal(m), "no value (one of counter, gauge, rate, trend must be set)"));
}

TEST(VolleyMetricsWireHostile, KeysIdentityAndLimits) {
  auto m = GoodMessage();
  m.clear_node_id();
  EXPECT_EQ(Refusal(m), "metrics batch refused: batch: node_id is empty; every batch must name it");
  m = GoodMessage();
  m.set_region("e\x01u");
  EXPECT_TRUE(Contains(Refusal(m), "region holds a control character"));
  m = GoodMessage();
  m.set_node_id("n\xc0\xaf");  // an overlong '/'
  EXPECT_TRUE(Contains(Refusal(m), "node_id is not valid UTF-8"));
  m = GoodMessage();
  m.mutable_series(0)->set_name("d\xed\xa0\x80");  // a surrogate
  EXPECT_TRUE(Contains(Refusal(m), "the series name is not valid UTF-8"));
  m = GoodMessage();
  m.mutable_series(0)->add_labels()->set_key("url");
  m.mutable_series(0)->mutable_labels(0)->set_value("/caf\xc3");  // truncated
  EXPECT_TRUE(Contains(Refusal(m), "label \"url\" is not valid UTF-8"));
  m.mutable_series(0)->mutable_labels(0)->set_value("/caf\xc3\xa9/\xf0\x9f\x98\x80");
  EXPECT_EQ(Refusal(m), "accepted");
  m = GoodMessage();
  m.set_run_id(std::string(2000, 'r'));
  EXPECT_TRUE(Contains(Refusal(m), "run_id is 2000 bytes, more than 1024"));

  m = GoodMessage();
  auto* s = m.mutable_series(0);
  for (const char* k : {"b", "a"}) {
    auto* l = s->add_labels();
    l->set_key(k);
    l->set_value("x");
  }
  EXPECT_TRUE(
      Contains(Refusal(m), "labels are not sorted by key with unique keys (\"b\" then \"a\")"));
  s->mutable_labels(1)->set_key("b");
  EXPECT_TRUE(Contains(Refusal(m), "labels are not sorted by key with unique keys"));
  s->mutable_labels(1)->set_key("");
  EXPECT_TRUE(Contains(Refusal(m), "empty key"));
  s->clear_labels();
  *m.add_series() = m.series(0);
  EXPECT_TRUE(Contains(Refusal(m),
                       "series[1] \"request_duration_seconds\": series are not in "
                       "strictly ascending (name, labels) order"));
  m.mutable_series(1)->set_name("");
  EXPECT_TRUE(Contains(Refusal(m), "the series name is empty"));

  m = GoodMessage();
  Limits limits;
  limits.max_series = 0;
  EXPECT_EQ(Refusal(m, limits), "metrics batch refused: 1 series, more than 0 (limit max_series)");
  limits = {};
  limits.max_labels_per_series = 1;
  for (const char* k : {"a", "b"}) m.mutable_series(0)->add_labels()->set_key(k);
  EXPECT_TRUE(Contains(Refusal(m, limits), "2 labels, more than 1 (limit max_labels_per_series)"));
  limits = {};
  limits.max_messages = 3;
  EXPECT_TRUE(Contains(Refusal(m, limits), "more than 3 protobuf messages (limit max_messages)"));
  limits = {};
  limits.max_bytes = 10;
  EXPECT_TRUE(Contains(Refusal(m, limits), "more than 10 (limit max_bytes)"));
}

TEST(VolleyMetricsWireHostile, GarbageAndWrongWireTypesAreRefused) {
  for (std::string bytes : {std::string("\xff\xff\xff"), std::string("\x3a\x05\x0a", 3),
                            std::string("\x0a\x80\x80\x80\x80\x10", 6)}) {
    auto r = DecodeMetricsBatch(bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  }
  // Field 7 (series) sent as a varint: not a series at all; the identity is missing too.
  auto r = DecodeMetricsBatch(std::string("\x38\x01", 2));
  ASSERT_FALSE(r);
  EXPECT_TRUE(Contains(r.error().message, "node_id is empty"));
  // A trend's resolution (a double) sent as a varint is a type error protobuf skips as an
  // unknown field; the resolution is then 0 and refused.
  auto m = GoodMessage();
  m.mutable_series(0)->mutable_trend()->clear_resolution();
  EXPECT_TRUE(Contains(Refusal(m), "resolution must be finite and > 0, got 0"));
}

TEST(VolleyMetricsWire, CheckpointRoundTripsAndRefusesNegativeTime) {
  std::mt19937_64 rng(5);
  NodeCheckpoint cp{{Id(42), RandomSnapshot(rng)}, 12'345'678'901};
  auto bytes = EncodeNodeCheckpoint(cp);
  ASSERT_TRUE(bytes);
  auto back = DecodeNodeCheckpoint(*bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, cp);
  ::volley::v1::NodeCheckpoint pb;
  pb.set_batch(GoodMessage().SerializeAsString());
  pb.set_degraded_nanos(-1);
  auto bad = DecodeNodeCheckpoint(pb.SerializeAsString());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "metrics batch refused: checkpoint degraded time -1 is negative");
  pb.set_degraded_nanos(0);
  pb.set_batch("\xff");
  EXPECT_FALSE(DecodeNodeCheckpoint(pb.SerializeAsString()));
}

}  // namespace
}  // namespace volley::wire::node
