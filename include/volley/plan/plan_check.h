// Checks of a whole plan before a test starts, and the creation of its push outputs:
// shared by `volley validate`, `volley run`, the node's POST /config and the cluster's
// leader, so all refuse a bad plan with the same positioned messages. Module `plan`:
// depends on output, engine, config, metrics and common; used by cli and cluster.
#pragma once

#include <memory>
#include <vector>

#include "volley/common/result.h"
#include "volley/config/test_plan.h"
#include "volley/metrics/threshold.h"
#include "volley/output/output.h"

namespace volley::plan {

// Every problem of `plan` that can be known without the network, one per line, as
// "file:line:column: path: message" where the plan gives a position: the plan as a whole
// (config::Validate), its scenarios (engine::CheckScenarios: data files, expressions,
// variables), its thresholds and its outputs. kInvalidArgument. Without `whole_plan`, the
// plan-wide checks (config::Validate) are skipped: for a plan whose YAML already had
// problems, whose plan-wide figures may be defaults.
Result<void> CheckPlan(const config::TestPlan& plan, bool whole_plan = true);

// The plan's thresholds, compiled; errors prefixed with each threshold's origin.
Result<std::vector<metrics::CompiledThreshold>> CompileThresholds(const config::TestPlan& plan);

// The outputs of `plan` (`outputs:` entries and --out), created but not
// started. CheckOutputs creates them with a throw-away context to check their options.
Result<void> CheckOutputs(const config::TestPlan& plan);
Result<std::vector<std::unique_ptr<output::Output>>> CreateOutputs(
    const config::TestPlan& plan, const output::OutputContext& context);

}  // namespace volley::plan
