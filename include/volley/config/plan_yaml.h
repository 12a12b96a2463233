// Loading a YAML test plan (the format of specs/standalone-compat.md) into a TestPlan.
#pragma once

#include <string>
#include <string_view>

#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// Parses `text` (named `file` in messages) over the defaults of TestPlan. Every problem is
// reported, one per line, as "file:line:column: path: message"; unknown keys are errors
// with a suggestion when a known key is close.
//
// This build runs single-request plans: `scenarios` may hold one scenario with one step
// (its request becomes the plan's request). Multi-step scenarios, extraction, assertions,
// think time and data files are recognised and refused with a clear message.
Result<TestPlan> ParsePlanYaml(std::string_view text, const std::string& file);

// Reads and parses a file; errors name the path.
Result<TestPlan> LoadPlanFile(const std::string& path);

}  // namespace volley::config
