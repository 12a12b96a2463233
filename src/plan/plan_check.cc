// Everything checked of a plan before a test starts, shared by `validate`, `run` and the
// node's POST /config, so all three refuse a bad plan with the same messages.
#include "volley/plan/plan_check.h"

#include "volley/common/problems.h"
#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/threshold.h"

namespace volley::plan {

Result<std::vector<metrics::CompiledThreshold>> CompileThresholds(const config::TestPlan& plan) {
  std::vector<metrics::CompiledThreshold> out;
  Problems problems;
  for (const config::Threshold& t : plan.thresholds) {
    auto c = metrics::CompileThreshold(t.metric, t.conditions);
    if (c) {
      out.push_back(std::move(*c));
    } else {
      problems.AddAll(c.error(), t.origin + ": ");
    }
  }
  if (!problems.empty()) return tl::unexpected(problems.ToError());
  return out;
}

Result<void> CheckPlan(const config::TestPlan& plan, bool whole_plan) {
  Problems problems;
  if (whole_plan) {
    if (auto r = config::Validate(plan); !r) problems.AddAll(r.error());
  }
  if (auto r = engine::CheckScenarios(plan); !r) problems.AddAll(r.error());
  if (auto r = CompileThresholds(plan); !r) problems.AddAll(r.error());
  if (auto r = CheckOutputs(plan); !r) problems.AddAll(r.error());
  return problems.Done();
}

}  // namespace volley::plan
