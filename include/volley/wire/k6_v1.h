// k6 cloud protocol v1 (specs/k6-metrics-v2.md "v1", seed 001): the JSON body of
// `POST /v1/metrics/{test_run_id}`, an array of samples of three shapes. The fallback
// format of the push output (api_version: 1) and one of the two the ingest service reads.
// Pure functions: no I/O, no threads; thread-safe.
//
//   {"type":"Point","metric":"vus","data":{"time":"1700000000000000","type":"gauge",
//     "tags":{"k":"v"},"value":999}}
//   {"type":"Points","metric":"iter_li_all","data":{"time":"...","type":"counter",
//     "tags":{...},"values":{"data_sent":1234.5,"iterations":1}}}
//   {"type":"AggregatedPoints","metric":"http_req_li_all","data":{"time":"...",
//     "type":"aggregated_trend","count":2,"tags":{...},
//     "values":{"http_req_duration":{"min":0.013,"max":0.123,"avg":0.068}}}}
//
// `time` is unix MICROseconds, written as a decimal string as k6 does (a JSON integer is
// accepted too). Tags are strings (numbers and booleans are accepted and kept as their
// JSON text).
//
// What a sample means (how `volley ingest` reads it, k6's semantics):
// - Point: ONE sample of `metric`: a counter adds `value`, a gauge is set to it, a rate
//   counts one sample (non-zero when value != 0), a trend records `value`.
// - Points: one sample of each metric named in `values`, all of `type` (k6 used it for
//   its "iter_li_all"/"http_req_li_all" groups; `metric` names the group only).
// - AggregatedPoints `aggregated_trend`: `count` samples of each metric in `values`,
//   summarized by min/max/avg (no distribution: a receiver can keep count, min, max and
//   the mean exactly, percentiles only approximately).
// - AggregatedPoints `aggregated_rate` (volley's extension, for exact rates in v1):
//   `count` samples of each metric in `values`, avg = non-zero / count (min 0, max 1);
//   the non-zero count is round(avg * count).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "volley/common/result.h"
#include "volley/metrics/series.h"

namespace volley::wire::k6 {

struct V1Point {
  std::string metric;
  int64_t time_us = 0;
  metrics::MetricType type = metrics::MetricType::kCounter;
  metrics::Labels tags;  // sorted, unique keys (DecodeV1 normalizes)
  double value = 0;
  friend bool operator==(const V1Point&, const V1Point&) = default;
};

struct V1Points {
  std::string metric;  // the group's name
  int64_t time_us = 0;
  metrics::MetricType type = metrics::MetricType::kCounter;
  metrics::Labels tags;
  std::vector<std::pair<std::string, double>> values;  // metric name -> value, sorted by name
  friend bool operator==(const V1Points&, const V1Points&) = default;
};

struct V1Aggregate {
  double min = 0;
  double max = 0;
  double avg = 0;
  friend bool operator==(const V1Aggregate&, const V1Aggregate&) = default;
};

struct V1AggregatedPoints {
  std::string metric;  // the group's name
  int64_t time_us = 0;
  metrics::MetricType type = metrics::MetricType::kTrend;  // kTrend or kRate only
  uint64_t count = 0;
  metrics::Labels tags;
  std::vector<std::pair<std::string, V1Aggregate>> values;  // sorted by name
  friend bool operator==(const V1AggregatedPoints&, const V1AggregatedPoints&) = default;
};

using V1Sample = std::variant<V1Point, V1Points, V1AggregatedPoints>;

// The JSON array of `samples`, compact (no spaces). Non-finite numbers, which JSON cannot
// carry, are written as null (DecodeV1 rejects them). An V1AggregatedPoints of a type
// other than kTrend/kRate is written as aggregated_trend.
std::string EncodeV1(const std::vector<V1Sample>& samples);

// Bounds for hostile input; the body's own size bounds the JSON tree (callers limit it).
struct V1Limits {
  size_t max_samples = 250'000;
  size_t max_values_per_sample = 1'000;  // entries of a Points/AggregatedPoints `values`
  size_t max_tags = 256;
  int max_depth = 6;  // the format needs 5 (array, sample, data, values, aggregate)
};

// Parses a v1 body. Errors (kProtocol) name the sample and the field: not JSON, not an
// array, an unknown sample "type", a missing or mistyped field, a metric type that does
// not fit the shape (Point/Points: counter, gauge, rate, trend; AggregatedPoints:
// aggregated_trend, aggregated_rate), non-finite numbers, min > max, a rate avg outside
// [0, 1], or a limit exceeded.
Result<std::vector<V1Sample>> DecodeV1(std::string_view json);
Result<std::vector<V1Sample>> DecodeV1(std::string_view json, const V1Limits& limits);

}  // namespace volley::wire::k6
