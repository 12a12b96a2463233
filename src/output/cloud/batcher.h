// From time buckets to request contents: the series of the buckets grouped by metric and
// labels, named for the wire, cut into batches of at most N series.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "aggregator.h"
#include "cloud_config.h"
#include "volley/wire/k6_metrics.h"

namespace volley::output::cloud {

// One request's content and what it carries, for exact accounting of what was sent or
// dropped: `samples` is the number of (series, bucket) values.
struct Batch {
  wire::k6::MetricSetData data;
  uint64_t samples = 0;
};

// Not thread-safe: confined to the output's aggregation thread.
//
// Naming (CloudConfig::metric_names): kVolley sends `<namespace>_<name>` (just `<name>`
// with an empty namespace), the names of the /metrics endpoint. kK6 maps the request
// metrics to k6's names (MapK6Name) and converts their histograms from seconds to
// milliseconds exactly (same bucket indexes, resolution × 1000), and renames the label
// `status_code` to `status`; other metrics keep their volley names.
//
// Labels whose key starts with `__` or equals `test_run_id` are dropped (the spec: the name
// and the run id travel in their own fields); each such key is reported once through
// TakeWarnings(). Values with nothing in them are not sent: a counter of 0, a gauge without
// a Set() in the bucket, a rate or histogram without samples.
class Batcher {
 public:
  explicit Batcher(const CloudConfig& config);

  // The batches for `buckets` (series in name and label order; each series once per
  // batch with one value per bucket). Every batch has between 1 and max_series_in_batch
  // series; no batch for buckets with nothing to send.
  std::vector<Batch> Cut(const std::vector<Bucket>& buckets);

  // Warnings not yet taken (one per dropped label key, ever).
  std::vector<std::string> TakeWarnings();

  // Values skipped because their series changed type between buckets, since construction.
  uint64_t type_conflicts() const { return type_conflicts_; }

 private:
  std::string WireName(const std::string& name, bool* to_millis) const;
  metrics::Labels WireLabels(const metrics::Labels& labels);

  const std::string run_id_;
  const uint32_t period_seconds_;
  const size_t max_series_;
  const MetricNames names_;
  const std::string ns_;
  std::set<std::string> warned_keys_;
  std::vector<std::string> warnings_;
  uint64_t type_conflicts_ = 0;
};

// k6's name of a volley metric (without namespace), or nullptr if it has none:
// requests_total → http_reqs, request_duration_seconds → http_req_duration, the phases →
// http_req_blocked/connecting/tls_handshaking/sending/waiting/receiving, data_*_bytes_total
// → data_sent/data_received, dropped_iterations_total → dropped_iterations,
// scenario_executions_total → iterations, scenario_duration_seconds → iteration_duration.
const char* MapK6Name(const std::string& volley_name);

// True for a value worth sending (see Batcher).
bool HasData(const metrics::MetricValue& value);

}  // namespace volley::output::cloud
