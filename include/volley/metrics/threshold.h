// Thresholds as k6 users know them: pass/fail criteria over the cumulative Snapshot, e.g.
// `http_req_duration{scenario:Browse}: ["p(95)<200ms", "avg<100"]`. Pure computation: a
// plan's threshold is compiled once (CompileThreshold, at validation time) and evaluated
// any number of times (Evaluate, at the end of the run and, for abortOnFail, during it).
//
// Metric selector: `name` or `name{key="value",key2:value2}` (Prometheus-style quoted
// values and k6's unquoted `key:value` both work, as do `=` and `:` with either). `name`
// is one of volley's metric names (names.h, without the namespace prefix) or a k6 name:
//   http_req_duration (+ _blocked, _connecting, _tls_handshaking, _sending, _waiting,
//   _receiving) -> the request_*_seconds trends;  iteration_duration ->
//   scenario_duration_seconds;  http_reqs -> requests_total (with a `status` filter:
//   requests_status_codes_total);  iterations -> scenario_executions_total;
//   dropped_iterations, data_sent, data_received -> the *_total counters;
//   http_req_failed -> a rate: request_errors_by_category / requests_total;
//   checks -> a rate: scenario_assertions_total{result="passed"} / all assertions.
// On the k6 names a `status` label means `status_code`, as in k6.
// The filter selects every series whose labels include the given ones; those series are
// merged exactly (histograms Merge, counters and rate counts add).
//
// Conditions: `aggregation operator value`, spaces allowed.
//   trend (the *_seconds histograms): p(N) for N in [0, 100], avg, min, max, med, count
//   counter: count, rate (per second of the run)
//   rate (http_req_failed, checks): rate (a fraction in [0, 1])
//   gauge (concurrent_requests): value (the last), min, max
// Operators: < <= > >= == != (and k6's ===); == and != allow a relative difference of
// 1e-9, as unit conversion can leave. The value of a duration aggregation may carry
// a unit (us, ms, s, m, h: `200ms`, `1.5s`); a bare number there means MILLISECONDS, as in
// k6 (`p(95)<200` is 200 ms). Every other aggregation takes a plain number.
//
// No data: a trend with no samples (for every aggregation but count), a rate with no
// samples, a gauge with no matching series, or a counter `rate` over a zero-length run
// cannot be evaluated. Such a condition PASSES with no_data set, as k6 does (k6 does not
// fail thresholds of metrics that saw no samples); reports should show "no data" so a
// mistyped label value does not go unnoticed. A counter without series counts 0, which is
// a value: `count>1000` on it fails.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/metrics/series.h"
#include "volley/metrics/snapshot.h"

namespace volley::metrics {

enum class ThresholdAggregation : uint8_t {
  kPercentile,
  kAvg,
  kMin,
  kMax,
  kMed,
  kCount,
  kRate,
  kValue
};
enum class ThresholdOperator : uint8_t {
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kEqual,
  kNotEqual
};

// One compiled condition, e.g. "p(95)<200ms".
struct ThresholdCondition {
  std::string text;  // as written, without surrounding spaces
  ThresholdAggregation aggregation = ThresholdAggregation::kAvg;
  double percentile = 0;  // kPercentile: in [0, 100]
  ThresholdOperator op = ThresholdOperator::kLess;
  double bound = 0;  // in the metric's unit: seconds for duration aggregations
};

// What a threshold reads from a Snapshot.
struct ThresholdSource {
  enum class Kind : uint8_t { kTrend, kCounter, kGauge, kRatio };
  Kind kind = Kind::kTrend;
  std::string name;         // series name; the numerator of kRatio
  Labels filter;            // series must include these labels (sorted; on both parts of kRatio)
  Labels numerator_labels;  // kRatio: extra labels of the numerator (e.g. result=passed)
  std::string denominator;  // kRatio: series name of the denominator
};

// A threshold ready to evaluate. A plain value; confine each copy to one thread.
struct CompiledThreshold {
  std::string metric;  // as written, e.g. "http_req_duration{scenario:Browse}"
  ThresholdSource source;
  std::vector<ThresholdCondition> conditions;
};

// Parses and checks a threshold. `metric` is the selector as written in the plan;
// `conditions` its condition strings. On error, the message lists every problem found,
// one per line, each naming the condition (or the selector) and what is wrong, e.g.
//   p(95)<20xs: unknown unit 'xs' (use us, ms, s, m or h, or a bare number of milliseconds)
// The caller prefixes each line with the threshold's origin. Error code kInvalidArgument.
// Thread-safe (no shared state).
Result<CompiledThreshold> CompileThreshold(std::string_view metric,
                                           const std::vector<std::string>& conditions);

// The outcome of one condition.
struct ThresholdResult {
  std::string metric;     // as written
  std::string condition;  // as written
  bool passed = true;
  bool no_data = false;       // nothing to evaluate; then passed is true (see the top comment)
  double observed = 0;        // in the metric's unit (seconds for durations); 0 with no_data
  std::string observed_text;  // k6-style "p(95)=182.35ms", "rate=1.23%", "no data"
};

// Evaluates every condition of `threshold` against `cumulative` (the snapshot since the
// start of the run); `elapsed` is the run's length so far, for counter `rate`. One result
// per condition, in order. Thread-safe (reads its arguments only).
std::vector<ThresholdResult> Evaluate(const CompiledThreshold& threshold,
                                      const Snapshot& cumulative, Nanos elapsed);

// True if any result failed.
bool AnyFailed(const std::vector<ThresholdResult>& results);

}  // namespace volley::metrics
