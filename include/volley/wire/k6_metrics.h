// k6 cloud protocol v2 (specs/k6-metrics-v2.md): the conversion between volley's metric
// values and the `metrics.MetricSet` protobuf message, and the snappy block framing of a
// request body. Pure functions: no I/O, no threads; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/common/result.h"
#include "volley/metrics/histogram.h"
#include "volley/metrics/series.h"
#include "volley/metrics/snapshot.h"

namespace volley::wire::k6 {

// One aggregated value of one series in one time bucket. `value` holds the type of the
// series: Counter, Gauge (last/min/max/sum/count), Rate or Histogram.
struct BucketValue {
  int64_t time_unix_seconds = 0;  // the bucket's start, whole seconds
  metrics::MetricValue value;
  friend bool operator==(const BucketValue&, const BucketValue&) = default;
};

// One time series: metric name (without labels), its type, labels, and its values.
struct SeriesSamples {
  std::string metric;
  metrics::MetricType type = metrics::MetricType::kCounter;
  metrics::Labels labels;  // sorted, unique keys
  std::vector<BucketValue> values;
  friend bool operator==(const SeriesSamples&, const SeriesSamples&) = default;
};

// The content of one push request.
struct MetricSetData {
  std::string test_run_id;
  uint32_t aggregation_period_seconds = 3;
  std::vector<SeriesSamples> series;
  friend bool operator==(const MetricSetData&, const MetricSetData&) = default;
};

// The sparse form of a histogram's buckets on the wire: counts of the non-empty buckets in
// index order, and spans (the first offset is absolute, later offsets count the empty
// buckets skipped).
struct BucketSpans {
  std::vector<uint32_t> counters;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // (offset, length)
  friend bool operator==(const BucketSpans&, const BucketSpans&) = default;
};
BucketSpans EncodeSpans(const metrics::Histogram& histogram);
// The (index, count) pairs the spans describe; an error if they run past the largest
// index or do not match the number of counters.
Result<std::vector<std::pair<uint32_t, uint64_t>>> DecodeSpans(const BucketSpans& spans);

// Serializes to protobuf bytes (uncompressed). Series of one metric name share one
// `Metric` message. A value whose type does not match its series is skipped.
std::string EncodeMetricSet(const MetricSetData& data);
// Parses protobuf bytes; a malformed message, an unknown metric type, samples of the wrong
// kind for the metric's type or invalid spans are errors (kProtocol) naming the field.
Result<MetricSetData> DecodeMetricSet(std::string_view bytes);

// Snappy block format (not the framed format).
std::string SnappyCompress(std::string_view raw);
// Fails (kProtocol) on invalid input, or when the uncompressed length would exceed
// `max_uncompressed` (checked before allocating).
Result<std::string> SnappyUncompress(std::string_view compressed, size_t max_uncompressed);

}  // namespace volley::wire::k6
