// OTLP metrics on the wire (DESIGN.md §6, ../shared/specs/otlp-metrics.md): a
// metrics::Snapshot encoded as an OTLP ExportMetricsServiceRequest (protobuf bytes), and the
// endpoint's answers decoded. Pure functions: no I/O, no locking, no state; call them from
// any thread with arguments no other thread is modifying.
//
// How each Snapshot series becomes OTLP (every metric name is `<ns>_<name>`, the names of
// the Prometheus exposition, so dashboards work on either path):
//   Counter -> Sum, monotonic, CUMULATIVE, as_double = value.
//   Gauge   -> Gauge, as_double = last (the most recent value set).
//   Rate    -> two monotonic CUMULATIVE Sums, `<base>_total` (all samples) and
//              `<base>_nonzero_total` (the non-zero ones), <base> being the name without a
//              trailing `_total`: the Prometheus exposition's two counters, so the ratio is
//              `<base>_nonzero_total / <base>_total` on either path.
//   Trend   -> explicit-bucket Histogram, CUMULATIVE, with exact count, min, max and sum
//              (sum left unset when negative samples were recorded, as the spec asks).
//              Exponential histograms are not produced.
// Every cumulative point carries start_time_unix_nano = the run start (fixed per series
// for the whole run), so re-sending a point is idempotent for the backend. Unit: "s" for
// names ending in `_seconds`, "By" for `_bytes` / `_bytes_total`, empty otherwise.
//
// Histogram bucket counts (explicit bounds b_0 < ... < b_{n-1}): C(b) =
// Histogram::CountAtOrBelow(b) is the number of samples whose fine bucket lies wholly at or
// below b. bucket_counts[0] = C(b_0), bucket_counts[i] = C(b_i) - C(b_{i-1}),
// bucket_counts[n] = count - C(b_{n-1}). C is non-decreasing and C(b_{n-1}) <= count, so
// every count is >= 0 and they add up to `count` EXACTLY. The only approximation: the
// samples of the one fine bucket that straddles a bound b_i (at most 1/128 of b_i wide,
// fully exact below 256 resolution units, i.e. 256 µs for durations) are counted in the
// bucket above b_i, never in a wrong bucket further away. This is the same rule as the
// Prometheus exposition's `le` buckets, so both outputs agree bucket for bucket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/common/result.h"
#include "volley/metrics/series.h"
#include "volley/metrics/snapshot.h"

namespace volley::wire {

struct OtlpEncodeOptions {
  // Prefix of every metric name (METRIC_NAMESPACE); empty means no prefix and no `_`.
  std::string ns = "volley";
  // Resource attributes (service.name, service.instance.id, ...), in this order; of
  // duplicate keys the first wins.
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  // Added to every data point (node_id, region, run_id, configured labels); a series' own
  // label of the same key wins.
  metrics::Labels point_attributes;
  // Explicit histogram bounds, in the histogram's unit (seconds for durations). Sorted and
  // de-duplicated when encoding; NaN and infinities are ignored. Empty: histograms carry
  // only count, sum, min and max (valid OTLP). Callers pass output::DefaultLeBounds() by
  // default, the Prometheus exposition's bounds.
  std::vector<double> histogram_bounds;
  // start_time_unix_nano of every cumulative point (the run start) and time_unix_nano of
  // every point (the batch's timestamp). time should be > start.
  uint64_t start_unix_nanos = 0;
  uint64_t time_unix_nanos = 0;
  // InstrumentationScope.
  std::string scope_name = "volley";
  std::string scope_version;
};

// The serialized ExportMetricsServiceRequest: one ResourceMetrics, one ScopeMetrics, one
// Metric per exported name (series of one name are data points of one Metric). A series
// whose type differs from the first series of its name is left out (one Metric has one
// data kind). An empty snapshot gives a valid request with an empty metric list.
std::string EncodeOtlpMetrics(const metrics::Snapshot& snapshot, const OtlpEncodeOptions& options);

// The exported name of a Snapshot series name: `<ns>_<name>` (or `name` without ns).
std::string OtlpMetricName(std::string_view ns, std::string_view name);

// The bucket counts of `h` for sorted, strictly increasing finite `bounds` (see the file
// comment): bounds.size() + 1 counts adding up to h.count(); empty when bounds is empty.
std::vector<uint64_t> OtlpBucketCounts(const metrics::Histogram& h,
                                       const std::vector<double>& bounds);

// `bounds` sorted, de-duplicated, without NaN and infinities.
std::vector<double> NormalizeBounds(std::vector<double> bounds);

// What a 200 answer said (ExportMetricsServiceResponse). Full success has
// partial == false.
struct OtlpExportResponse {
  bool partial = false;  // partial_success was present
  int64_t rejected_data_points = 0;
  std::string error_message;  // at most 1 KiB kept
};

// Decodes the body of a 200 answer (untrusted bytes). An empty body is full success.
// Errors: kProtocol "OTLP response: not an ExportMetricsServiceResponse (N bytes)" when the
// bytes do not parse.
Result<OtlpExportResponse> DecodeOtlpExportResponse(std::string_view body);

// The message of a google.rpc.Status body of a 4xx/5xx answer (untrusted bytes), at most
// 1 KiB; empty when the body is empty or does not parse as one.
std::string DecodeOtlpErrorStatus(std::string_view body);

}  // namespace volley::wire
