// Everything checked of a plan before a test starts, shared by `validate`, `run` and the
// node's POST /config, so all three refuse a bad plan with the same messages.
#include "plan_check.h"

#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/threshold.h"

namespace volley::cli {
namespace {

void Append(std::string& all, const std::string& more) {
  if (more.empty()) return;
  all += (all.empty() ? "" : "\n") + more;
}

// Prefixes every line of `message` with `origin: `.
std::string Prefixed(const std::string& origin, const std::string& message) {
  std::string out;
  size_t start = 0;
  while (start <= message.size()) {
    const size_t nl = message.find('\n', start);
    Append(out, origin + ": " + message.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<metrics::CompiledThreshold>> CompileThresholds(const config::TestPlan& plan) {
  std::vector<metrics::CompiledThreshold> out;
  std::string problems;
  for (const config::Threshold& t : plan.thresholds) {
    auto c = metrics::CompileThreshold(t.metric, t.conditions);
    if (c) {
      out.push_back(std::move(*c));
    } else {
      Append(problems, Prefixed(t.origin, c.error().message));
    }
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return out;
}

Result<void> CheckPlan(const config::TestPlan& plan, bool whole_plan) {
  std::string problems;
  if (whole_plan) {
    if (auto r = config::Validate(plan); !r) Append(problems, r.error().message);
  }
  if (auto r = engine::CheckScenarios(plan); !r) Append(problems, r.error().message);
  if (auto r = CompileThresholds(plan); !r) Append(problems, r.error().message);
  if (auto r = CheckOutputs(plan); !r) Append(problems, r.error().message);
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return {};
}

}  // namespace volley::cli
