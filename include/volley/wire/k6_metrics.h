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

// --- Additions beyond the first contract (the declarations above are unchanged) ---
//
// How values travel (EncodeMetricSet):
// - Trends go as volley's histograms are, with their own min_resolution on the wire:
//   volley's durations are seconds at 1e-6 (one unit = 1 µs, the same bucket indexes as
//   k6's milliseconds at 0.001); sum/min/max are in the series' unit. A receiver uses the
//   resolution it is given. An empty histogram is sent as k6 does (count 0, min +DBL_MAX,
//   max -DBL_MAX); either that or 0/0 is accepted when decoding.
// - A gauge with no Set() in its period (count 0) is sent with min = max = avg = last;
//   decoding a count-0 gauge gives Gauge{.last = last} (min/max/avg ignored).
// - The wire's counts are uint32: a rate, gauge or histogram value with more than
//   2^32 - 1 samples in one bucket cannot be represented and is skipped (as a value whose
//   type does not match its series is): 1.4 G samples/s per series over a 3 s bucket.
// - Timestamps: `time` is whole seconds (nanos 0); decoding takes the seconds and requires
//   a valid Timestamp (nanos in [0, 1e9), seconds within years 1..9999) that is present.
//
// What decoding checks beyond the protobuf syntax (each error names metrics[i], its name,
// time_series[j] and values[k]): a known metric type (1..4); exactly the samples of the
// metric's type in every series; no NaN anywhere, finite counter values; gauge min <= max
// when count > 0; rate nonzero_count <= total_count; trend min_resolution finite and
// > 0, valid spans (DecodeSpans), count == sum(counters) + extra low + extra high, and
// min <= max when count > 0. Labels are kept as sent, normalized (sorted, the last of a
// duplicate key wins); dropping `__*`/`test_run_id` labels is the receiver's policy.

// Bounds on what one DecodeMetricSet call may allocate for hostile input. The defaults are
// about 100 x what one k6 batch (1000 series) needs; the worst case they allow is roughly
// 64 MiB of protobuf objects plus 64 MiB of histogram buckets.
struct DecodeLimits {
  // Protobuf messages in the body (every nested one counts), counted by a scan of the wire
  // format before anything is built: each costs ~50 bytes once parsed, from 2 bytes.
  size_t max_messages = size_t{1} << 20;
  size_t max_series = 100'000;
  size_t max_values = 250'000;  // over all series
  size_t max_labels_per_series = 256;
  // Dense histogram storage over all trend values, in buckets (8 bytes each): a value
  // whose highest non-empty bucket is i costs i + 1.
  size_t max_histogram_buckets = size_t{8} << 20;
};
// DecodeMetricSet with explicit limits; exceeding one is a kProtocol error naming it.
Result<MetricSetData> DecodeMetricSet(std::string_view bytes, const DecodeLimits& limits);

// What a per-series decode (below) did besides decoding: what it refused and what it
// repaired, each entry naming where ("metrics[14] \"vus\" time_series[0] values[0]: ...").
struct DecodeReport {
  static constexpr size_t kMaxNotes = 20;  // entries kept of each list; the counts go on
  std::vector<std::string> refused;        // series left out, with the reason
  std::vector<std::string> repaired;       // values changed, with what was done
  size_t refused_series = 0;
  size_t repaired_values = 0;
};

// Per-series decoding, for a receiver that must not lose a batch to one bad series: a
// series with an invalid value, or every series of a metric of an unknown type, is left
// out and named in `report`; a gauge value with min > max (k6 v0.45 to its April 2026 fix
// sends every gauge so) has them swapped and is counted as repaired. Broken wire format and
// the limits still fail the whole body (kProtocol).
Result<MetricSetData> DecodeMetricSet(std::string_view bytes, const DecodeLimits& limits,
                                      DecodeReport* report);

// The protocol version this codec speaks (the K6-Metrics-Protocol-Version header).
inline constexpr std::string_view kProtocolVersion = "2.0";

// Snappy block format (not the framed format).
std::string SnappyCompress(std::string_view raw);
// Fails (kProtocol) on invalid input, or when the uncompressed length would exceed
// `max_uncompressed` (checked before allocating).
Result<std::string> SnappyUncompress(std::string_view compressed, size_t max_uncompressed);

}  // namespace volley::wire::k6
