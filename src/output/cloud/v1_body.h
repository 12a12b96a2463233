// The v1 JSON body (api_version: 1) of a batch, through wire/k6_v1.h.
#pragma once

#include <string>

#include "volley/wire/k6_metrics.h"

namespace volley::output::cloud {

// One v1 sample per series and bucket, `time` the bucket's start in microseconds:
// - counter → Point "counter", value = the bucket's sum (one sample that adds it);
// - gauge → Point "gauge", value = the last value set in the bucket (v1 has no min/max);
// - rate → AggregatedPoints "aggregated_rate" (volley's v1 extension): count = total,
//   avg = non-zero / total, min/max 0 or 1 as the samples were;
// - trend → AggregatedPoints "aggregated_trend": count, min, max, avg (v1 carries no
//   distribution, so a receiver's percentiles of v1 data are approximate).
// Pure; thread-safe.
std::string EncodeV1Body(const wire::k6::MetricSetData& data);

}  // namespace volley::output::cloud
