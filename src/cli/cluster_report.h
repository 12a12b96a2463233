// The final report of a cluster run (issue 14 §5, contracts §3), computed from the Raft log
// alone: every participant's NodeDone checkpoint merged exactly (cluster::Aggregator), so
// whichever node answers GET /cluster/report gives the same report. Pure functions: call
// them from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "volley/cluster/run_state.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::cli {

struct ClusterReport {
  std::string run_id;
  bool partial = false;  // a participant was lost (its share is missing or incomplete)
  int exit_code = 0;     // 0, or 99 (kExitThresholds) when a threshold failed
  std::string text;      // the report printed by `volley run --cluster`
  // The --summary-export JSON of the global result (output::ToJson) plus run_id, partial,
  // lost_nodes [ids], regions [{region, nodes, requests, rps, errors, latency_ms{p50, p95,
  // p99, max}, degraded_s}] and nodes [{node_id, region, outcome, snapshot, requests, rps,
  // errors, latency_ms, degraded_s}].
  nlohmann::json summary;
};

// The report of `run`. `plan` is the run's plan as the nodes parsed it (for thresholds and
// the report's header), or nullptr when it could not be parsed (then no thresholds are
// evaluated and the report says so). Thresholds are evaluated on the merged global
// snapshot; one whose selector names a region (`http_req_duration{region:eu}`) on that
// region's merged series. A participant without a checkpoint counts nothing. REQUIRES:
// run.phase == kEnded (the outcomes are all known).
ClusterReport BuildClusterReport(const cluster::RunRecord& run, const config::TestPlan* plan);

// The body of GET /cluster/report: {run_id, partial, exit_code, text, summary}.
nlohmann::json ClusterReportJson(const ClusterReport& report);

}  // namespace volley::cli
