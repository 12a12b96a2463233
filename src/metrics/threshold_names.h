// Internal to metrics: the metric names a threshold may use (volley's and k6's), shared by
// the threshold grammar (threshold_grammar.cc) and its evaluation (threshold_eval.cc).
#pragma once

#include <string>
#include <string_view>

#include "volley/metrics/threshold.h"

namespace volley::metrics::threshold_detail {

using Agg = ThresholdAggregation;
using Kind = ThresholdSource::Kind;

// A metric name a threshold may use.
struct KnownMetric {
  std::string_view name;  // as the user writes it
  Kind kind;
  const char* series;                     // volley's series name (numerator of a ratio)
  bool k6 = false;                        // a k6 name: its `status` label means status_code
  const char* denominator = nullptr;      // kRatio
  const char* numerator_label = nullptr;  // kRatio: key=value the numerator adds
  const char* numerator_value = nullptr;
};

// The metric a threshold names ("http_req_duration", "request_duration_seconds"), or
// nullptr when there is none of that name.
const KnownMetric* FindKnownMetric(std::string_view name);

// "NAME: unknown metric (did you mean ...?)": the message for a name FindKnownMetric
// does not know, with the nearest known name or the namespace prefix to drop.
std::string UnknownMetric(std::string_view name);

// "trend", "counter", "gauge", "rate".
const char* KindName(Kind kind);
// The aggregations a metric of `kind` allows, for messages ("avg, min, med, max, p(N)...").
const char* ValidAggregations(Kind kind);
// Whether `agg` applies to a metric of `kind`.
bool Valid(Kind kind, Agg agg);
// Durations are the trend aggregations other than count (every trend is in seconds).
bool IsDuration(Kind kind, Agg agg);

}  // namespace volley::metrics::threshold_detail
