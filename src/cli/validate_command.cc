// `volley validate plan.yaml`: every problem of a plan, positioned, without running it.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "volley/common/problems.h"
#include "volley/config/env.h"
#include "volley/config/plan_yaml.h"
#include "volley/plan/plan_check.h"

namespace volley::cli {
namespace {

size_t CountSteps(const config::TestPlan& plan) {
  size_t n = 0;
  for (const auto& s : plan.scenarios) n += s.steps.size();
  return n;
}

}  // namespace

Runner RegisterValidate(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto no_env = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a YAML test plan and print every problem as file:line:column");
  cmd->add_option("plan", *path, "The YAML test plan")->required();
  cmd->add_flag("--no-env", *no_env, "Check the file alone, without environment overrides");
  cmd->footer(
      "\nChecks the YAML (types, unknown keys, durations, rates), the scenarios (regular\n"
      "expressions, JSON paths, ${variables} that no extraction or data column sets, data\n"
      "files), thresholds and outputs. Nothing is sent. Exit code 0 if the plan is valid,\n"
      "2 otherwise, with one line per problem on stderr.\n");
  return [path, no_env]() -> int {
    std::ifstream in(*path);
    if (!in) {
      fprintf(stderr, "%s: cannot open the plan file\n", path->c_str());
      return kExitConfig;
    }
    std::stringstream text;
    text << in.rdbuf();
    config::PlanRead read = config::ReadPlanYaml(text.str(), *path);
    Problems problems = read.problems;
    if (read.structured) {
      // Later stages run on whatever was read, so one pass shows every problem. The
      // whole-plan checks repeat what the YAML reader found, so they run on a clean read.
      if (!*no_env) {
        if (auto r = config::ApplyEnv(config::ProcessEnv(), read.plan); !r) {
          problems.AddAll(r.error());
        }
      }
      if (auto r = plan::CheckPlan(read.plan, /*whole_plan=*/problems.empty()); !r) {
        problems.AddAll(r.error());
      }
    }
    if (!problems.empty()) {
      for (const std::string& line : problems.lines()) fprintf(stderr, "%s\n", line.c_str());
      return kExitConfig;
    }
    const config::TestPlan& plan = read.plan;
    printf("%s: valid (%zu scenarios, %zu steps, %zu thresholds, %zu outputs)\n", path->c_str(),
           plan.scenarios.size(), CountSteps(plan), plan.thresholds.size(), plan.outputs.size());
    return kExitOk;
  };
}

}  // namespace volley::cli
