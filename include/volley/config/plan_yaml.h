// Loading a YAML test plan (the format of specs/standalone-compat.md) into a TestPlan.
#pragma once

#include <string>
#include <string_view>

#include "volley/common/problems.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// Parses `text` (named `file` in messages) over the defaults of TestPlan. Every problem is
// reported, one per line, as "file:line:column: path: message"; unknown keys are errors
// with a suggestion when a known key is close.
//
// Scenarios go to TestPlan::scenarios (paths joined to the base URL's path; data-file paths
// made relative to the plan's directory); `thresholds:` and `outputs:` are kept as written,
// with their origins, for the modules that own them to check (see cli's validation). What
// only the system can check (data files exist, variables are defined, regular expressions
// compile) is checked by the engine before the run.
Result<TestPlan> ParsePlanYaml(std::string_view text, const std::string& file);

// ParsePlanYaml for tools that report every problem at once (`volley validate`): the plan
// holds whatever could be read, even when there are problems, so that the checks of later
// stages (scenarios, thresholds) can run on it too.
struct PlanRead {
  TestPlan plan;
  bool structured = false;  // the text was YAML with a mapping at the top
  Problems problems;        // each positioned; empty when the plan is valid
};
PlanRead ReadPlanYaml(std::string_view text, const std::string& file);

// Reads and parses a file; errors name the path.
Result<TestPlan> LoadPlanFile(const std::string& path);

}  // namespace volley::config
