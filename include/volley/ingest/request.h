// Decoding and validation of the bodies `volley ingest` accepts, kept apart from HTTP so
// the fuzzers and tests drive exactly what the service runs. Pure functions: no I/O,
// thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "volley/common/result.h"
#include "volley/wire/k6_metrics.h"
#include "volley/wire/k6_v1.h"

namespace volley::ingest {

// Bounds for one request body (on top of the HTTP body limit the server enforces).
struct BodyLimits {
  size_t max_decompressed = size_t{16} << 20;  // v2: the protobuf after snappy
  wire::k6::DecodeLimits v2;
  wire::k6::V1Limits v1;
};

// A v2 body: snappy block -> metrics.MetricSet -> validated values (wire::k6's checks),
// then Normalize(). Errors are kProtocol with a message for the client. With `report`,
// validation is per series (wire::k6::DecodeMetricSet with a DecodeReport): bad series are
// left out and named there, k6's swapped gauge min/max repaired.
Result<wire::k6::MetricSetData> DecodeV2Body(std::string_view body, const BodyLimits& limits,
                                             wire::k6::DecodeReport* report = nullptr);

// A v1 JSON body -> the same model, then Normalize(). Each sample lands in the bucket of
// its whole second (floor(time / 1e6)). Interpretation (k6_v1.h): Point and Points are
// one sample each; a Points value takes the type k6 gives its built-in metrics when its
// name is one of them (iteration_duration is a trend inside a "counter" Points, as k6's
// iter_li_all sends it), else data.type. Trends record into histograms of resolution
// 1e-6 when the metric name ends in "_seconds" (volley's unit) and 0.001 otherwise
// (k6's milliseconds): one unit is 1 µs either way, as in v2. aggregated_trend keeps
// count, min, max and sum exactly; having no distribution, it is stored as one sample at
// min, one at max and the rest at the value that keeps the sum ((sum - min - max) /
// (count - 2)), so its percentiles are only an approximation. aggregated_rate gives
// Rate{round(avg * count), count}.
Result<wire::k6::MetricSetData> DecodeV1Body(std::string_view body, const BodyLimits& limits);

// Brings decoded data to the form the store takes:
// - labels whose key starts with "__" or equals "test_run_id" are dropped (the spec); a
//   series without a metric name takes its "__name__" label's value (old k6 versions);
//   a name still empty is an error;
// - series with the same (metric, labels) are joined, values of the same time merged
//   (metrics::Snapshot::Merge semantics: counters and rates add, histograms merge, gauges
//   combine min/max/sum/count and keep the later value's last); values end sorted by time;
// - a metric name with two types, or a trend series with two resolutions, is an error.
// Series come out sorted by (metric, labels).
Result<wire::k6::MetricSetData> Normalize(wire::k6::MetricSetData data);

// Folds `add` into `into` as Snapshot::Merge does for one series; false (into unchanged)
// when the types or histogram resolutions differ.
bool MergeValue(metrics::MetricValue& into, const metrics::MetricValue& add);

}  // namespace volley::ingest
