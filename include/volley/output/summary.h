// The end-of-test summary: the figures of the final report and of --summary-export, read
// from the cumulative Snapshot, per scenario and step in scenario mode, and the threshold
// results. One model, two formatters (text and JSON). Plain values and pure functions:
// call them from any thread, one Summary per thread.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/histogram.h"
#include "volley/metrics/snapshot.h"
#include "volley/metrics/threshold.h"

namespace volley::output {

// Scenario names in plan order, each with its step names in order: how the report orders
// its tables (series the plan does not name follow alphabetically).
using PlanOrder = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Facts about the run that are not measurements.
struct RunFacts {
  Nanos elapsed{0};
  bool interrupted = false;
  uint64_t abandoned = 0;
  int threads = 0;
  int connections = 0;
  bool open_model = false;
  std::string target;      // URL, for the report header
  std::string load_model;  // human description
  // Per error category that occurred, what its first failure was (engine::RunInfo).
  std::map<std::string, std::string> first_errors;
  PlanOrder plan_order;  // scenario mode; may be empty
};

// Percentiles of one latency histogram, in seconds. Percentiles come from the merged
// fine histogram (never averaged), within its 1/128 relative bucket error.
struct LatencySummary {
  uint64_t count = 0;
  double min = 0, mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
};
LatencySummary Summarize(const metrics::Histogram& h);

// One step of a scenario: scenario_steps_total, scenario_step_duration_seconds,
// scenario_step_status_codes_total and scenario_assertions_total with its labels.
struct StepSummary {
  std::string name;
  uint64_t count = 0;       // executions, successful or not, cache hits included
  uint64_t failed = 0;      // status="failure": the report's "errors"
  uint64_t cache_hits = 0;  // skipped for fresh cached values (cache="hit"), in count
  double rps = 0;           // count per second of the run
  uint64_t assertions_passed = 0, assertions_failed = 0;
  std::map<std::string, uint64_t> status_codes;  // "200" -> count
  LatencySummary latency;                        // scenario_step_duration_seconds
};

// One scenario, from the series whose `scenario` label is its name.
struct ScenarioSummary {
  std::string name;
  uint64_t requests = 0;  // scenario_requests_total
  // Of those, by `host` label: plans with full-URL steps to other hosts; empty otherwise.
  std::map<std::string, uint64_t> requests_by_host;
  double rps = 0;                                     // requests per second of the run
  uint64_t errors = 0;                                // failed steps, over all its steps
  uint64_t iterations_ok = 0, iterations_failed = 0;  // scenario_executions_total{status}
  double iterations_per_s = 0;
  uint64_t data_exhausted = 0;  // users stopped: their sequential data file ran out
  LatencySummary iteration;     // scenario_duration_seconds; .mean is the mean iteration time
  // request_duration_seconds{scenario=name}; count 0 when requests are not labelled so.
  LatencySummary request_latency;
  std::vector<StepSummary> steps;

  uint64_t iterations() const { return iterations_ok + iterations_failed; }
};

struct Summary {
  RunFacts facts;
  double duration_s = 0;
  uint64_t requests_total = 0;
  double rps = 0;
  std::map<std::string, uint64_t> status_codes;  // "200" -> count
  std::map<std::string, uint64_t> errors;        // every category, zero included
  uint64_t errors_total = 0;
  uint64_t dropped_iterations = 0;
  uint64_t stale_retries = 0;  // requests sent again after a stale keep-alive connection
  uint64_t data_sent = 0, data_received = 0;
  LatencySummary latency;                                      // request_duration_seconds
  std::optional<LatencySummary> from_intended;                 // open models
  std::vector<std::pair<std::string, LatencySummary>> phases;  // blocked, connecting, ...
  std::vector<ScenarioSummary> scenarios;                      // empty in single-request mode
  // Filled by the caller after Summarize (metrics::Evaluate of each compiled threshold).
  std::vector<metrics::ThresholdResult> thresholds;

  // True if a threshold failed (the run's exit code is then 99).
  bool thresholds_failed() const { return metrics::AnyFailed(thresholds); }
};

// Reads the figures of `snapshot` (the cumulative one). `thresholds` is left empty.
Summary Summarize(const metrics::Snapshot& snapshot, const RunFacts& facts);

// The human report printed on stdout at the end: totals, latency, status codes and errors;
// then, when present, a table per scenario (count, rps, errors, p50/p90/p95/p99/p99.9/max
// in ms per step and per iteration) and the thresholds, each PASS or FAIL with its
// observed value. Without scenarios and thresholds it is the single-request report.
std::string FormatReport(const Summary& s);

// The JSON of --summary-export. Keys: requests_total, rps, duration_s, status_codes,
// errors, dropped_iterations, latency_ms{min,mean,p50,p90,p95,p99,p999,max}, and more;
// `scenarios` (a list in report order: name, requests, rps, errors, iterations{success,
// failure}, data_exhausted, iteration_ms, request_latency_ms when present, steps[{name,
// count, rps, errors, assertions{passed,failed}, status_codes, latency_ms}]), `thresholds`
// (a list of {metric, condition, passed, no_data, observed, observed_text}) and
// `thresholds_failed`. Both lists are empty in a run without scenarios or thresholds.
nlohmann::json ToJson(const Summary& s);

}  // namespace volley::output
