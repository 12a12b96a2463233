// Prometheus text exposition format 0.0.4 of a metrics::Snapshot (DESIGN.md §6): what the
// /metrics endpoint serves. A pure function of its inputs: no I/O, no locking.
//
// Families, by metric type of the Snapshot series (every name is `<ns>_<name>`):
//   Counter  -> `counter` when the name ends in `_total`. A counter whose name does not
//               (only `request_errors_by_category`, a name the seed project's users already
//               query) is exposed as `untyped` under its unchanged name: typed `counter`,
//               promtool's lint reports `counter metrics should have "_total" suffix`.
//               Prometheus stores and queries untyped samples exactly like counter samples
//               (rate() and increase() work the same), so keeping the name costs nothing.
//   Gauge    -> `gauge` with the `last` value.
//   Rate     -> two counters, `<name>_total` (all samples) and `<name>_nonzero_total` (the
//               non-zero ones), where <name> loses a trailing `_total` first. The ratio is
//               `<name>_nonzero_total / <name>_total` in PromQL.
//   Trend    -> a classic `histogram`: `_bucket{le=...}` cumulative counts computed from
//               the fine histogram with Histogram::CountAtOrBelow (a bucket leaves out only
//               the samples of the one fine bucket that straddles its bound, < 1/128
//               relative), `le="+Inf"` == `_count`, `_sum`, `_count`; and a `summary`
//               family `<name>_quantile` with `{quantile="0.99"}` samples from
//               Histogram::Percentile (within its 1/128 bucket error, cumulative since the
//               start, not a sliding window) plus its own `_sum` and `_count`. A summary,
//               not a gauge: promtool rejects a `quantile` label on anything else ("non-
//               summary metrics should not have "quantile" label"). An empty histogram's
//               quantiles are `NaN`, as Prometheus' own client libraries expose them.
//   And `<ns>_cluster_node_info{...,state="standalone"} 1` (a gauge) when the constant
//   labels hold both `node_id` and `region` (specs/standalone-compat.md).
//
// Families are sorted by name and series within a family by label set; every series
// carries the constant labels (a series' own label of the same key wins). Label values
// escape `\`, `"` and newline, HELP texts `\` and newline. Characters that are not valid in
// a metric or label name become `_`. A series whose type differs from the first series of
// its family (in Snapshot order), or whose family name another type already produced, is
// left out: one family has one TYPE. A trend's own `le` and `quantile` labels are dropped (they
// would clash with the bucket and quantile labels).
//
// Cost: each bucket count scans the fine histogram (CountAtOrBelow), so a render is
// O(series x le bounds x fine buckets): well under a millisecond per histogram.
#pragma once

#include <string>
#include <vector>

#include "volley/metrics/series.h"
#include "volley/metrics/snapshot.h"

namespace volley::output {

// The default `le` bounds in seconds, 1 ms to 60 s in 1-2.5-5 steps (16 bounds):
// 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 20 30 60.
std::vector<double> DefaultLeBounds();

struct ExpositionOptions {
  // Prefix of every metric name (METRIC_NAMESPACE); empty means no prefix and no `_`.
  std::string ns = "volley";
  // Added to every series, e.g. region, node_id, run_id.
  metrics::Labels const_labels;
  // Upper bounds of the classic histogram buckets, in the histogram's unit (seconds for
  // durations). Sorted and de-duplicated when rendering; NaN and infinities are ignored
  // (`+Inf` is always added).
  std::vector<double> le_bounds = DefaultLeBounds();
  // Quantiles of the `_quantile` summaries; values outside [0, 1] are ignored.
  std::vector<double> quantiles = {0.5, 0.9, 0.95, 0.99, 0.999};
  // The `state` label of cluster_node_info: "standalone" when not clustered.
  std::string node_state = "standalone";
};

// The exposition of `snapshot` (text format 0.0.4, '\n' line ends, ending in '\n' unless
// empty). Thread-safe in the sense of a pure function: call it from any thread with
// arguments no other thread is modifying.
std::string RenderPrometheus(const metrics::Snapshot& snapshot, const ExpositionOptions& options);

// One sample of the exposition: the full metric name (`<ns>_http_req_duration_bucket`),
// the series' labels with `le` or `quantile` last where the family has one, the value.
struct PromSample {
  std::string name;
  metrics::Labels labels;
  double value = 0;
};

// The samples RenderPrometheus writes, in the same order (families by name, series by
// label set): one naming scheme for /metrics and remote write. Pure, as RenderPrometheus.
std::vector<PromSample> PrometheusSamples(const metrics::Snapshot& snapshot,
                                          const ExpositionOptions& options);

// A sample value as the format wants it: integral values below 2^63 without exponent or
// fraction ("1234567"), others in the shortest form that reads back to the same double
// ("0.0025", "1e-07"), and "+Inf", "-Inf", "NaN".
std::string FormatPromValue(double value);

// `value` with `\` -> `\\`, `"` -> `\"` and newline -> `\n` (label values).
std::string EscapeLabelValue(const std::string& value);

}  // namespace volley::output
