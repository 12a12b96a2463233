// Internal to output: the scenario/step and threshold parts of the summary and report
// (summary.h), and the helpers report.cc and summary.cc share with them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "volley/metrics/snapshot.h"
#include "volley/output/summary.h"

namespace volley::output {

// Reads every scenario_* series of `snap` into one ScenarioSummary per scenario label
// value, with its steps. Order: `plan_order` first (scenarios and, within each, steps as
// the plan lists them), then any others alphabetically. Empty when there is no scenario
// series (single-request mode). `duration_s` divides counts into rates.
std::vector<ScenarioSummary> SummarizeScenarios(const metrics::Snapshot& snap, double duration_s,
                                                const PlanOrder& plan_order);

// Appends the per-scenario tables (nothing when `scenarios` is empty).
void AppendScenarioReport(std::string& out, const std::vector<ScenarioSummary>& scenarios);
// Appends the thresholds section (nothing when `results` is empty).
void AppendThresholdReport(std::string& out, const std::vector<metrics::ThresholdResult>& results);

nlohmann::json ScenariosJson(const std::vector<ScenarioSummary>& scenarios);
nlohmann::json ThresholdsJson(const std::vector<metrics::ThresholdResult>& results);

// The value of label `name` of `key`, or nullptr. Series may carry other labels (node_id,
// region, ...) that sort before it, so it is looked up by name.
const std::string* FindLabel(const metrics::SeriesKey& key, std::string_view name);
// A counter's value as a count (rounded; 0 if negative).
uint64_t CounterValue(const metrics::Counter& c);

// {count, min, mean, p50, p90, p95, p99, p999, max} in milliseconds (µs precision).
nlohmann::json LatencyJson(const LatencySummary& l);
// Right-aligns `s` in `width` columns, counting UTF-8 characters (µ is two bytes).
std::string PadLeft(const std::string& s, size_t width);

}  // namespace volley::output
