// The push outputs of a run: `outputs:` in the plan and --out on the command line.
#include <cstdio>

#include "volley/common/env.h"
#include "volley/common/problems.h"
#include "volley/output/cloud_output.h"
#include "volley/output/otlp_output.h"
#include "volley/output/prometheus_rw_output.h"
#include "volley/plan/plan_check.h"

namespace volley::plan {
namespace {

Result<std::unique_ptr<output::Output>> CreateOne(const config::OutputSpec& spec,
                                                  const std::map<std::string, std::string>& env,
                                                  const output::OutputContext& context) {
  if (spec.type == "cloud") {
    auto o = output::CloudOutput::Create(spec.url, spec.options, env, context);
    if (!o) return tl::unexpected(o.error());
    return std::unique_ptr<output::Output>(std::move(*o));
  }
  if (spec.type == "otlp") {
    auto o = output::OtlpOutput::Create(spec.url, spec.options, env, context);
    if (!o) return tl::unexpected(o.error());
    for (const auto& w : (*o)->settings().warnings) {
      fprintf(stderr, "volley: warning: otlp: %s\n", w.c_str());
    }
    return std::unique_ptr<output::Output>(std::move(*o));
  }
  if (spec.type == "prometheus-rw") {
    auto o = output::PrometheusRwOutput::Create(spec.url, spec.options, env, context);
    if (!o) return tl::unexpected(o.error());
    return std::unique_ptr<output::Output>(std::move(*o));
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown output type '" + spec.type + "' (use cloud, otlp or prometheus-rw)");
}

}  // namespace

Result<std::vector<std::unique_ptr<output::Output>>> CreateOutputs(
    const config::TestPlan& plan, const output::OutputContext& context) {
  const auto env =
      ProcessEnvMap();  // outputs read K6_CLOUD_*, VOLLEY_CLOUD_*, OTEL_*, K6_PROMETHEUS_RW_*
  std::vector<std::unique_ptr<output::Output>> outputs;
  Problems problems;
  for (const config::OutputSpec& spec : plan.outputs) {
    auto o = CreateOne(spec, env, context);
    if (o) {
      outputs.push_back(std::move(*o));
    } else {
      problems.AddAll(o.error(), spec.origin + ": ");
    }
  }
  if (!problems.empty()) return tl::unexpected(problems.ToError());
  return outputs;
}

Result<void> CheckOutputs(const config::TestPlan& plan) {
  output::OutputContext context;
  context.run_id = plan.run_id.empty() ? "validate" : plan.run_id;
  auto outputs = CreateOutputs(plan, context);
  if (!outputs) return tl::unexpected(outputs.error());
  return {};
}

}  // namespace volley::plan
